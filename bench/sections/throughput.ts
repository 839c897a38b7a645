// 3. Throughput of streamed bodies: a file into a container (PUT archive), the same file out
// again (GET archive), and a build context upload (legacy builder: the daemon receives and
// unpacks the whole context). The daemon writes to disk, so absolute MB/s are the disk's and
// the daemon's as much as the proxy's; what matters is the ratio to direct within each round.
import { createContainer, API } from '../engine-objects.js';
import { PEERS, rotated, type BenchEnv } from '../environment.js';
import { atLeast, fmtRatio, info, newSection, roundsFigure, type Section } from '../figures.js';
import { send, sendExpect } from '../http-client.js';
import { readCpuMs, readMachineBusyMs } from '../processes.js';
import { BARE, REFERENCES, RELAY } from '../reference-proxy.js';
import { tarLength, tarStream, type TarFile } from '../tar-stream.js';

const COLUMNS = [...PEERS, ...REFERENCES] as const;
type Column = (typeof COLUMNS)[number];

const TAR = { 'Content-Type': 'application/x-tar' };

function mbPerSecond(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

export async function throughput(env: BenchEnv): Promise<Section> {
  const { opts } = env;
  const bytes = opts.transferBytes;
  const size = bytes >= 1024 ** 3 ? `${bytes / 1024 ** 3} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
  const section = newSection(
    'throughput',
    `3. Throughput (${size} per transfer)`,
    `Each peer in turn (order rotating by round): PUT ${API}/containers/{id}/archive with a ${size} file, GET it back, and POST ${API}/build with a ${size} context (Dockerfile: FROM the test image + LABEL). MB/s = payload bytes / time from first byte sent to last byte of the answer (10^6 bytes per MB); min / median / max over ${opts.transferRounds} rounds. CPU per MiB = user + system time of the proxy process (/proc/PID/stat) during the transfer / MiB moved: robust to the machine's other load. CPU of the whole machine per MiB = busy time of all cores (/proc/stat) during the transfer / MiB, and cores busy = that busy time / (wall time × cores): when direct already keeps the cores busy, a proxy's own CPU per MiB adds to the time of every MiB. "${BARE}" is the reference proxy of section 1 (no policy, no logging): the floor for streaming through node:http on this machine, where client, proxy and daemon share ${env.machine.cores} cores; "${RELAY}" (section 1: bytes copied, nothing parsed) is the floor for any proxy written for Node.`,
    [...COLUMNS],
  );
  const targets = { ...env.peers, ...env.references };
  const target = await createContainer(env.daemonSocket, false, { Image: env.image, Cmd: ['true'], Labels: { 'dockgate.test': '1' } });
  const archive: TarFile[] = [{ name: 'blob', content: bytes }];
  const dockerfile = Buffer.from(`FROM ${env.image}\nLABEL bench.context=1\n`);
  const context: TarFile[] = [{ name: 'Dockerfile', content: dockerfile }, { name: 'blob', content: bytes }];

  const columns = () => Object.fromEntries(COLUMNS.map((c) => [c, [] as number[]])) as Record<Column, number[]>;
  const put = columns();
  const get = columns();
  const build = columns();
  // CPU of the proxy process per MiB moved (direct has none of its own): what GC or parsing
  // changes show in even when the MB/s of a loaded machine do not.
  const proxyPid: Partial<Record<Column, number>> = { HAProxy: env.haproxy.process.pid, dockgate: env.dockgate.process.pid, [BARE]: env.references[BARE].pid, [RELAY]: env.references[RELAY].pid };
  const cpu = { put: columns(), get: columns(), build: columns() };
  // The whole machine's busy CPU per MiB (client, proxy, daemon, containerd, kernel), and how much
  // of the cores' time during the transfer that was: near 100% for direct means the two cores are
  // what limits it, and a proxy can then only add its own CPU per MiB to the time of a MiB.
  type Load = { busy: Record<Column, number[]>; share: Record<Column, number[]> };
  const load = (): Load => ({ busy: columns(), share: columns() });
  const machine = { put: load(), get: load(), build: load() };
  const mib = bytes / 1024 ** 2;
  async function measured<T extends { ms: number }>(peer: Column, op: keyof typeof cpu, run: () => Promise<T>): Promise<T> {
    const pid = proxyPid[peer];
    const before = pid === undefined ? 0 : readCpuMs(pid);
    const busyBefore = readMachineBusyMs();
    const result = await run();
    const busy = readMachineBusyMs() - busyBefore;
    if (pid !== undefined) cpu[op][peer].push((readCpuMs(pid) - before) / mib);
    machine[op].busy[peer].push(busy / mib);
    machine[op].share[peer].push((100 * busy) / (result.ms * env.machine.cores));
    return result;
  }

  for (let round = 0; round < opts.transferRounds; round++) {
    for (const peer of rotated(COLUMNS, round)) {
      const { socketPath, agent } = targets[peer];
      const up = await measured(peer, 'put', () => send(socketPath, agent, 'PUT', `${API}/containers/${target}/archive?path=/tmp`, {
        body: () => tarStream(archive),
        contentLength: tarLength(archive),
        headers: TAR,
        collect: true,
        timeoutMs: 600_000,
      }));
      if (up.status !== 200) throw new Error(`PUT archive via ${peer}: HTTP ${up.status} ${up.body.toString('utf8').slice(0, 300)}`);
      put[peer].push(mbPerSecond(bytes, up.ms));

      const down = await measured(peer, 'get', () => send(socketPath, agent, 'GET', `${API}/containers/${target}/archive?path=/tmp/blob`, { timeoutMs: 600_000 }));
      if (down.status !== 200 || down.bytes < bytes) throw new Error(`GET archive via ${peer}: HTTP ${down.status}, ${down.bytes} bytes`);
      get[peer].push(mbPerSecond(bytes, down.ms));

      const tag = `bench-context:${peer.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
      const built = await measured(peer, 'build', () => send(socketPath, agent, 'POST', `${API}/build?t=${encodeURIComponent(tag)}&rm=1&forcerm=1`, {
        body: () => tarStream(context),
        contentLength: tarLength(context),
        headers: TAR,
        collect: true,
        timeoutMs: 600_000,
      }));
      const log = built.body.toString('utf8');
      if (built.status !== 200 || log.includes('"errorDetail"')) throw new Error(`build via ${peer}: HTTP ${built.status} ${log.slice(-500)}`);
      build[peer].push(mbPerSecond(bytes, built.ms));
      await sendExpect(env.daemonSocket, false, 'DELETE', `${API}/images/${encodeURIComponent(tag)}?force=1`, [200]);
    }
  }
  const ratios = [['dockgate', 'direct'], ['HAProxy', 'direct'], ['dockgate', 'HAProxy'], [BARE, 'direct'], [RELAY, 'direct']] as const;
  for (const [label, m] of [['PUT archive', put], ['GET archive', get], ['build context upload', build]] as const) {
    const f = roundsFigure(label, 'MB/s', m, ratios);
    const r = f.ratios['dockgate / direct']!.median;
    f.targets.push(atLeast('dockgate ≥ 90% of direct', r, 0.9, fmtRatio(r)));
    const h = f.ratios['HAProxy / direct']!.median;
    f.targets.push(info('HAProxy vs direct', fmtRatio(h)));
    for (const ref of REFERENCES) f.targets.push(info(`${ref} vs direct`, fmtRatio(f.ratios[`${ref} / direct`]!.median)));
    section.figures.push(f);
  }
  // Only against the bare proxy: a dockgate / HAProxy column is already there for MB/s, where
  // higher is better; here lower is.
  const cpuRatios = [['dockgate', BARE]] as const;
  for (const [label, m] of [['PUT archive', cpu.put], ['GET archive', cpu.get], ['build context upload', cpu.build]] as const) {
    const perProxy = Object.fromEntries(Object.entries(m).filter(([, v]) => v.length > 0));
    const f = roundsFigure(`${label}: CPU of the proxy process per MiB`, 'ms', perProxy, cpuRatios);
    section.figures.push(f);
  }
  for (const [label, m] of [['PUT archive', machine.put], ['GET archive', machine.get], ['build context upload', machine.build]] as const) {
    section.figures.push(roundsFigure(`${label}: CPU of the whole machine per MiB`, 'ms', m.busy, [['dockgate', 'direct'], ['HAProxy', 'direct']]));
    section.figures.push(roundsFigure(`${label}: cores busy during the transfer`, '%', m.share));
  }
  return section;
}
