// Decisions in OPA's decision-log format, for tooling that already consumes OPA's logs: one event
// per admission decision with decision_id, path, input, result, timestamp, labels and the bundle
// revision; configured paths erased (and listed in `erased`) before the event leaves. record() is
// synchronous and cheap for the gate: it encodes the event and hands the line to the sinks.
import { randomUUID } from 'node:crypto';
import type { Admission } from '../admission/decide.js';
import type { DecisionLogsConfig } from '../config/distribution-config.js';
import type { Logger } from '../log/logger.js';
import type { PolicyInput } from '../policy/contract.js';
import { EventBuffer } from './buffer.js';
import { FileSink } from './file-sink.js';
import { erasePaths } from './mask.js';
import { Uploader } from './uploader.js';

export interface DecisionRecord {
  input: PolicyInput;
  /** The admission; absent when the policy could not be evaluated. */
  admission?: Admission;
  /** Why there is no admission. */
  error?: string;
  /** The entrypoint evaluated (OPA's `path`). */
  path: string | undefined;
  revision: string | undefined;
}

/** What decision logging counts; the metrics module implements it. */
export interface DecisionLogStats {
  decisionLogDropped(count: number, sink: 'upload' | 'file'): void;
}

export const NO_DECISION_LOG_STATS: DecisionLogStats = { decisionLogDropped: () => {} };

export interface DecisionLoggerOptions {
  config: DecisionLogsConfig;
  log: Logger;
  stats?: DecisionLogStats;
  /** dockgate's version, in every event's labels. */
  version: string;
}

export class DecisionLogger {
  private readonly labels: Record<string, string>;
  private readonly buffer: EventBuffer | undefined;
  private readonly uploader: Uploader | undefined;
  private readonly file: FileSink | undefined;
  private droppedCount = 0;

  constructor(private readonly opts: DecisionLoggerOptions) {
    const { config, log } = opts;
    const stats = opts.stats ?? NO_DECISION_LOG_STATS;
    // id: this process (OPA: the instance id), so a collector can tell dockgates apart.
    this.labels = { id: randomUUID(), version: opts.version, app: 'dockgate', ...config.labels };
    const dropped = (sink: 'upload' | 'file') => (count: number) => {
      if (this.droppedCount === 0) log.warn({ sink }, 'decision log events dropped: the buffer is full (counted in the dropped total)');
      this.droppedCount += count;
      stats.decisionLogDropped(count, sink);
    };
    if (config.url !== undefined) {
      this.buffer = new EventBuffer(config.maxBufferBytes, dropped('upload'));
      this.uploader = new Uploader({
        url: config.url,
        headers: config.headers,
        buffer: this.buffer,
        maxBatchBytes: config.maxBatchBytes,
        minDelayMs: config.uploadMinDelaySeconds * 1000,
        maxDelayMs: config.uploadMaxDelaySeconds * 1000,
        retryMaxDelayMs: config.retryMaxDelaySeconds * 1000,
        log,
      });
    }
    if (config.file !== undefined) this.file = new FileSink(config.file, config.maxBufferBytes, dropped('file'), log);
  }

  /** Events dropped so far because a bound was reached. */
  get dropped(): number {
    return this.droppedCount;
  }

  record(r: DecisionRecord): void {
    const event: Record<string, unknown> = {
      labels: this.labels,
      decision_id: r.input.uid,
      ...(r.path !== undefined ? { path: r.path } : {}),
      input: r.input,
      ...(r.admission
        ? {
            result: {
              allowed: r.admission.allowed,
              violations: r.admission.violations,
              warnings: r.admission.warnings,
              patched: r.admission.patches.length,
            },
          }
        : {}),
      ...(r.error !== undefined ? { error: { code: 'policy_error', message: r.error } } : {}),
      requested_by: r.input.userInfo.listener ?? r.input.userInfo.username,
      timestamp: new Date().toISOString(),
      ...(r.revision !== undefined ? { bundles: { dockgate: { revision: r.revision } } } : {}),
    };
    const erased = erasePaths(event, this.opts.config.mask);
    if (erased.length > 0) event.erased = erased;
    const line = JSON.stringify(event);
    this.buffer?.push(line);
    this.file?.write(line);
  }

  /** Shutdown: one last upload attempt, the file closed. */
  async close(): Promise<void> {
    await Promise.all([this.uploader?.flush(), this.file?.close()]);
    this.opts.log.info({ dropped: this.droppedCount, unsent: this.buffer?.length ?? 0 }, 'decision log closed');
  }
}
