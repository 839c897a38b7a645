import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { engineRequest, removeContainersByLabel, waitForPing } from './engine-api.js';
import { runCommand, runDocker } from './docker-cli.js';

// A private dockerd for the engine tests: its own socket, data, exec root and containerd, no
// bridge and no iptables, so it never touches the host's networking or any other daemon.

/** The image every engine test runs: busybox-static, imported (never pulled: no registry here). */
export const TEST_IMAGE = 'dockgate-test/busybox:latest';

/** Every container, volume and network a test creates carries it, so cleanup finds them. */
export const TEST_LABEL = 'dockgate.test=1';

const BUSYBOX = '/bin/busybox';

export interface PrivateDockerd {
  /** Short directory under /tmp holding everything (unix socket paths are limited to 107 bytes). */
  dir: string;
  socketPath: string;
  /** unix://<socketPath>, for DOCKER_HOST. */
  host: string;
  logPath: string;
  pid(): number | undefined;
  /** Starts (again) on the same directory and waits for /_ping. */
  start(): Promise<void>;
  /** SIGTERM (clean shutdown) or SIGKILL (crash); waits for the process to exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Removes test containers and networks, stops the daemon, unmounts leftovers, deletes dir. */
  destroy(): Promise<void>;
  /** The last lines of the daemon's log, for error messages. */
  logTail(lines?: number): string;
}

async function pathExists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// After a SIGKILL the daemon's containerd and shims may outlive it. Ours to end: the daemon's
// own kind of process (dockerd, containerd, its shims, runc) whose command line names our directory.
const DAEMON_PROCESSES = /^(dockerd|containerd|containerd-shim.*|runc)$/;

async function killOrphansOf(dir: string): Promise<void> {
  const pids = await fs.readdir('/proc').then((names) => names.filter((n) => /^\d+$/.test(n)));
  for (const p of pids) {
    let cmdline: string;
    try {
      if (!DAEMON_PROCESSES.test(readFileSync(`/proc/${p}/comm`, 'utf8').trim())) continue;
      cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    if (args.some((a) => a === dir || a.startsWith(`${dir}/`))) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** True while `pid` is our containerd: running with our directory in its command line, or a zombie. */
function containerdLingers(pid: number, dir: string): boolean {
  try {
    // "<pid> (<comm>) <state> …": a zombie has no command line but still counts as alive for
    // dockerd's check (kill(pid, 0)) until it is reaped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(containerd\) Z /.test(stat)) return true;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${dir}/`);
  } catch {
    return false;
  }
}

// dockerd's containerd ends shortly after dockerd (parent-death signal), and stays a zombie until
// init reaps it. A dockerd started meanwhile takes it for alive, waits for it and fails with
// "timeout waiting for containerd to start": so wait until it is gone, ending it if it stays.
async function awaitContainerdExit(dir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(dir, 'exec', 'containerd', 'containerd.pid'), 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  const deadline = Date.now() + 15_000;
  let killed = false;
  while (containerdLingers(pid, dir)) {
    if (!killed && Date.now() > deadline - 5_000) {
      killed = true;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone or a zombie
      }
    }
    if (Date.now() > deadline) throw new Error(`containerd (pid ${pid}) of the dockerd in ${dir} does not go away`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Mount points at or below dir, deepest first. */
function mountsUnder(dir: string): string[] {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    // mountinfo escapes spaces etc. as octal; our paths have none.
    .sort((a, b) => b.length - a.length);
  return [...new Set(mounts)];
}

async function unmountAll(dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) {
    const r = await runCommand('umount', ['-l', m], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`umount -l ${m}: ${r.stderr}`);
  }
}

export async function startPrivateDockerd(): Promise<PrivateDockerd> {
  const dir = await fs.mkdtemp('/tmp/dgt-');
  const socketPath = path.join(dir, 'docker.sock');
  const logPath = path.join(dir, 'dockerd.log');
  let child: ChildProcess | undefined;

  const logTail = (lines = 30) => {
    try {
      return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) throw new Error(`dockerd in ${dir} is already running`);
    const logFd = openSync(logPath, 'a');
    try {
      child = spawn(
        'dockerd',
        [
          '--host', `unix://${socketPath}`,
          '--data-root', path.join(dir, 'data'),
          '--exec-root', path.join(dir, 'exec'),
          '--pidfile', path.join(dir, 'docker.pid'),
          '--bridge', 'none',
          '--iptables=false',
          '--ip6tables=false',
        ],
        { stdio: ['ignore', logFd, logFd] },
      );
    } finally {
      closeSync(logFd);
    }
    const proc = child;
    let spawnError: Error | undefined;
    proc.once('error', (e) => (spawnError = e));
    await waitForPing(socketPath, 60_000, () => {
      if (spawnError) return `cannot start dockerd: ${spawnError.message}`;
      if (proc.exitCode !== null || proc.signalCode !== null) {
        return `dockerd exited (${proc.exitCode ?? proc.signalCode}) during startup (log ${logPath})`;
      }
      return undefined;
    }).catch((e: Error) => {
      proc.kill('SIGKILL');
      throw new Error(`${e.message}\n--- dockerd log:\n${logTail()}`);
    });
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    // A clean shutdown stops containers (up to their stop timeout) before exiting.
    if (!(await waitForExit(proc, 45_000))) {
      proc.kill('SIGKILL');
      await waitForExit(proc, 10_000);
    }
    await awaitContainerdExit(dir);
  };

  const destroy = async () => {
    if (child && child.exitCode === null && child.signalCode === null && (await pathExists(socketPath))) {
      // Force-remove what the tests left, so shutdown does not wait for stop timeouts, and drop
      // user networks: their bridge interfaces would outlive the daemon on the host.
      await cleanupTestObjects(socketPath, { all: true }).catch(() => undefined);
    }
    await stop('SIGTERM');
    await killOrphansOf(dir);
    await unmountAll(dir);
    await fs.rm(dir, { recursive: true, force: true });
  };

  const daemon: PrivateDockerd = {
    dir,
    socketPath,
    host: `unix://${socketPath}`,
    logPath,
    pid: () => (child && child.exitCode === null ? child.pid : undefined),
    start,
    stop,
    destroy,
    logTail,
  };
  try {
    await start();
  } catch (e) {
    await killOrphansOf(dir).catch(() => undefined);
    await unmountAll(dir).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  return daemon;
}

/**
 * Removes containers (and networks/volumes) left by tests. On a private daemon (`all`) everything
 * goes; on a daemon given by DOCKGATE_TEST_DOCKER_HOST only objects with TEST_LABEL.
 */
export async function cleanupTestObjects(socketPath: string, { all }: { all: boolean }): Promise<void> {
  if (all) {
    const res = await engineRequest(socketPath, 'GET', '/containers/json?all=1');
    for (const c of res.json<{ Id: string }[]>()) {
      await engineRequest(socketPath, 'DELETE', `/containers/${c.Id}?force=1&v=1`);
    }
  } else {
    await removeContainersByLabel(socketPath, TEST_LABEL);
  }
  const labelFilter = all ? '' : `?filters=${encodeURIComponent(JSON.stringify({ label: [TEST_LABEL] }))}`;
  await engineRequest(socketPath, 'POST', `/networks/prune${labelFilter}`);
  await engineRequest(socketPath, 'POST', `/volumes/prune${labelFilter}`);
}

// busybox must be the static build (Debian's busybox-static): the image has no libc.
function assertStaticElf(file: string): void {
  const buf = readFileSync(file);
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) {
    throw new Error(`${file} is not a 64-bit little-endian ELF file`);
  }
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const PT_INTERP = 3;
    if (buf.readUInt32LE(phoff + i * phentsize) === PT_INTERP) {
      throw new Error(`${file} is dynamically linked; install busybox-static (scripts/test-deps.sh)`);
    }
  }
}

/**
 * Writes a busybox-static userland into `root`: /<binDir>/busybox plus a relative symlink per
 * applet, /etc/passwd and /etc/group for root and nobody, /root and /tmp.
 */
export async function writeBusyboxRootfs(root: string, binDir = 'bin'): Promise<void> {
  assertStaticElf(BUSYBOX);
  await fs.mkdir(path.join(root, binDir), { recursive: true });
  await fs.mkdir(path.join(root, 'etc'), { recursive: true });
  await fs.mkdir(path.join(root, 'root'), { mode: 0o700 });
  await fs.mkdir(path.join(root, 'tmp'));
  await fs.chmod(path.join(root, 'tmp'), 0o1777);
  await fs.copyFile(BUSYBOX, path.join(root, binDir, 'busybox'));
  await fs.chmod(path.join(root, binDir, 'busybox'), 0o755);
  const list = await runCommand(BUSYBOX, ['--list'], { timeoutMs: 10_000 });
  if (list.code !== 0) throw new Error(`busybox --list failed: ${list.stderr}`);
  const applets = list.stdout.split('\n').map((a) => a.trim()).filter((a) => a !== '' && a !== 'busybox' && !a.includes('/'));
  for (const applet of applets) await fs.symlink('busybox', path.join(root, binDir, applet));
  await fs.writeFile(
    path.join(root, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  await fs.writeFile(path.join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
}

/** `docker import`s the directory `root` as `tag` (owned by root), with Dockerfile `changes`. */
export async function importRootfs(host: string, root: string, tag: string, changes: string[]): Promise<void> {
  const tarball = `${root}.tar`;
  try {
    const tar = await runCommand('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tarball, '.'], { timeoutMs: 120_000 });
    if (tar.code !== 0) throw new Error(`tar: ${tar.stderr}`);
    const imported = await runDocker(host, ['import', ...changes.flatMap((c) => ['--change', c]), tarball, tag], { timeoutMs: 120_000 });
    if (imported.code !== 0) throw new Error(`docker import ${tag} failed: ${imported.stderr}`);
  } finally {
    await fs.rm(tarball, { force: true });
  }
}

/** Imports TEST_IMAGE into the daemon at `host` from the host's busybox-static (see writeBusyboxRootfs). */
export async function buildTestImage(host: string): Promise<void> {
  const work = await fs.mkdtemp('/tmp/dgt-img-');
  try {
    const root = path.join(work, 'rootfs');
    await writeBusyboxRootfs(root);
    await importRootfs(host, root, TEST_IMAGE, ['ENV PATH=/bin', 'CMD ["/bin/sh"]']);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
