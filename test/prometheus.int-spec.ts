import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

// promtool comes from Debian's `prometheus` package; .ci/run installs it when missing.
describe('deploy/prometheus', () => {
  it('alert rules pass promtool check rules', () => {
    const result = spawnSync('promtool', ['check', 'rules', 'deploy/prometheus/alerts.yml'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(result.error, 'promtool must be installed (apt-get install prometheus)').toBeUndefined();
    expect(`${result.stdout}${result.stderr}`).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('alert rules cover 5xx ratio, p99 latency, target down, event-loop lag, dead letters, outbox lag, open circuits', () => {
    const rules = readFileSync(`${root}/deploy/prometheus/alerts.yml`, 'utf8');
    for (const alert of [
      'HighServerErrorRatio',
      'HighP99Latency',
      'TargetDown',
      'EventLoopLagHigh',
      'DeadLettersGrowing',
      'OutboxLagHigh',
      'ProjectionFailing',
      'ProjectionEventParked',
      'ProjectionLagHigh',
      'CircuitOpen',
    ]) {
      expect(rules).toContain(`alert: ${alert}`);
    }
  });

  it('the Grafana dashboard queries the RED metrics the monitoring lib exports', () => {
    const dashboard = JSON.parse(readFileSync(`${root}/deploy/grafana/dashboard.json`, 'utf8')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const metric of [
      'http_server_requests_total',
      'http_server_request_duration_seconds_bucket',
      'http_server_requests_in_flight',
      'projection_lag_events',
    ]) {
      expect(exprs).toContain(metric);
    }
  });
});
