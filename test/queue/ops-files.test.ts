import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { register } from 'prom-client';
import '../../app/src/queue/email-metrics.js';
import '../../app/src/smtp/smtp-metrics.js';
import '../../app/src/http/api-metrics.js';
import '../../app/src/http/pool-metrics.js';
import '../../app/src/webhooks/webhook-metrics.js';

const ops = (name: string) => readFile(new URL(`../../ops/${name}`, import.meta.url), 'utf8');

/** Series names in PromQL text, reduced to the metric that defines them. */
function metricNames(promql: string): string[] {
  return [...promql.matchAll(/\bselfmx_[a-z_]+/g)].map(([name]) =>
    name.replace(/_(bucket|count|sum)$/, ''),
  );
}

describe('ops/: Grafana dashboard and Prometheus alert rules', () => {
  it('the dashboard is valid JSON whose every query uses metrics the app exports', async () => {
    const known = new Set((await register.getMetricsAsJSON()).map((metric) => metric.name));
    const dashboard = JSON.parse(await ops('grafana-dashboard.json'));
    const panels = dashboard.panels.filter((panel: { type: string }) => panel.type !== 'row');
    const ids = dashboard.panels.map((panel: { id: number }) => panel.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const used = new Set<string>();
    for (const panel of panels) {
      assert.ok(panel.targets.length > 0, `panel "${panel.title}" has a query`);
      for (const target of panel.targets) {
        for (const name of metricNames(target.expr)) {
          assert.ok(known.has(name), `panel "${panel.title}" uses unknown metric ${name}`);
          used.add(name);
        }
      }
    }
    assert.deepEqual(
      [...known].filter((name) => name.startsWith('selfmx_') && !used.has(name)),
      [],
    );
  });

  it('every alert rule names known metrics and has a severity and a summary', async () => {
    const known = new Set((await register.getMetricsAsJSON()).map((metric) => metric.name));
    const rules = await ops('prometheus-alerts.yml');
    const alerts = rules.split(/\n\s*- alert: /).slice(1);
    assert.ok(alerts.length >= 8);
    for (const alert of alerts) {
      const name = alert.split('\n')[0];
      assert.match(alert, /\n\s+expr: /, `${name} has an expr`);
      assert.match(alert, /\n\s+severity: (critical|warning)\n/, `${name} has a severity`);
      assert.match(alert, /\n\s+summary: /, `${name} has a summary`);
      for (const metric of metricNames(alert)) {
        assert.ok(known.has(metric), `${name} uses unknown metric ${metric}`);
      }
    }
    const alerted = new Set(alerts.flatMap(metricNames));
    for (const metric of [
      'selfmx_emails_delayed_total',
      'selfmx_recipients_suppressed_total',
      'selfmx_webhook_outbox_backlog',
    ]) {
      assert.ok(alerted.has(metric), `an alert rule watches ${metric}`);
    }
    assert.doesNotMatch(rules, /\t/, 'YAML is indented with spaces');
  });
});
