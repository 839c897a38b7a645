import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { ensureDistBuilt } from '../support/build-dist.js';

// What `dockgate serve` loads at start-up: not Node's bundled undici (src/runtime/node-http.ts
// says why), which an ES import of node:http anywhere in the graph would pull in; not prom-client
// (~2 MiB of heap with the OpenTelemetry API it requires) unless metrics are served.
describe('start-up module graph', () => {
  beforeAll(async () => {
    await ensureDistBuilt();
  }, 120_000);

  test("serve's modules do not load Node's bundled undici", () => {
    const serve = fileURLToPath(new URL('../../dist/cli/serve.js', import.meta.url));
    const script = `await import(${JSON.stringify(serve)}); process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('undici'))));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
    expect(loaded).toEqual([]);
  });

  test('prom-client is loaded only when metrics are served (--admin), not by the module graph', () => {
    const serve = fileURLToPath(new URL('../../dist/cli/serve.js', import.meta.url));
    const script = `import { createRequire } from 'node:module'; await import(${JSON.stringify(serve)}); const cache = createRequire(import.meta.url).cache; process.stdout.write(JSON.stringify(Object.keys(cache).filter((m) => m.includes('/node_modules/prom-client/') || m.includes('/@opentelemetry/'))));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
    expect(loaded).toEqual([]);
  });
});
