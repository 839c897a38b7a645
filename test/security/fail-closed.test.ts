import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { engineContext } from '../support/context.js';
import { runCommand, spawnProcess } from '../support/docker-cli.js';
import { ensurePolicyBundle } from '../support/policy-bundle.js';
import { CLI_ENTRY, nodeBinary } from '../support/repo.js';
import { DENY_PRIVILEGED, DENY_PRIVILEGED_BUNDLE } from '../support/security.js';

// THREATS.md "Proxy-specific failure modes": without a usable policy dockgate must not serve at
// all. Each case starts the real CLI and expects it to exit non-zero with a clear message
// before its socket ever accepts a connection.

let work = '';
beforeAll(async () => {
  await ensurePolicyBundle(DENY_PRIVILEGED);
  work = await fs.mkdtemp('/tmp/dgs-');
});
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

interface StartAttempt {
  code: number | null;
  stderr: string;
  stdout: string;
  socketPath: string;
}

/** Runs `dockgate serve` with the given policy arguments until it exits (killed after 20 s). */
async function tryToStart(policyArgs: string[]): Promise<StartAttempt> {
  const { dockerHost } = engineContext();
  const socketPath = path.join(work, `${randomBytes(4).toString('hex')}.sock`);
  const entry = process.env.DOCKGATE_TEST_CLI ?? CLI_ENTRY;
  const live = spawnProcess(nodeBinary(), [entry, 'serve', '--listen', `unix://${socketPath}`, '--upstream', dockerHost, ...policyArgs]);
  // A dockgate that serves without its policy fails open: stop it and say so.
  const poll = setInterval(() => {
    if (existsSync(socketPath)) live.child.kill('SIGKILL');
  }, 20);
  try {
    const r = await live.result(20_000);
    return { code: r.code, stderr: r.stderr, stdout: r.stdout, socketPath };
  } finally {
    clearInterval(poll);
  }
}

function expectRefusedToStart(a: StartAttempt, mentions: RegExp): void {
  const detail = `exit ${a.code}\n--- stderr:\n${a.stderr}\n--- stdout:\n${a.stdout.slice(-2000)}`;
  expect(a.code, `dockgate started (or was killed) instead of exiting with an error:\n${detail}`).not.toBe(0);
  expect(a.code, detail).not.toBeNull();
  expect(existsSync(a.socketPath), `dockgate created its socket:\n${detail}`).toBe(false);
  expect(a.stderr, detail).toMatch(/^dockgate: /m);
  expect(a.stderr, detail).toMatch(mentions);
  // A clear message, not a crash: no stack trace.
  expect(a.stderr, `stack trace instead of a message:\n${detail}`).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
}

async function writeBundle(name: string, data: Buffer): Promise<string> {
  const file = path.join(work, name);
  await fs.writeFile(file, data);
  return file;
}

/** The test bundle's files, with some replaced, packed again as a .tar.gz. */
async function repackedBundle(name: string, replace: Record<string, Buffer | null>): Promise<string> {
  const dir = path.join(work, `${name}.d`);
  await fs.mkdir(dir, { recursive: true });
  const x = await runCommand('tar', ['-xzf', DENY_PRIVILEGED_BUNDLE, '-C', dir]);
  if (x.code !== 0) throw new Error(`tar -x: ${x.stderr}`);
  for (const [file, content] of Object.entries(replace)) {
    const target = path.join(dir, file);
    if (content === null) await fs.rm(target, { force: true });
    else await fs.writeFile(target, content);
  }
  const out = path.join(work, name);
  const c = await runCommand('tar', ['-czf', out, '-C', dir, '.']);
  if (c.code !== 0) throw new Error(`tar -c: ${c.stderr}`);
  return out;
}

describe('fail closed: no policy, no service', () => {
  test('control: the real bundle starts (so the refusals below are about the bundle)', async () => {
    const { dockerHost } = engineContext();
    const socketPath = path.join(work, 'control.sock');
    const entry = process.env.DOCKGATE_TEST_CLI ?? CLI_ENTRY;
    const live = spawnProcess(nodeBinary(), [entry, 'serve', '--listen', `unix://${socketPath}`, '--upstream', dockerHost, '--policy', DENY_PRIVILEGED_BUNDLE]);
    try {
      await live.waitForOutput(/listening/, 20_000);
      expect(existsSync(socketPath)).toBe(true);
    } finally {
      live.child.kill('SIGTERM');
      await live.result(20_000);
    }
  });

  test('a missing bundle path: exits non-zero, names the file', async () => {
    const missing = path.join(work, 'no-such-dir', 'bundle.tar.gz');
    expectRefusedToStart(await tryToStart(['--policy', missing]), /no-such-dir\/bundle\.tar\.gz/);
  });

  test('a directory as the bundle: exits non-zero', async () => {
    expectRefusedToStart(await tryToStart(['--policy', work]), /policy|bundle/i);
  });

  test('an empty bundle file: exits non-zero', async () => {
    expectRefusedToStart(await tryToStart(['--policy', await writeBundle('empty.tar.gz', Buffer.alloc(0))]), /policy|bundle/i);
  });

  test('random bytes as the bundle: exits non-zero', async () => {
    expectRefusedToStart(await tryToStart(['--policy', await writeBundle('random.tar.gz', randomBytes(4096))]), /policy|bundle/i);
  });

  test('gzip of something that is not a tar archive: exits non-zero', async () => {
    const file = await writeBundle('not-tar.tar.gz', gzipSync(randomBytes(3000)));
    expectRefusedToStart(await tryToStart(['--policy', file]), /policy|bundle/i);
  });

  test('the real bundle cut in half: exits non-zero', async () => {
    const real = await fs.readFile(DENY_PRIVILEGED_BUNDLE);
    const file = await writeBundle('truncated.tar.gz', real.subarray(0, Math.floor(real.length / 2)));
    expectRefusedToStart(await tryToStart(['--policy', file]), /policy|bundle/i);
  });

  test('the real bundle with one flipped byte in the middle: exits non-zero', async () => {
    const real = Buffer.from(await fs.readFile(DENY_PRIVILEGED_BUNDLE));
    real[Math.floor(real.length / 2)]! ^= 0xff;
    const file = await writeBundle('flipped.tar.gz', real);
    expectRefusedToStart(await tryToStart(['--policy', file]), /policy|bundle/i);
  });

  test('a bundle whose policy.wasm is garbage: exits non-zero', async () => {
    const file = await repackedBundle('garbage-wasm.tar.gz', { 'policy.wasm': randomBytes(2048) });
    expectRefusedToStart(await tryToStart(['--policy', file]), /policy|wasm/i);
  });

  test('a bundle without policy.wasm: exits non-zero', async () => {
    const file = await repackedBundle('no-wasm.tar.gz', { 'policy.wasm': null });
    expectRefusedToStart(await tryToStart(['--policy', file]), /policy|wasm/i);
  });

  test('a bundle whose policy.wasm is a valid but empty module: exits non-zero', async () => {
    // The smallest valid WebAssembly module: magic + version, no exports.
    const empty = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const file = await repackedBundle('empty-wasm.tar.gz', { 'policy.wasm': empty });
    expectRefusedToStart(await tryToStart(['--policy', file]), /policy|wasm|entrypoint/i);
  });

  test('an entrypoint the bundle does not have: exits non-zero, names it', async () => {
    expectRefusedToStart(
      await tryToStart(['--policy', DENY_PRIVILEGED_BUNDLE, '--entrypoint', 'dockgate/test/no_such_rule']),
      /dockgate\/test\/no_such_rule/,
    );
  });
});
