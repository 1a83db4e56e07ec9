import { html, type Html } from './html.js';

export interface Bar {
  readonly label: string;
  readonly value: number;
}

/** Width in px of a bar for `value` when `max` fills `width` (0 stays 0; a positive value shows). */
export function barWidth(value: number, max: number, width: number): number {
  if (value <= 0 || max <= 0) {
    return 0;
  }
  return Math.max(2, Math.round((value / max) * width));
}

/**
 * A horizontal bar chart as inline SVG, with the same numbers as a table beside it: the SVG is
 * labelled for screen readers, and the table is what they (and a print-out) read.
 */
export function barChart(id: string, title: string, bars: readonly Bar[], unit = ''): Html {
  const labelWidth = 230;
  const plot = 360;
  const row = 26;
  const max = Math.max(0, ...bars.map((b) => b.value));
  const height = Math.max(row, bars.length * row) + 8;
  return html`<figure aria-labelledby="${id}-title">
    <figcaption id="${id}-title"><strong>${title}</strong></figcaption>
    <svg
      role="img"
      aria-labelledby="${id}-svg-title"
      width="${labelWidth + plot + 80}"
      height="${height}"
      viewBox="0 0 ${labelWidth + plot + 80} ${height}"
    >
      <title id="${id}-svg-title">
        ${title}: ${bars.map((b) => `${b.label} ${b.value}${unit}`).join(', ')}
      </title>
      ${bars.map(
        (b, i) =>
          html`<text x="${labelWidth - 6}" y="${i * row + 18}" text-anchor="end">${b.label}</text>
            <rect
              x="${labelWidth}"
              y="${i * row + 5}"
              width="${barWidth(b.value, max, plot)}"
              height="${row - 10}"
              fill="#0b4f8a"
            ></rect>
            <text x="${labelWidth + barWidth(b.value, max, plot) + 6}" y="${i * row + 18}"
              >${b.value}${unit}</text
            >`,
      )}
    </svg>
    <table>
      <caption class="muted">
        ${title} (data)
      </caption>
      <thead>
        <tr>
          <th scope="col">What</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        ${bars.map(
          (b) =>
            html`<tr>
              <td>${b.label}</td>
              <td>${b.value}${unit}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </figure>`;
}
