import type { Socket } from 'node:net';

export class BodyReadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads exactly `length` body bytes of an upgrade request: Node hands such requests over unparsed,
 * with whatever followed the headers in `head`. Bytes after the body (early stdin) are returned
 * separately so they reach the daemon only after it switched protocols.
 */
export function readUpgradeBody(
  socket: Socket,
  head: Buffer,
  length: number,
  deadlineMs: number,
): Promise<{ body: Buffer; early: Buffer }> {
  if (head.length >= length) {
    socket.pause();
    return Promise.resolve({ body: head.subarray(0, length), early: head.subarray(length) });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [head];
    let got = head.length;
    const finish = (err?: BodyReadError) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      if (err) {
        reject(err);
        return;
      }
      const all = Buffer.concat(chunks, got);
      resolve({ body: all.subarray(0, length), early: all.subarray(length) });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= length) finish();
    };
    const onEnd = () => finish(new BodyReadError(400, 'request body ended before its Content-Length'));
    const timer = setTimeout(() => finish(new BodyReadError(408, 'request body not received in time')), deadlineMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.resume();
  });
}
