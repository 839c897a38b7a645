// Encoded events waiting for upload, bounded in bytes: when a new event does not fit, the oldest
// are dropped (and counted), so a collector that is down costs a fixed amount of memory.

export class EventBuffer {
  private lines: string[] = [];
  private size = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onDrop: (count: number) => void,
  ) {}

  get bytes(): number {
    return this.size;
  }

  get length(): number {
    return this.lines.length;
  }

  push(line: string): void {
    const n = Buffer.byteLength(line);
    if (n > this.maxBytes) {
      this.onDrop(1);
      return;
    }
    let dropped = 0;
    while (this.size + n > this.maxBytes) {
      this.size -= Buffer.byteLength(this.lines.shift()!);
      dropped++;
    }
    if (dropped > 0) this.onDrop(dropped);
    this.lines.push(line);
    this.size += n;
  }

  /** Removes and returns the oldest events up to `maxBytes` (at least one, if any). */
  take(maxBytes: number): string[] {
    const batch: string[] = [];
    let size = 0;
    while (this.lines.length > 0) {
      const n = Buffer.byteLength(this.lines[0]!);
      if (batch.length > 0 && size + n > maxBytes) break;
      batch.push(this.lines.shift()!);
      size += n;
    }
    this.size -= size;
    return batch;
  }

  /** Puts a batch that could not be delivered back in front, still within the bound. */
  requeue(batch: string[]): void {
    const n = batch.reduce((sum, l) => sum + Buffer.byteLength(l), 0);
    this.lines = [...batch, ...this.lines];
    this.size += n;
    let dropped = 0;
    while (this.size > this.maxBytes) {
      this.size -= Buffer.byteLength(this.lines.shift()!);
      dropped++;
    }
    if (dropped > 0) this.onDrop(dropped);
  }
}
