// dockgate's Prometheus metrics (prom-client), on a registry of their own that the admin
// listener serves at /metrics. One instance is passed to the parts that count (gate, proxy,
// policy distribution, decision-log shipping) instead of a global, so tests and embedders can
// have several.
//
// Label cardinality is bounded by configuration, never by requests: listener and user come from
// the config (unix identities, identityFrom rules), kind/operation from the route table, rule
// from the policy, result from a fixed set. Targets, paths, revisions of past bundles and error
// texts are never labels.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DecisionLine } from '../audit/decision-log.js';
import type { DecisionLogStats } from '../decision-log/decision-logger.js';
import type { ConnectionStats, RefusedConnection } from '../listener/connection-limit.js';
import type { PolicyStats } from '../policy/policy-store.js';

// Admission runs in-process in tens of microseconds; lookups make it milliseconds.
const DECISION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const UPSTREAM_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class DockgateMetrics implements PolicyStats, DecisionLogStats, ConnectionStats {
  readonly registry = new Registry();
  private readonly decisions: Counter<'listener' | 'kind' | 'operation' | 'result'>;
  private readonly violations: Counter<'listener' | 'user' | 'rule' | 'action' | 'result'>;
  private readonly decisionSeconds: Histogram<'result'>;
  private readonly upstreamSeconds: Histogram<'kind'>;
  private readonly inFlight: Gauge<'listener'>;
  private readonly hijacked: Gauge<'listener'>;
  private readonly reloads: Counter<'result'>;
  private readonly policyInfo: Gauge<'revision'>;
  private readonly policyActivated: Gauge;
  private readonly decisionLogDroppedTotal: Counter<'sink'>;
  private readonly connectionsRefused: Counter<'listener' | 'reason'>;
  private readonly evaluationsStopped: Counter<'reason'>;
  private readonly handovers: Counter;
  private poolWorkers: () => number = () => 0;

  constructor(opts: { version?: string; processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.decisions = new Counter({
      name: 'dockgate_decisions_total',
      help: 'Admission decisions by listener, route kind/operation and result (allowed, denied, audited = would deny in audit mode, refused = fail closed before a verdict).',
      labelNames: ['listener', 'kind', 'operation', 'result'],
      registers,
    });
    this.violations = new Counter({
      name: 'dockgate_violations_total',
      help: 'Policy violations by listener, user, rule, action (deny, warn, audit) and the decision result.',
      labelNames: ['listener', 'user', 'rule', 'action', 'result'],
      registers,
    });
    this.decisionSeconds = new Histogram({
      name: 'dockgate_decision_duration_seconds',
      help: 'Classification to verdict (lookups and policy evaluation included, body upload not).',
      labelNames: ['result'],
      buckets: DECISION_BUCKETS,
      registers,
    });
    this.upstreamSeconds = new Histogram({
      name: 'dockgate_upstream_duration_seconds',
      help: 'Time from forwarding a request to the daemon until its response headers (kind: request, or upgrade for hijacked streams).',
      labelNames: ['kind'],
      buckets: UPSTREAM_BUCKETS,
      registers,
    });
    this.inFlight = new Gauge({ name: 'dockgate_requests_in_flight', help: 'Requests being judged or forwarded.', labelNames: ['listener'], registers });
    this.hijacked = new Gauge({ name: 'dockgate_hijacked_streams', help: 'Open hijacked streams (attach, exec, BuildKit sessions).', labelNames: ['listener'], registers });
    this.reloads = new Counter({ name: 'dockgate_policy_reloads_total', help: 'Policy bundle activations (result: success) and rejected bundles (result: failure).', labelNames: ['result'], registers });
    this.policyInfo = new Gauge({ name: 'dockgate_policy_info', help: 'The policy bundle in force (value 1, revision as label).', labelNames: ['revision'], registers });
    this.policyActivated = new Gauge({ name: 'dockgate_policy_activated_timestamp_seconds', help: 'When the policy in force was activated.', registers });
    this.decisionLogDroppedTotal = new Counter({
      name: 'dockgate_decision_log_dropped_total',
      help: 'Decision-log events dropped (buffer full or a failed write), by sink.',
      labelNames: ['sink'],
      registers,
    });
    this.connectionsRefused = new Counter({
      name: 'dockgate_connections_refused_total',
      help: 'Connections a listener closed before judging anything: maxConnections (listener full), tls_handshake (no or untrusted client certificate, handshake deadline), unmapped_certificate (no identityFrom rule matches).',
      labelNames: ['listener', 'reason'],
      registers,
    });
    this.evaluationsStopped = new Counter({
      name: 'dockgate_policy_evaluations_stopped_total',
      help: 'Policy evaluations stopped and denied: reason deadline (ran past policyDeadlineMs) or crash (its worker died).',
      labelNames: ['reason'],
      registers,
    });
    this.handovers = new Counter({
      name: 'dockgate_policy_handovers_total',
      help: 'Decisions that ran out of policyInlineSteps on the event loop and were made again in a decision worker.',
      registers,
    });
    const workers = () => this.poolWorkers();
    new Gauge({
      name: 'dockgate_policy_workers',
      help: 'Decision worker threads running (started on demand, stopped when idle).',
      registers,
      collect() {
        this.set(workers());
      },
    });
    this.evaluationsStopped.inc({ reason: 'deadline' }, 0);
    this.evaluationsStopped.inc({ reason: 'crash' }, 0);
    // Both results and sinks exist from the start, so rate() and alerts see a zero, not nothing.
    this.reloads.inc({ result: 'success' }, 0);
    this.reloads.inc({ result: 'failure' }, 0);
    new Gauge({ name: 'dockgate_build_info', help: 'dockgate version.', labelNames: ['version'], registers }).set({ version: opts.version ?? 'unknown' }, 1);
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** One judged request (the gate's decision line). */
  decision(line: DecisionLine): void {
    const listener = line.identity.listener;
    this.decisions.inc({ listener, kind: line.kind, operation: line.operation, result: line.result });
    for (const v of line.violations) {
      this.violations.inc({ listener, user: line.identity.username, rule: v.rule, action: v.action, result: line.result });
    }
    this.decisionSeconds.observe({ result: line.result }, line.latencyMs / 1000);
  }

  /** Starts timing a forwarded request; call the result when the daemon's response headers arrive. */
  upstreamTimer(kind: 'request' | 'upgrade'): () => void {
    return this.upstreamSeconds.startTimer({ kind });
  }

  requestStarted(listener: string): void {
    this.inFlight.inc({ listener });
  }

  requestEnded(listener: string): void {
    this.inFlight.dec({ listener });
  }

  hijackOpened(listener: string): void {
    this.hijacked.inc({ listener });
  }

  hijackClosed(listener: string): void {
    this.hijacked.dec({ listener });
  }

  policyLoaded(revision: string | undefined): void {
    this.reloads.inc({ result: 'success' });
    this.policyInfo.reset();
    this.policyInfo.set({ revision: revision ?? '' }, 1);
    this.policyActivated.setToCurrentTime();
  }

  policyReloadFailed(_reason: string): void {
    // The reason is logged; as a label it would be unbounded.
    this.reloads.inc({ result: 'failure' });
  }

  connectionRefused(listener: string, reason: RefusedConnection): void {
    this.connectionsRefused.inc({ listener, reason });
  }

  /** The decision pool's counters (src/admission/decision-pool.ts). */
  evaluationStopped(reason: 'deadline' | 'crash'): void {
    this.evaluationsStopped.inc({ reason });
  }

  evaluationHandedOver(): void {
    this.handovers.inc();
  }

  /** Where dockgate_policy_workers reads the number of running workers. */
  countPolicyWorkers(count: () => number): void {
    this.poolWorkers = count;
  }

  decisionLogDropped(count: number, sink: 'upload' | 'file'): void {
    this.decisionLogDroppedTotal.inc({ sink }, count);
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
