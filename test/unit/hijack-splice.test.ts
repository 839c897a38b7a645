import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { splice } from '../../src/proxy/hijack.js';

// splice() joins a client's hijacked connection to the daemon's. When the daemon has ended its
// output and reads no more stdin (the exec'd process exited), the client's stdin backs up; the
// client then exits, and dockgate must see it go although nothing can be forwarded any more —
// whether the stdin backed up before the daemon's end or only after it.

let dir: string;
const servers: net.Server[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dockgate-splice-'));
});

afterEach(async () => {
  for (const s of servers.splice(0)) s.close();
  await rm(dir, { recursive: true, force: true });
});

/** A connected pair of unix sockets: [the side dockgate holds, the peer's side]. */
async function pair(name: string, allowHalfOpen = true): Promise<[net.Socket, net.Socket]> {
  const file = path.join(dir, name);
  const accepted = new Promise<net.Socket>((resolve) => {
    const server = net.createServer({ allowHalfOpen, pauseOnConnect: false }, resolve);
    servers.push(server);
    server.listen(file);
  });
  await new Promise<void>((resolve) => servers[servers.length - 1]!.once('listening', () => resolve()));
  const peer = net.connect({ path: file, allowHalfOpen: true });
  const held = await accepted;
  return [held, peer];
}

describe('splice: a daemon that ended its output and reads no more stdin', () => {
  test.each([
    ['the stdin backs up after the daemon ended', false],
    ['the stdin had backed up before the daemon ended', true],
  ])('%s: the client going away releases the pair', async (_name, backedUpFirst) => {
    const [clientSide, cli] = await pair('client.sock');
    const [upstreamSide, daemon] = await pair('daemon.sock');
    daemon.pause(); // the daemon never reads the stdin
    cli.on('data', () => undefined);
    const released = new Promise<void>((resolve) => splice(clientSide, upstreamSide, resolve));
    const stdin = Buffer.alloc(1024 * 1024, 0x61);
    const writeStdin = async (mib: number) => {
      for (let i = 0; i < mib; i++) if (!cli.write(stdin)) await new Promise((r) => setTimeout(r, 5));
    };
    if (backedUpFirst) {
      await writeStdin(16);
      daemon.end('output');
    } else {
      daemon.end('output');
      await new Promise((r) => setTimeout(r, 50));
      await writeStdin(16);
    }
    await new Promise((r) => setTimeout(r, 100));
    cli.destroy(); // the CLI exits
    await released;
    expect(clientSide.destroyed).toBe(true);
    expect(upstreamSide.destroyed).toBe(true);
    daemon.destroy();
  });
});
