// `--profile`: a separate dockgate under `node --cpu-prof`, driven with the passthrough and
// admission workloads, then its .cpuprofile summarized: CPU per request, time by area (dockgate's
// own modules, the policy's wasm, opa-wasm's JS glue, logging, Node internals, GC), and the
// hottest functions by self and inclusive time, with dist/ paths mapped back to src/.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { typicalCreateBody } from './bodies.js';
import { startDockgate } from './dockgate.js';
import { API, createContainer } from './engine-objects.js';
import type { BenchEnv } from './environment.js';
import { fmt, newSection, type Section } from './figures.js';
import { keepAliveAgent, send, sendExpect } from './http-client.js';
import { REPO_ROOT } from './repo.js';
import { tarLength, tarStream, type TarFile } from './tar-stream.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock (the one process.hrtime reads). */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A time window on the monotonic clock, in µs. */
export interface Window {
  from: number;
  to: number;
}

const AREAS = [
  'dockgate (src/)',
  'policy wasm',
  'opa-wasm JS',
  'logging (pino)',
  'other dependencies',
  'Node internals (JS)',
  'native builtins (socket writes, string encoding, …)',
  'garbage collector',
  'V8/native, unattributed ((program))',
  'other',
] as const;
type Area = (typeof AREAS)[number];

const DIST_URL = `file://${REPO_ROOT}/dist/`;

/** src/… for a module of dockgate's own build (not another package's dist/). */
function srcPath(url: string): string | undefined {
  return url.startsWith(DIST_URL) && url.endsWith('.js') ? `src/${url.slice(DIST_URL.length, -3)}.ts` : undefined;
}

function areaOf(f: CallFrame): Area | 'idle' {
  if (f.functionName === '(idle)') return 'idle';
  if (f.functionName === '(garbage collector)') return 'garbage collector';
  if (f.url.startsWith('wasm://') || /^(\$|wasm-function)/.test(f.functionName)) return 'policy wasm';
  if (srcPath(f.url)) return 'dockgate (src/)';
  if (f.url.includes('/@open-policy-agent/')) return 'opa-wasm JS';
  if (/\/node_modules\/(pino|sonic-boom|thread-stream|fast-redact|quick-format|on-exit-leak-free|safe-stable-stringify|atomic-sleep)/.test(f.url)) return 'logging (pino)';
  if (f.url.includes('/node_modules/')) return 'other dependencies';
  if (f.url.startsWith('node:')) return 'Node internals (JS)';
  if (f.url === '') return 'native builtins (socket writes, string encoding, …)';
  return 'other';
}

// dockgate's frames are named by src/ file only: their line numbers are the compiled JS's.
function frameName(f: CallFrame): string {
  const fn = f.functionName || '(anonymous)';
  const src = srcPath(f.url);
  if (src) return `${fn} — ${src}`;
  const where = f.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\//, '');
  return where ? `${fn} — ${where}:${f.lineNumber + 1}` : fn;
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  byArea: Map<Area, number>;
  selfTop: [string, number][];
  inclusiveDockgate: [string, number][];
  /** Inclusive time of WATCHED library entry points. */
  watched: [string, number][];
}

// Library entry points whose inclusive cost tells where a request's time goes outside src/.
const WATCHED: [label: string, match: (f: CallFrame) => boolean][] = [
  ['pino: one log line (LOG, incl. the synchronous write)', (f) => f.functionName === 'LOG' && f.url.includes('/pino/')],
  ['opa-wasm: evaluate (JSON in, opa_eval, JSON out)', (f) => f.functionName === 'evaluate' && f.url.includes('/@open-policy-agent/')],
  ['node: stream.pipeline() set-up', (f) => f.functionName === 'pipeline' && f.url === 'node:internal/streams/pipeline'],
  ['node: pipeline finish (abort → new DOMException)', (f) => f.functionName === 'finishImpl' && f.url === 'node:internal/streams/pipeline'],
  ['node: new ClientRequest (upstream request)', (f) => f.functionName === 'ClientRequest' && f.url === 'node:_http_client'],
  ['node: server request parse + dispatch (parserOnIncoming)', (f) => f.functionName === 'parserOnIncoming' && f.url === 'node:_http_server'],
  ['node: upstream response parse (socketOnData)', (f) => f.functionName === 'socketOnData' && f.url === 'node:_http_client'],
  ['node: crypto.randomUUID', (f) => f.functionName === 'randomUUID'],
];

/** Only samples inside `window` count (the measured load, not start-up or shutdown). */
export function summarizeProfile(profile: CpuProfile, window: Window, top = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const watched = new Map<string, number>();
  const byArea = new Map<Area, number>(AREAS.map((a) => [a, 0]));
  let totalMs = 0;
  let busyMs = 0;
  let ts = profile.startTime;
  profile.samples.forEach((id, i) => {
    ts += profile.timeDeltas[i] ?? 0;
    if (ts < window.from || ts > window.to) return;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const node = byId.get(id);
    if (!node) return;
    const area = areaOf(node.callFrame);
    if (area === 'idle' || node.callFrame.functionName === '(program)' || node.callFrame.functionName === '(root)') {
      if (node.callFrame.functionName === '(program)') {
        busyMs += ms;
        byArea.set('V8/native, unattributed ((program))', byArea.get('V8/native, unattributed ((program))')! + ms);
      }
      return;
    }
    busyMs += ms;
    byArea.set(area, byArea.get(area)! + ms);
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + ms);
    // Inclusive time of dockgate's own functions: each counted once per sample (recursion-safe).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      for (const [label, match] of WATCHED) {
        if (!seen.has(label) && match(f)) {
          seen.add(label);
          watched.set(label, (watched.get(label) ?? 0) + ms);
        }
      }
      if (!srcPath(f.url)) continue;
      const n = frameName(f);
      if (seen.has(n)) continue;
      seen.add(n);
      inclusive.set(n, (inclusive.get(n) ?? 0) + ms);
    }
  });
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { totalMs, busyMs, byArea, selfTop: sorted(self), inclusiveDockgate: sorted(inclusive), watched: sorted(watched) };
}

interface Workload {
  label: string;
  count: number;
  /** Figures are per unit: one request, one create+delete pair, or one MiB transferred. */
  unitsPerRun: number;
  run(): Promise<void>;
  window?: Window;
}

export async function profileDockgate(env: BenchEnv): Promise<Section> {
  const dir = path.join(env.workDir, 'cpu-profile');
  const dg = await startDockgate({
    daemonSocket: env.daemonSocket,
    policy: env.policy.file,
    entrypoint: env.policy.entrypoint,
    workDir: env.workDir,
    env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=100` },
  });
  const agent = keepAliveAgent();
  const body = JSON.stringify(typicalCreateBody(env.image));
  const quick = env.opts.quick;
  const archiveMiB = quick ? 32 : 128;
  const archive: TarFile[] = [{ name: 'blob', content: archiveMiB * 1024 * 1024 }];
  const container = await createContainer(env.daemonSocket, false, { Image: env.image, Cmd: ['true'], Labels: { 'dockgate.test': '1' } });
  const workloads: Workload[] = [
    { label: 'GET /_ping', count: quick ? 1000 : 3000, unitsPerRun: 1, run: async () => void (await sendExpect(dg.socketPath, agent, 'GET', '/_ping', [200])) },
    { label: 'GET /containers/json', count: quick ? 300 : 1000, unitsPerRun: 1, run: async () => void (await sendExpect(dg.socketPath, agent, 'GET', `${API}/containers/json?all=1`, [200])) },
    {
      label: 'create + delete (per pair)',
      count: quick ? 60 : 250,
      unitsPerRun: 1,
      run: async () => {
        const res = await sendExpect(dg.socketPath, agent, 'POST', `${API}/containers/create`, [201], { body, headers: { 'Content-Type': 'application/json' } });
        const id = (JSON.parse(res.body.toString('utf8')) as { Id: string }).Id;
        await sendExpect(dg.socketPath, agent, 'DELETE', `${API}/containers/${id}?force=1`, [204]);
      },
    },
    {
      label: 'PUT archive (per MiB)',
      count: quick ? 2 : 4,
      unitsPerRun: archiveMiB,
      run: async () => {
        const res = await send(dg.socketPath, agent, 'PUT', `${API}/containers/${container}/archive?path=/tmp`, { body: () => tarStream(archive), contentLength: tarLength(archive), headers: { 'Content-Type': 'application/x-tar' } });
        if (res.status !== 200) throw new Error(`PUT archive: HTTP ${res.status}`);
      },
    },
    {
      label: 'GET archive (per MiB)',
      count: quick ? 2 : 4,
      unitsPerRun: archiveMiB,
      run: async () => {
        const res = await send(dg.socketPath, agent, 'GET', `${API}/containers/${container}/archive?path=/tmp/blob`);
        if (res.status !== 200) throw new Error(`GET archive: HTTP ${res.status}`);
      },
    },
  ];
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  try {
    // Warm-up outside the windows: module loading and JIT are start-up, not the hot path.
    for (const w of workloads) for (let i = 0; i < Math.min(200, w.count); i++) await w.run();
    for (const w of workloads) {
      const from = nowUs();
      for (let i = 0; i < w.count; i++) await w.run();
      w.window = { from, to: nowUs() };
    }
  } finally {
    agent.destroy();
    await dg.stop(); // the profile is written when the process exits
  }
  // Node writes one profile per thread, CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: the
  // main thread's is thread 0 (a decision worker writes its own when it stops).
  const file = readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (!file) throw new Error(`dockgate wrote no main-thread .cpuprofile into ${dir} (found: ${readdirSync(dir).join(', ') || 'nothing'})`);
  const raw = readFileSync(path.join(dir, file), 'utf8');
  // Kept for a closer look (Chrome DevTools › Performance, or speedscope).
  const kept = path.join(REPO_ROOT, '.cache', 'bench', 'dockgate.cpuprofile');
  mkdirSync(path.dirname(kept), { recursive: true });
  writeFileSync(kept, raw);
  const profile = JSON.parse(raw) as CpuProfile;
  const summaries = workloads.map((w) => {
    const win = w.window!;
    if (win.from < profile.startTime || win.to > profile.endTime) {
      throw new Error(`the load window (${win.from}…${win.to} µs) is not inside the profile (${profile.startTime}…${profile.endTime} µs): clocks differ`);
    }
    return { w, s: summarizeProfile(profile, win, 15), per: 1000 / (w.count * w.unitsPerRun) };
  });

  const section = newSection(
    'profile',
    'Profile of dockgate (--cpu-prof)',
    `A separate dockgate with the same policy under \`node --cpu-prof --cpu-prof-interval=100\`, warmed up with 200 iterations of each workload, then driven sequentially (one keep-alive client) with each workload in turn: ${workloads.map((w) => `${w.count}× ${w.label}`).join(', ')}. Each workload is summarized over its own time window; figures are **µs of dockgate CPU per request** (per create + delete pair, the delete including dockgate's inspect lookup; per MiB for the ${archiveMiB} MiB archive transfers). Sampling adds some overhead, so absolute values run higher than unprofiled.`,
    [],
  );
  const head = `| | ${summaries.map(({ w }) => w.label).join(' | ')} |`;
  const rule = `|---|${summaries.map(() => '---').join('|')}|`;
  section.extra.push('**Busy CPU by area (µs per request / pair / MiB)**', '', head, rule);
  section.extra.push(`| **total busy** | ${summaries.map(({ s, per }) => `**${fmt(s.busyMs * per)}**`).join(' | ')} |`);
  for (const area of AREAS) {
    const cells = summaries.map(({ s, per }) => fmt((s.byArea.get(area) ?? 0) * per));
    if (summaries.every(({ s }) => (s.byArea.get(area) ?? 0) === 0)) continue;
    section.extra.push(`| ${area} | ${cells.join(' | ')} |`);
  }
  const labels = [...new Set(summaries.flatMap(({ s }) => s.watched.map(([l]) => l)))];
  section.extra.push('', '**Inclusive cost of library entry points (µs per request / pair / MiB)**', '', head, rule);
  for (const l of labels) section.extra.push(`| ${l} | ${summaries.map(({ s, per }) => fmt((s.watched.find(([x]) => x === l)?.[1] ?? 0) * per)).join(' | ')} |`);
  const esc = (n: string) => n.replace(/\|/g, '\\|');
  for (const { w, s, per } of summaries) {
    section.extra.push('', `**${w.label}: dockgate's own functions, inclusive µs** — ${s.inclusiveDockgate.slice(0, 10).map(([n, ms]) => `${esc(n)} ${fmt(ms * per)}`).join('; ')}`);
    section.extra.push('', `**${w.label}: hottest functions, self µs** — ${s.selfTop.slice(0, 12).map(([n, ms]) => `${esc(n)} ${fmt(ms * per)}`).join('; ')}`);
  }
  section.extra.push('');
  section.notes.push(`The raw profile is kept in ${path.relative(REPO_ROOT, kept)} (load it in Chrome DevTools or speedscope).`);
  return section;
}
