// Pulls the policy bundle from an OPA bundle server, as OPA's bundle plugin does: GET the bundle
// URL with `If-None-Match: <etag of the bundle in force>`; 304 means nothing changed. Polls are
// spaced by a random delay between the configured minimum and maximum (jitter, so a fleet does not
// poll in step); failures back off up to the maximum. With long polling configured, the request
// says `Prefer: wait=N` and, when the server answers as an OPA bundle server
// (Content-Type application/vnd.openpolicyagent.bundles), the next request goes out at once.
import type { BundleServiceConfig } from '../config/distribution-config.js';
import type { Logger } from '../log/logger.js';
import { DEFAULT_BUNDLE_LIMITS } from './bundle.js';
import type { PolicyActivator } from './policy-activator.js';
import { NO_STATS, type PolicyStats } from './policy-store.js';

const LONG_POLL_CONTENT_TYPE = 'application/vnd.openpolicyagent.bundles';
// How long a plain request may take; a long poll gets its wait on top.
const REQUEST_TIMEOUT_MS = 30_000;

export interface BundleClientOptions {
  service: BundleServiceConfig;
  activator: PolicyActivator;
  log: Logger;
  stats?: PolicyStats;
  maxBytes?: number;
}

// interrupted: pollNow() or close() cut the request; whoever did that decides what comes next.
type PollOutcome = 'activated' | 'unchanged' | 'rejected' | 'failed' | 'interrupted';

export class BundleClient {
  private etag: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private closed = false;
  private failures = 0;
  private longPolling = false;
  private queued = false;
  private polling: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: BundleClientOptions) {}

  /** The first download (awaited, so a reachable server's policy is in force before listening), then polling. */
  async start(): Promise<void> {
    await this.cycle();
  }

  /** Polls now (SIGHUP), cancelling a long poll that is waiting. */
  pollNow(): void {
    if (this.closed || this.queued) return;
    this.queued = true;
    clearTimeout(this.timer);
    this.abort?.abort();
    void this.polling.then(() => {
      this.queued = false;
      if (!this.closed) return this.cycle();
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.abort?.abort();
  }

  private cycle(): Promise<void> {
    const run = this.poll().then((outcome) => this.schedule(outcome));
    this.polling = run;
    return run;
  }

  private schedule(outcome: PollOutcome): void {
    if (this.closed || outcome === 'interrupted') return;
    const { pollingMinDelaySeconds: min, pollingMaxDelaySeconds: max } = this.opts.service;
    let delayMs: number;
    if (outcome === 'failed') {
      // Back off: the minimum doubled per failure in a row, capped by the maximum, with jitter.
      const ceiling = Math.min(max, min * 2 ** this.failures);
      delayMs = (ceiling / 2 + (Math.random() * ceiling) / 2) * 1000;
    } else if (this.longPolling) {
      delayMs = 0;
    } else {
      delayMs = (min + Math.random() * (max - min)) * 1000;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.cycle(), delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<PollOutcome> {
    const { url, headers, longPollingTimeoutSeconds: wait } = this.opts.service;
    const abort = new AbortController();
    this.abort = abort;
    const timeout = setTimeout(() => abort.abort(new Error('timed out')), REQUEST_TIMEOUT_MS + wait * 1000);
    try {
      const res = await fetch(url, {
        headers: {
          ...headers,
          ...(this.etag !== undefined ? { 'If-None-Match': this.etag } : {}),
          ...(wait > 0 ? { Prefer: `wait=${wait}` } : {}),
        },
        signal: abort.signal,
      });
      this.longPolling = wait > 0 && (res.headers.get('content-type') ?? '').startsWith(LONG_POLL_CONTENT_TYPE);
      if (res.status === 304) {
        await res.body?.cancel();
        this.failures = 0;
        return 'unchanged';
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status}`);
      }
      const bytes = await this.readLimited(res);
      const etag = res.headers.get('etag') ?? undefined;
      this.failures = 0;
      if (await this.opts.activator.tryActivate(bytes, url, 'bundle server')) {
        this.etag = etag;
        return 'activated';
      }
      return 'rejected';
    } catch (err) {
      if (this.closed || (abort.signal.aborted && abort.signal.reason?.name === 'AbortError')) return 'interrupted';
      this.failures++;
      this.longPolling = false;
      const reason = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
      this.opts.log.warn({ source: url, err: reason, failures: this.failures }, 'bundle download failed; the current policy stays in force');
      (this.opts.stats ?? NO_STATS).policyReloadFailed('download');
      return 'failed';
    } finally {
      clearTimeout(timeout);
    }
  }

  private async readLimited(res: Response): Promise<Buffer> {
    const limit = this.opts.maxBytes ?? DEFAULT_BUNDLE_LIMITS.maxFileBytes;
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body ?? []) {
      size += chunk.length;
      if (size > limit) throw new Error(`bundle is over the ${limit}-byte limit`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }
}
