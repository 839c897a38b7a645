// node:http, loaded with require() instead of an ES import. The ES module namespace of a builtin
// reads every export, and node:http's include the lazy WebSocket, CloseEvent and MessageEvent
// getters, which load Node's bundled undici: ~13 MiB of RSS and ~2 MiB of heap at start-up for
// code dockgate never runs (the heap size matters too: bench/FINDINGS.md, "Archive throughput").
// Every module of dockgate takes node:http from here; `import type` from node:http is fine.
import { createRequire } from 'node:module';
import type * as NodeHttp from 'node:http';

const http = createRequire(import.meta.url)('node:http') as typeof NodeHttp;

export default http;
export const { STATUS_CODES } = http;
