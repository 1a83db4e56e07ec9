import { describe, expect, it } from '@jest/globals';
import { barChart, barWidth } from '../../../src/ui/charts.js';
import { html } from '../../../src/ui/html.js';

describe('page markup', () => {
  it('escapes every interpolated value, keeps nested markup, drops empty values', () => {
    const name = '<script>alert("x")</script> & \'co\'';
    // prettier-ignore
    const out = html`<p title="${name}">${name}${html`<b>${1}</b>`}${[html`<i>a</i>`, '<u>']}${undefined}${false}</p>`;
    expect(out.value).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;<b>1</b><i>a</i>&lt;u&gt;</p>',
    );
  });

  it('scales bars to the largest value, keeps zero at zero and a small value visible', () => {
    expect(barWidth(50, 100, 300)).toBe(150);
    expect(barWidth(100, 100, 300)).toBe(300);
    expect(barWidth(0, 100, 300)).toBe(0);
    expect(barWidth(1, 10000, 300)).toBe(2);
    expect(barWidth(3, 0, 300)).toBe(0);
  });

  it('draws a labelled chart with its numbers as a table', () => {
    const chart = barChart('h', 'Huddles', [
      { label: 'Held', value: 4 },
      { label: 'Actions <closed>', value: 2 },
    ])
      .value.replace(/\s+/g, ' ')
      .replace(/> </g, '><');
    expect(chart).toContain('role="img"');
    expect(chart).toContain('<title id="h-svg-title"> Huddles: Held 4, Actions &lt;closed&gt; 2 </title>');
    expect(chart).toContain('<td>Actions &lt;closed&gt;</td><td>2</td>');
    expect(chart.match(/<rect /g)).toHaveLength(2);
  });
});
