// A reference point, not a product: the least an admission proxy written for Node can do for a
// container create. A raw `net` server (no node:http) with one daemon connection per client
// connection; requests framed by Content-Length only (what the admission section sends); a
// create's body read with JSON.parse and judged by dockgate's own policy engine and decide()
// (every mutation round), the result forwarded in one write; the daemon's answers copied back
// unparsed. No canonicalization, routing, lookups, limits or logging: what it adds over direct is
// the hop and the policy's evaluations, run cold between daemon calls like dockgate's.
//
//   node best-case-proxy.js <listen socket> <daemon socket> <policy bundle> <entrypoint>
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { decide } from '../src/admission/decide.js';
import { PolicyEngine } from '../src/policy/engine.js';
import { writeDockerErrorToSocket } from '../src/proxy/docker-error.js';
import { createInput } from './bodies.js';
import { tieTogether } from './socket-pair.js';

const [listen, upstream, bundle, entrypoint] = process.argv.slice(2);
if (!listen || !upstream || !bundle || !entrypoint) {
  process.stderr.write('usage: best-case-proxy.js <listen socket> <daemon socket> <policy bundle> <entrypoint>\n');
  process.exit(2);
}
const engine = await PolicyEngine.load(bundle, { entrypoint });

const HEAD_END = Buffer.from('\r\n\r\n');
const CREATE = /^POST (?:\/v[0-9.]+)?\/containers\/create(?:\?| )/;

net
  .createServer((client) => {
    const daemon = net.connect(upstream);
    daemon.pipe(client);
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (data: Buffer) => {
      pending = pending.length > 0 ? Buffer.concat([pending, data]) : data;
      // Every complete request in the buffer, in order (the client may pipeline).
      for (;;) {
        const end = pending.indexOf(HEAD_END);
        if (end < 0) return;
        const head = pending.toString('latin1', 0, end + 4);
        if (/\r\ntransfer-encoding:/i.test(head)) {
          writeDockerErrorToSocket(client, 501, 'best-case proxy: only Content-Length bodies');
          return;
        }
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        const body = pending.subarray(end + 4, end + 4 + length);
        pending = pending.subarray(end + 4 + length);
        if (!CREATE.test(head)) {
          daemon.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
          continue;
        }
        let admission;
        try {
          admission = decide(engine, { ...createInput(JSON.parse(body.toString('utf8'))), uid: randomUUID() });
        } catch (err) {
          writeDockerErrorToSocket(client, 500, `best-case proxy: ${(err as Error).message}`);
          return;
        }
        // Docker's error answer on the raw socket, then the connection (and with it the
        // daemon's) closes: the benchmark only sends creates the policy allows.
        if (!admission.allowed) {
          writeDockerErrorToSocket(client, 403, 'best-case proxy: denied by policy');
          return;
        }
        const judged = Buffer.from(JSON.stringify(admission.object));
        const out = head.replace(/\r\ncontent-length:\s*\d+/i, `\r\nContent-Length: ${judged.length}`);
        daemon.write(Buffer.concat([Buffer.from(out, 'latin1'), judged]));
      }
    });
    client.on('end', () => daemon.end());
    tieTogether(client, daemon);
  })
  .listen(listen);

process.on('SIGTERM', () => process.exit(0));
