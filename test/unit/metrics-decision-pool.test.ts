import { describe, expect, test } from 'vitest';
import { DockgateMetrics } from '../../src/metrics/metrics.js';

// The decision pool's metrics: stopped evaluations by reason, and the running workers.
describe('decision pool metrics', () => {
  test('stopped evaluations are counted by reason; the worker gauge reads the pool', async () => {
    const m = new DockgateMetrics({ processMetrics: false });
    let workers = 0;
    m.countPolicyWorkers(() => workers);
    expect((await m.render()).body).toMatch(/^dockgate_policy_evaluations_stopped_total\{reason="deadline"\} 0$/m);
    m.evaluationStopped('deadline');
    m.evaluationStopped('deadline');
    m.evaluationStopped('crash');
    workers = 2;
    expect((await m.render()).body).toMatch(/^dockgate_policy_handovers_total 0$/m);
    m.evaluationHandedOver();
    const body = (await m.render()).body;
    expect(body).toMatch(/^dockgate_policy_handovers_total 1$/m);
    expect(body).toMatch(/^dockgate_policy_evaluations_stopped_total\{reason="deadline"\} 2$/m);
    expect(body).toMatch(/^dockgate_policy_evaluations_stopped_total\{reason="crash"\} 1$/m);
    expect(body).toMatch(/^dockgate_policy_workers 2$/m);
  });
});
