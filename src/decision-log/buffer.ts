// Encoded events waiting for upload, bounded in bytes: when a new event does not fit, the oldest
// are dropped (and counted), so a collector that is down costs a fixed amount of memory.

interface Entry {
  line: string;
  bytes: number;
}

export class EventBuffer {
  private entries: Entry[] = [];
  private size = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onDrop: (count: number) => void,
  ) {}

  get bytes(): number {
    return this.size;
  }

  get length(): number {
    return this.entries.length;
  }

  push(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (bytes > this.maxBytes) {
      this.onDrop(1);
      return;
    }
    this.entries.push({ line, bytes });
    this.size += bytes;
    this.trim();
  }

  /** Removes and returns the oldest events up to `maxBytes` (at least one, if any). */
  take(maxBytes: number): string[] {
    let n = 0;
    let size = 0;
    while (n < this.entries.length && (n === 0 || size + this.entries[n]!.bytes <= maxBytes)) size += this.entries[n++]!.bytes;
    this.size -= size;
    return this.entries.splice(0, n).map((e) => e.line);
  }

  /** Puts a batch that could not be delivered back in front, still within the bound. */
  requeue(batch: string[]): void {
    const back = batch.map((line) => ({ line, bytes: Buffer.byteLength(line) }));
    this.entries = [...back, ...this.entries];
    this.size += back.reduce((sum, e) => sum + e.bytes, 0);
    this.trim();
  }

  // Oldest first: an operator wants the latest decisions when some must go.
  private trim(): void {
    let dropped = 0;
    while (this.size > this.maxBytes) {
      this.size -= this.entries.shift()!.bytes;
      dropped++;
    }
    if (dropped > 0) this.onDrop(dropped);
  }
}
