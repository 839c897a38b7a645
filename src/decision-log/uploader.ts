// Ships buffered events to a collector as OPA does: POST a gzip-compressed JSON array of events
// (Content-Encoding: gzip), at a random interval between the configured delays. A failed upload
// puts its batch back (nothing is lost while the buffer bound holds) and backs off exponentially.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from '../log/logger.js';
import type { EventBuffer } from './buffer.js';

const gzipAsync = promisify(gzip);
const REQUEST_TIMEOUT_MS = 30_000;
// The last upload at shutdown must not hold the exit for long.
const FLUSH_TIMEOUT_MS = 5_000;

export interface UploaderOptions {
  url: string;
  headers: Record<string, string>;
  buffer: EventBuffer;
  maxBatchBytes: number;
  minDelayMs: number;
  maxDelayMs: number;
  retryMaxDelayMs: number;
  log: Logger;
}

export class Uploader {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly opts: UploaderOptions) {
    this.schedule();
  }

  /** Uploads what is buffered now (shutdown); resolves when done or failed, without retrying. */
  async flush(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
    await this.drain(FLUSH_TIMEOUT_MS);
  }

  private schedule(): void {
    if (this.closed) return;
    const { minDelayMs, maxDelayMs, retryMaxDelayMs } = this.opts;
    const delay =
      this.failures === 0
        ? minDelayMs + Math.random() * (maxDelayMs - minDelayMs)
        : Math.min(retryMaxDelayMs, minDelayMs * 2 ** this.failures) * (0.5 + Math.random() / 2);
    this.timer = setTimeout(() => {
      this.running = this.drain().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, delay);
    this.timer.unref();
  }

  /** Sends batches until the buffer is empty or an upload fails. */
  private async drain(timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    const { buffer, maxBatchBytes } = this.opts;
    while (buffer.length > 0) {
      const batch = buffer.take(maxBatchBytes);
      try {
        await this.post(batch, timeoutMs);
        this.failures = 0;
      } catch (err) {
        buffer.requeue(batch);
        this.failures++;
        this.opts.log.warn({ url: this.opts.url, err: (err as Error).message, events: batch.length, failures: this.failures }, 'decision log upload failed; will retry');
        return;
      }
    }
  }

  private async post(batch: string[], timeoutMs: number): Promise<void> {
    const body = await gzipAsync(`[${batch.join(',')}]`);
    const res = await fetch(this.opts.url, {
      method: 'POST',
      headers: { ...this.opts.headers, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}`);
  }
}
