/**
 * The terminal progress bar of training (fit's `progressBar` option and `rnnblas train`):
 * steps, loss, throughput and ETA on one line sized to the terminal, with log lines
 * (epoch summaries, samples) printed above it. Built on cli-progress.
 */
import cliProgress from 'cli-progress';
import { typeError } from '../errors.js';
import { checkBool, checkOptions } from '../validate.js';

/** Options of a progress bar (fit's `progressBar: { ... }`). */
export interface ProgressBarOptions {
  /** Where to draw (default `process.stderr`). */
  stream?: NodeJS.WritableStream;
  /** Draw even when the stream is not a terminal (default false: no bar off a TTY). */
  force?: boolean;
}

/** @internal Checks fit's progressBar option; null when no bar is wanted. */
export function checkProgressBar(name: string, v: unknown): ProgressBarOptions | null {
  if (v === undefined || v === false) return null;
  if (v === true) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw typeError(name, 'a boolean or an options object { stream, force }', v);
  const o = checkOptions<ProgressBarOptions>(name, v, ['stream', 'force']);
  if (o.stream !== undefined && (o.stream === null || typeof (o.stream as { write?: unknown }).write !== 'function')) throw typeError(`${name}.stream`, 'a writable stream', o.stream);
  return { ...(o.stream !== undefined ? { stream: o.stream } : {}), force: checkBool(`${name}.force`, o.force ?? false) };
}

/**
 * The bar's format for a terminal `columns` wide: every field at its widest fits in one
 * line (cli-progress cuts longer lines at the edge, in the middle of a number), the bar
 * shrinking first, then the rate field going. Fields: `{bar}`, `{value}`, `{total}`,
 * `{loss}`, `{rate}`, `{eta_formatted}`.
 *
 * @param columns - Terminal width.
 * @param totalSteps - The bar's total (sets the width of the step fields).
 * @param rateUnit - The throughput's unit, e.g. 'ex/s' or 'chars/s'.
 * @returns The cli-progress format string and bar width (0: no bar).
 */
export function progressLayout(columns: number, totalSteps: number, rateUnit = 'ex/s'): { format: string; barsize: number } {
  const n = '9'.repeat(String(totalSteps).length);
  // Widest values: step and total, loss "99.999", rate 9 digits, ETA "99h59m" (cli-progress's longest form).
  const widest = (format: string, barsize: number): number =>
    format.replace('{bar}', '#'.repeat(barsize)).replace('{value}', n).replace('{total}', n).replace('{loss}', '99.999').replace('{rate}', '999999999').replace('{eta_formatted}', '99h59m').length;
  const room = columns - 1; // never the last column (some terminals wrap there)
  const withBar = ` {bar} step {value}/{total} | loss {loss} | {rate} ${rateUnit} | ETA {eta_formatted}`;
  const barsize = Math.min(40, room - widest(withBar, 0));
  if (barsize >= 10) return { format: withBar, barsize };
  const candidates = [`step {value}/{total} | loss {loss} | {rate} ${rateUnit} | ETA {eta_formatted}`, 'step {value}/{total} | loss {loss} | ETA {eta_formatted}', 'step {value} | loss {loss}'];
  return { format: candidates.find((f) => widest(f, 0) <= room) ?? '{value} {loss}', barsize: 0 };
}

/** Options of {@link TrainingProgressBar}. */
export interface TrainingProgressBarOptions extends ProgressBarOptions {
  /** The value the bar starts at (default 0, e.g. the step a resumed run starts from). */
  start?: number;
  /** The throughput's unit (default 'ex/s'). */
  rateUnit?: string;
}

/**
 * A one-line training progress bar. It draws only on a terminal (or with `force`);
 * otherwise `active` is false and `update` does nothing, while `log` still writes its line
 * to the stream.
 */
export class TrainingProgressBar {
  /** Whether the bar is drawn. */
  readonly active: boolean;
  readonly #stream: NodeJS.WritableStream;
  readonly #multi: cliProgress.MultiBar | null;
  readonly #bar: cliProgress.SingleBar | null;

  /**
   * @param total - The value at which the bar is full (e.g. the total number of steps).
   * @param options - `stream`, `force`, `start`, `rateUnit`.
   */
  constructor(total: number, options: TrainingProgressBarOptions = {}) {
    this.#stream = options.stream ?? process.stderr;
    const tty = (this.#stream as { isTTY?: boolean }).isTTY === true;
    this.active = tty || options.force === true;
    if (!this.active) {
      this.#multi = null;
      this.#bar = null;
      return;
    }
    const columns = (this.#stream as { columns?: number }).columns ?? 80;
    const layout = progressLayout(columns, total, options.rateUnit ?? 'ex/s');
    this.#multi = new cliProgress.MultiBar(
      { format: layout.format, barsize: layout.barsize, hideCursor: tty, clearOnComplete: false, etaBuffer: 50, stream: this.#stream, noTTYOutput: !tty },
      cliProgress.Presets.shades_classic,
    );
    this.#bar = this.#multi.create(total, options.start ?? 0, { loss: '-', rate: '-' });
  }

  /**
   * Moves the bar.
   * @param value - Steps done.
   * @param loss - The loss to show (three decimals).
   * @param rate - Throughput in the bar's unit.
   */
  update(value: number, loss: number, rate: number): void {
    this.#bar?.update(value, { loss: loss.toFixed(3), rate: Number.isFinite(rate) ? Math.round(rate).toString() : '-' });
  }

  /** Changes the total (fit's estimate can change with TBPTT and variable lengths). */
  setTotal(total: number): void {
    this.#bar?.setTotal(total);
  }

  /** Prints a line above the bar (or to the stream when the bar is not drawn). */
  log(line: string): void {
    if (this.#multi) {
      this.#multi.log(line + '\n');
      // cli-progress prints logged lines at its next render (and drops them at stop): render now.
      this.#multi.update();
    } else {
      this.#stream.write(line + '\n');
    }
  }

  /** Stops drawing (the last state stays on screen). */
  stop(): void {
    this.#multi?.stop();
  }
}
