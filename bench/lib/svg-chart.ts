/**
 * A small SVG line-chart writer for the benchmark's figures: panels side by side, each
 * with categorical x positions (the values of d), a logarithmic y axis, and one line per
 * series. No dependencies; the output is a plain SVG 1.1 document.
 */

/** One line of a panel: a value per x position, or null where there is none. */
export interface Series {
  readonly name: string;
  readonly color: string;
  /** SVG stroke-dasharray, e.g. '4 3'; solid when absent. */
  readonly dash?: string;
  readonly values: readonly (number | null)[];
}

/** One chart panel. */
export interface Panel {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xTicks: readonly string[];
  readonly series: readonly Series[];
}

const W = 520;
const H = 360;
const M = { left: 70, right: 20, top: 40, bottom: 50 };

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function fmt(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

function panelSvg(p: Panel, x0: number): string {
  const values = p.series.flatMap((s) => s.values.filter((v): v is number => v !== null && v > 0));
  const lo = Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...values, 10)));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const xs = (i: number): number =>
    x0 + M.left + (p.xTicks.length === 1 ? plotW / 2 : (i * plotW) / (p.xTicks.length - 1));
  const ys = (v: number): number =>
    M.top + plotH - ((Math.log10(v) - lo) / Math.max(1, hi - lo)) * plotH;
  const out: string[] = [];
  out.push(
    `<text x="${x0 + W / 2}" y="22" text-anchor="middle" font-size="15">${esc(p.title)}</text>`,
  );
  for (let e = lo; e <= hi; e++) {
    const y = ys(10 ** e);
    out.push(
      `<line x1="${x0 + M.left}" x2="${x0 + W - M.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${x0 + M.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">` +
        `${fmt(10 ** e)}</text>`,
    );
  }
  p.xTicks.forEach((t, i) => {
    out.push(
      `<text x="${xs(i)}" y="${H - M.bottom + 18}" text-anchor="middle" font-size="11">` +
        `${esc(t)}</text>`,
    );
  });
  out.push(
    `<text x="${x0 + M.left + plotW / 2}" y="${H - 12}" text-anchor="middle" font-size="12">` +
      `${esc(p.xLabel)}</text>`,
    `<text transform="translate(${x0 + 16},${M.top + plotH / 2}) rotate(-90)" ` +
      `text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`,
  );
  for (const s of p.series) {
    const pts = s.values
      .map((v, i) => (v !== null && v > 0 ? `${xs(i).toFixed(1)},${ys(v).toFixed(1)}` : null))
      .filter((q): q is string => q !== null);
    if (pts.length === 0) continue;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="1.8"${dash} ` +
        `points="${pts.join(' ')}"><title>${esc(s.name)}</title></polyline>`,
    );
  }
  return out.join('\n');
}

/**
 * An SVG document with `panels` side by side and one legend under them listing every
 * distinct series name with its colour and dash.
 */
export function renderChart(panels: readonly Panel[]): string {
  const legend = new Map<string, Series>();
  for (const p of panels) for (const s of p.series) if (!legend.has(s.name)) legend.set(s.name, s);
  const columns = 3;
  const rows = Math.ceil(legend.size / columns);
  const width = W * panels.length;
  const height = H + 20 + rows * 18;
  const body = panels.map((p, i) => panelSvg(p, i * W));
  [...legend.values()].forEach((s, i) => {
    const x = 20 + (i % columns) * (width / columns);
    const y = H + 16 + Math.floor(i / columns) * 18;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    body.push(
      `<line x1="${x}" x2="${x + 28}" y1="${y}" y2="${y}" stroke="${s.color}" ` +
        `stroke-width="2"${dash}/>`,
      `<text x="${x + 34}" y="${y + 4}" font-size="11">${esc(s.name)}</text>`,
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${body.join('\n')}\n</svg>\n`
  );
}
