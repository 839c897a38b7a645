// Decision events appended to a file as JSON lines (one OPA event per line). Writes are queued
// behind the stream; past the byte bound (a stuck disk) events are dropped and counted instead of
// growing the queue.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log/logger.js';

export class FileSink {
  private readonly stream: WriteStream;

  constructor(
    readonly file: string,
    private readonly maxPendingBytes: number,
    private readonly onDrop: (count: number) => void,
    log: Logger,
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.stream = createWriteStream(file, { flags: 'a', mode: 0o640 });
    this.stream.on('error', (err) => log.error({ file, err: err.message }, 'decision log file cannot be written'));
  }

  write(line: string): void {
    if (this.stream.destroyed || this.stream.writableLength > this.maxPendingBytes) {
      this.onDrop(1);
      return;
    }
    this.stream.write(`${line}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
