import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { clientEnv, describeResult, runCommand } from '../support/docker-cli.js';
import { useDockgate } from '../support/fixtures.js';
import { REPO_ROOT } from '../support/repo.js';

// docker-py (Debian's python3-docker 5.0) through dockgate, run as a real Python process. The
// interpreter is /usr/bin/python3 on purpose: a pyenv or venv python on PATH lacks the package.

const PYTHON = process.env.DOCKGATE_TEST_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.join(REPO_ROOT, 'test', 'engine', 'clients', 'python_sdk_flow.py');

const env = useDockgate();

interface Observed {
  ping: boolean;
  api_version: string;
  wait: { StatusCode: number; Error: unknown };
  stdout: string;
  stderr: string;
  network_disabled: boolean;
  status: string;
  gone: boolean;
  run_output: string;
  not_found: { status: number; explanation: string } | null;
}

const text = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

describe('Python Docker SDK through dockgate', () => {
  test('create/start/wait/logs/remove, network_disabled, run(remove=True) and a 404', async () => {
    const r = await runCommand(PYTHON, [SCRIPT], {
      env: clientEnv(env().dockgate.dockerHost, { TEST_IMAGE: env().testImage, PYTHONDONTWRITEBYTECODE: '1' }),
      timeoutMs: 120_000,
    });
    expect(r.code, describeResult(r)).toBe(0);
    const seen = JSON.parse(r.stdout) as Observed;

    expect(seen.ping).toBe(true);
    expect(seen.api_version).toMatch(/^1\.\d+$/);
    expect(seen.wait.StatusCode).toBe(3);
    expect(text(seen.stdout)).toBe('py-out-42\n');
    expect(text(seen.stderr)).toBe('py-err-48\n');
    expect(seen.network_disabled).toBe(true);
    expect(seen.status).toBe('exited');
    expect(seen.gone).toBe(true);
    expect(text(seen.run_output)).toBe('py-run-42\n');
    expect(seen.not_found?.status).toBe(404);
    expect(seen.not_found?.explanation).toMatch(/No such container: dockgate-test-no-such-container/);
  });
});
