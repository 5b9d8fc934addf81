/**
 * A realistic synthetic daily series for `rnnblas forecast` (its built-in
 * data) and the tests: a demand-like signal over several years with a weekly
 * profile, a yearly cycle (winter peak and a smaller summer bump), a slow
 * trend, holiday dips, a temperature covariate that moves it, and
 * autocorrelated noise — the structure that makes "same day last week" and
 * "same day last year" strong baselines on real data.
 */
import { Rng } from '../../random.js';

/** A generated daily series. */
export interface DailySeries {
  /** ISO dates (YYYY-MM-DD), one per day. */
  dates: string[];
  /** The series to forecast (e.g. daily demand). */
  demand: Float64Array;
  /** Daily mean temperature (°C), a covariate. */
  temperature: Float64Array;
}

const DAY_MS = 86_400_000;
/** Weekly profile, Monday first: weekdays high, Friday peak, weekend low. */
const WEEKLY = [1.0, 1.03, 1.04, 1.05, 1.1, 0.84, 0.74];

/**
 * Generates the series deterministically.
 *
 * @param days - Number of days (default 1461: four years).
 * @param seed - Noise seed (default 7).
 * @param start - First date (default 2021-01-01).
 * @returns Dates, the demand series and the temperature covariate.
 */
export function dailySeries(days = 1461, seed = 7, start = '2021-01-01'): DailySeries {
  const rng = new Rng(seed);
  const t0 = Date.parse(`${start}T00:00:00Z`);
  const dates: string[] = [];
  const demand = new Float64Array(days);
  const temperature = new Float64Array(days);
  let tempNoise = 0;
  let noise = 0;
  for (let i = 0; i < days; i++) {
    const d = new Date(t0 + i * DAY_MS);
    dates.push(d.toISOString().slice(0, 10));
    const doy = (d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS;
    const year = 2 * Math.PI * (doy / 365.25);
    tempNoise = 0.8 * tempNoise + 1.6 * rng.normal();
    temperature[i] = 11 - 9 * Math.cos(year - 0.35) + tempNoise;
    // Heating below 15 °C and cooling above 22 °C raise demand.
    const weather = 1.6 * Math.max(0, 15 - temperature[i]) + 2.2 * Math.max(0, temperature[i] - 22);
    const level = 100 + 0.012 * i + 4 * Math.cos(2 * year) + weather;
    const md = d.toISOString().slice(5, 10);
    const holiday = md === '01-01' || md === '12-25' || md === '12-26' ? 0.6 : md >= '12-24' && md <= '12-31' ? 0.85 : 1;
    const dow = (d.getUTCDay() + 6) % 7;
    noise = 0.5 * noise + 2.5 * rng.normal();
    demand[i] = level * WEEKLY[dow] * holiday + noise;
  }
  return { dates, demand, temperature };
}

/** The series as CSV text: `date,demand,temperature`. */
export function dailySeriesCsv(s: DailySeries): string {
  const rows = ['date,demand,temperature'];
  for (let i = 0; i < s.dates.length; i++) rows.push(`${s.dates[i]},${s.demand[i].toFixed(2)},${s.temperature[i].toFixed(1)}`);
  return rows.join('\n') + '\n';
}
