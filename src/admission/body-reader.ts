import type { IncomingMessage } from 'node:http';

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a whole request body that dockgate must judge (Content-Length or chunked: Node has already
 * undone the chunking), refusing it past `limit` bytes or when it takes longer than `deadlineMs`.
 * Nothing of an inspected body is forwarded until all of it was read and judged.
 */
export function readBody(req: IncomingMessage, limit: number, deadlineMs: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(new BodyError(413, `request body of ${declared} bytes is over the ${limit}-byte limit for judged bodies`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (err: BodyError) => {
      cleanup();
      // Stop reading; the caller answers and the connection is not reused.
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        fail(new BodyError(413, `request body is over the ${limit}-byte limit for judged bodies`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onAborted = () => fail(new BodyError(400, 'request body was cut off'));
    const timer = setTimeout(() => fail(new BodyError(408, `request body not received within ${deadlineMs} ms`)), deadlineMs);
    const cleanup = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAborted);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onAborted);
  });
}
