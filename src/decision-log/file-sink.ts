// Decision events appended to a file as JSON lines (one OPA event per line). Writes are queued
// behind the stream; past the byte bound (a stuck disk) events are dropped and counted instead of
// growing the queue. A write error (disk full, file system gone) closes the stream; the file is
// opened again on the first event after a pause, so logging resumes once the disk has room again
// without a restart. Events in between are dropped and counted.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log/logger.js';

/** How long after a write error the file is opened again. */
export const REOPEN_AFTER_MS = 5000;

export class FileSink {
  private stream: WriteStream;
  private failedAt = 0;
  private closed = false;

  constructor(
    readonly file: string,
    private readonly maxPendingBytes: number,
    private readonly onDrop: (count: number) => void,
    private readonly log: Logger,
    private readonly reopenAfterMs = REOPEN_AFTER_MS,
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.stream = this.open();
  }

  private open(): WriteStream {
    const stream = createWriteStream(this.file, { flags: 'a', mode: 0o640 });
    stream.on('error', (err) => {
      this.failedAt = Date.now();
      this.log.error({ file: this.file, err: err.message, retryInMs: this.reopenAfterMs }, 'decision log file cannot be written');
    });
    return stream;
  }

  write(line: string): void {
    if (this.closed) {
      this.onDrop(1);
      return;
    }
    if (this.stream.destroyed) {
      if (Date.now() - this.failedAt < this.reopenAfterMs) {
        this.onDrop(1);
        return;
      }
      this.stream = this.open();
    }
    if (this.stream.writableLength > this.maxPendingBytes) {
      this.onDrop(1);
      return;
    }
    this.stream.write(`${line}\n`);
  }

  close(): Promise<void> {
    this.closed = true;
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
