import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { HubMetrics } from '../../../src/metrics/hub-metrics.js';
import { REPO_ROOT } from '../../support/test-env.js';

const OPS = path.join(REPO_ROOT, 'docs/ops');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: { severity?: string };
  annotations?: { summary?: string };
}
const rules = (
  parse(readFileSync(path.join(OPS, 'prometheus-alerts.yaml'), 'utf8')) as {
    groups: Array<{ rules: Rule[] }>;
  }
).groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(readFileSync(path.join(OPS, 'grafana-dashboard.json'), 'utf8')) as {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
};

/** The metric names an expression reads (histogram series by their base name). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:hub|process|nodejs)_[a-z_]+)/g)].map((m) =>
    m[1]!.replace(/_(bucket|count|sum)$/, ''),
  );
}

describe('docs/ops: the alert rules and the Grafana dashboard', () => {
  const metrics = new HubMetrics([]);

  it('read only metrics the hub exports', async () => {
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    const read = [
      ...rules.map((r) => r.expr),
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ];
    const unknown = read.flatMap(metricsIn).filter((name) => !exported.has(name));
    expect(unknown).toEqual([]);
    expect(read.flatMap(metricsIn).length).toBeGreaterThan(5);
  });

  it('give every alert a window, a severity and a summary', () => {
    for (const rule of rules) {
      expect({
        alert: rule.alert,
        for: Boolean(rule.for),
        severity: rule.labels?.severity,
        summary: Boolean(rule.annotations?.summary),
      }).toEqual({
        alert: rule.alert,
        for: true,
        severity: expect.stringMatching(/^(page|ticket)$/),
        summary: true,
      });
    }
  });
});
