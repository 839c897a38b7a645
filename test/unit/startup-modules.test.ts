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

  test('TLS, the decision log sinks and the admin server are loaded only by configurations that use them', () => {
    const serve = fileURLToPath(new URL('../../dist/cli/serve.js', import.meta.url));
    // registerHooks: in-thread module hooks, so every module the import resolves is seen here.
    const script = [
      `import { registerHooks } from 'node:module';`,
      `const seen = [];`,
      `registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });`,
      `await import(${JSON.stringify(serve)});`,
      `const builtins = process.moduleLoadList.filter((m) => /^NativeModule (tls|https|_tls_\\w+)$/.test(m));`,
      `const modules = seen.filter((u) => /\\/(tls-listener|decision-logger|admin-server|uploader|file-sink)\\.js$/.test(u));`,
      `process.stdout.write(JSON.stringify({ resolved: seen.length, builtins, modules }));`,
    ].join('\n');
    const graph = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { resolved: number; builtins: string[]; modules: string[] };
    expect(graph.resolved).toBeGreaterThan(20); // the hook saw serve's graph
    expect(graph.builtins).toEqual([]);
    expect(graph.modules).toEqual([]);
  });
});
