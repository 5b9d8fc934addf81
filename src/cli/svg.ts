/**
 * A hand-written SVG plot for `rnnblas forecast` and the demos: panels of line
 * series stacked vertically (each with its own height, x-axis labels such as
 * dates, shaded ranges, and a linear or logarithmic y axis).
 */

/** A named line series. */
export interface Line {
  /** Legend label. */
  label: string;
  /** Y values (x = index). */
  values: ArrayLike<number>;
  /** Stroke colour. */
  color: string;
  /** Dashed stroke. */
  dashed?: boolean;
  /** Stroke width (default 1.5). */
  width?: number;
  /** X position of the first value (default 0). */
  start?: number;
}

/** One panel of the figure. */
export interface Panel {
  /** Panel title. */
  title: string;
  /** X-axis label. */
  xLabel: string;
  /** Series. */
  lines: Line[];
  /** Offset added to x indices for tick labels (when there is no xTick). */
  xOffset?: number;
  /** Tick label of x position i (e.g. a date). */
  xTick?: (i: number) => string;
  /** Panel height in pixels (default: renderSvg's panelHeight). */
  height?: number;
  /** Shaded x ranges [from, to, colour] behind the lines. */
  shade?: [number, number, string][];
  /** Number of x positions (default: the furthest line end). */
  xCount?: number;
  /**
   * Logarithmic y axis (base 10, ticks at powers of ten). Values that are not finite and
   * positive are left out of the line (a gap is bridged); with yMin, smaller values are drawn
   * at yMin.
   */
  yLog?: boolean;
  /** Lower end of a log axis: smaller positive values (and zeros) are drawn at it. */
  yMin?: number;
  /** Y-axis label, written vertically at the left edge. */
  yLabel?: string;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round "nice" tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Powers of ten covering [lo, hi] (log10 units), every 1, 2, 5, 10, ... decades so that at most ~count show. */
function logTicks(lo: number, hi: number, count: number): number[] {
  const a = Math.ceil(lo - 1e-9);
  const b = Math.floor(hi + 1e-9);
  if (b < a) return [];
  const need = (b - a + 1) / count;
  const every = [1, 2, 5, 10, 20, 50, 100].find((e) => e >= need) ?? Math.ceil(need);
  const out: number[] = [];
  for (let k = Math.ceil(a / every) * every; k <= b; k += every) out.push(k);
  return out;
}

/** A power of ten as a tick label: 1, 10, 100, 1000, 0.1, 0.01, 0.001, then 1e4, 1e-4 ... */
function fmtPow10(k: number): string {
  return k >= 0 && k <= 3 ? String(10 ** k) : k < 0 && k >= -3 ? (10 ** k).toFixed(-k) : `1e${k}`;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1);
  return Number(v.toPrecision(4)).toString();
}

function panelSvg(p: Panel, x0: number, y0: number, w: number, h: number): string {
  const left = 60;
  const right = 210;
  const top = 28;
  const bottom = 36;
  const pw = w - left - right;
  const ph = h - top - bottom;
  let n = 0;
  let lo = Infinity;
  let hi = -Infinity;
  // On a log axis every value is drawn at log10(value) (NaN: left out).
  const floor = p.yLog && p.yMin !== undefined && p.yMin > 0 ? Math.log10(p.yMin) : -Infinity;
  const tf = (v: number): number => (!p.yLog ? v : v > 0 && Number.isFinite(v) ? Math.max(floor, Math.log10(v)) : v === 0 && floor > -Infinity ? floor : NaN);
  for (const l of p.lines) {
    n = Math.max(n, (l.start ?? 0) + l.values.length);
    for (let i = 0; i < l.values.length; i++) {
      const v = tf(l.values[i]);
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi === lo) {
    hi += 1;
    lo -= 1;
  }
  if (p.xCount !== undefined) n = p.xCount;
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const xs = (i: number): number => x0 + left + (n > 1 ? (i / (n - 1)) * pw : pw / 2);
  const ys = (v: number): number => y0 + top + (1 - (v - lo) / (hi - lo)) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${x0 + left}" y="${y0 + 18}" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  parts.push(`<rect x="${x0 + left}" y="${y0 + top}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#999"/>`);
  for (const [a, b, color] of p.shade ?? []) {
    const xa = xs(Math.max(0, a));
    const xb = xs(Math.min(n - 1, b));
    if (xb > xa) parts.push(`<rect x="${xa.toFixed(1)}" y="${y0 + top}" width="${(xb - xa).toFixed(1)}" height="${ph}" fill="${color}"/>`);
  }
  for (const t of p.yLog ? logTicks(lo, hi, 10) : ticks(lo, hi, 5)) {
    const y = ys(t).toFixed(1);
    parts.push(`<line x1="${x0 + left}" y1="${y}" x2="${x0 + left + pw}" y2="${y}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${x0 + left - 6}" y="${y}" font-size="11" text-anchor="end" dominant-baseline="middle">${p.yLog ? fmtPow10(t) : fmt(t)}</text>`);
  }
  if (p.yLabel !== undefined) {
    const cy = y0 + top + ph / 2;
    parts.push(`<text x="${x0 + 14}" y="${cy}" font-size="12" text-anchor="middle" transform="rotate(-90 ${x0 + 14} ${cy})">${esc(p.yLabel)}</text>`);
  }
  const off = p.xOffset ?? 0;
  // Long labels (dates) get fewer ticks.
  const sample = p.xTick ? p.xTick(0) : String(off);
  for (const t of ticks(0, Math.max(1, n - 1), sample.length > 6 ? 6 : 8)) {
    if (!Number.isInteger(t)) continue;
    const x = xs(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${y0 + top + ph}" x2="${x}" y2="${y0 + top + ph + 4}" stroke="#999"/>`);
    parts.push(`<text x="${x}" y="${y0 + top + ph + 16}" font-size="11" text-anchor="middle">${esc(p.xTick ? p.xTick(t) : String(t + off))}</text>`);
  }
  parts.push(`<text x="${x0 + left + pw / 2}" y="${y0 + h - 4}" font-size="12" text-anchor="middle">${esc(p.xLabel)}</text>`);
  p.lines.forEach((l, k) => {
    const pts: string[] = [];
    const st = l.start ?? 0;
    for (let i = 0; i < l.values.length; i++) {
      const v = tf(l.values[i]);
      if (Number.isFinite(v)) pts.push(`${xs(st + i).toFixed(1)},${ys(v).toFixed(1)}`);
    }
    const dash = l.dashed ? ' stroke-dasharray="5,4"' : '';
    if (pts.length === 1) {
      const [cx, cy] = pts[0].split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${l.color}"/>`);
    } else {
      parts.push(`<polyline fill="none" stroke="${l.color}" stroke-width="${l.width ?? 1.5}"${dash} points="${pts.join(' ')}"/>`);
    }
    const ly = y0 + top + 12 + k * 18;
    const lx = x0 + left + pw + 12;
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${l.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 28}" y="${ly}" font-size="12" dominant-baseline="middle">${esc(l.label)}</text>`);
  });
  return parts.join('\n');
}

/** Renders panels stacked vertically into one SVG document. */
export function renderSvg(title: string, panels: Panel[], width = 1100, panelHeight = 300): string {
  const head = 36;
  const heights = panels.map((p) => p.height ?? panelHeight);
  const height = head + heights.reduce((a, b) => a + b, 0);
  let y = head;
  const body = panels
    .map((p, i) => {
      const svg = panelSvg(p, 0, y, width, heights[i]);
      y += heights[i];
      return svg;
    })
    .join('\n');
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" font-size="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    body,
    `</svg>`,
    '',
  ].join('\n');
}
