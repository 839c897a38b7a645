import { promises as fs } from 'node:fs';
import { runCommand } from './docker-cli.js';

// Counts a process's open connections to a listening unix socket (e.g. dockgate's to the
// daemon), to catch leaked upstream connections. The socket inodes the process holds come from
// /proc/<pid>/fd; `ss -xa` (iproute2) says which server-side socket each one is connected to.

async function socketInodes(pid: number): Promise<Set<string>> {
  const fdDir = `/proc/${pid}/fd`;
  const inodes = new Set<string>();
  for (const fd of await fs.readdir(fdDir)) {
    const target = await fs.readlink(`${fdDir}/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]!);
  }
  return inodes;
}

interface UnixSocketRow {
  state: string;
  localPath: string;
  inode: string;
  peerInode: string;
}

async function unixSockets(): Promise<UnixSocketRow[]> {
  const r = await runCommand('ss', ['-xaH'], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`ss -xaH failed: ${r.stderr}`);
  const rows: UnixSocketRow[] = [];
  // Netid State Recv-Q Send-Q Local-path Local-inode Peer-path Peer-inode
  for (const line of r.stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    rows.push({ state: f[1]!, localPath: f[4]!, inode: f[5]!, peerInode: f[7]! });
  }
  return rows;
}

/** Number of established connections from process `pid` to the unix socket listening at `socketPath`. */
export async function connectionsTo(pid: number, socketPath: string): Promise<number> {
  const ours = await socketInodes(pid);
  const rows = await unixSockets();
  // Server-side ends of connections accepted on socketPath carry its path; their peers are the clients.
  const serverEnds = new Set(rows.filter((r) => r.localPath === socketPath && r.state === 'ESTAB').map((r) => r.inode));
  let n = 0;
  for (const r of rows) {
    if (ours.has(r.inode) && serverEnds.has(r.peerInode)) n++;
  }
  return n;
}

/** Number of established connections process `pid` accepted on its own listening socket `socketPath`. */
export async function acceptedConnections(pid: number, socketPath: string): Promise<number> {
  const ours = await socketInodes(pid);
  const rows = await unixSockets();
  return rows.filter((r) => ours.has(r.inode) && r.localPath === socketPath && r.state === 'ESTAB').length;
}
