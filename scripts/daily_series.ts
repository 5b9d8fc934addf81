// Writes the synthetic daily series of `rnnblas forecast` as CSV (date,demand,temperature):
//   node --import tsx scripts/daily_series.ts [days] [seed] > daily.csv
import { dailySeries, dailySeriesCsv } from '../src/cli/corpus/daily.js';

const days = Number(process.argv[2] ?? 1461);
const seed = Number(process.argv[3] ?? 7);
process.stdout.write(dailySeriesCsv(dailySeries(days, seed)));
