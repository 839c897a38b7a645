import { promises as fs, type Stats } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export class ListenerError extends Error {}

export interface UnixSocketOptions {
  path: string;
  mode: number; // e.g. 0o660
  uid?: number;
  gid?: number;
}

// Resolves true when something accepts connections on the socket file.
function socketIsLive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect({ path: socketPath });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await fs.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

// A socket file left by a crashed dockgate is replaced; a live one (another dockgate, or the
// daemon itself) or any other kind of file is never touched.
async function clearStaleSocket(socketPath: string): Promise<void> {
  const st = await statOrNull(socketPath);
  if (!st) return;
  if (!st.isSocket()) {
    throw new ListenerError(`${socketPath} exists and is not a socket; refusing to replace it`);
  }
  if (await socketIsLive(socketPath)) {
    throw new ListenerError(`${socketPath} is in use by a running process; stop it or choose another --listen path`);
  }
  await fs.unlink(socketPath);
}

export interface BoundUnixSocket {
  path: string;
  /** Removes the socket file if it is still the one we created. */
  remove(): Promise<void>;
}

// Binds `server` to a unix socket with the configured mode (and owner), so the file never
// exists with wider permissions than asked: the umask is tightened around listen().
export async function listenUnix(server: net.Server, opts: UnixSocketOptions): Promise<BoundUnixSocket> {
  await fs.mkdir(path.dirname(opts.path), { recursive: true, mode: 0o755 });
  await clearStaleSocket(opts.path);
  const oldUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new ListenerError(`cannot listen on ${opts.path}: ${err.message}`));
      server.once('error', onError);
      server.listen({ path: opts.path }, () => {
        server.off('error', onError);
        resolve();
      });
    });
  } finally {
    process.umask(oldUmask);
  }
  if (opts.uid !== undefined || opts.gid !== undefined) {
    await fs.chown(opts.path, opts.uid ?? -1, opts.gid ?? -1);
  }
  await fs.chmod(opts.path, opts.mode);
  const ours = await fs.stat(opts.path);
  return {
    path: opts.path,
    async remove() {
      const st = await statOrNull(opts.path);
      if (st && st.ino === ours.ino && st.dev === ours.dev) await fs.unlink(opts.path).catch(() => undefined);
    },
  };
}
