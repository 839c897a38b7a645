// A reference point, not a product: the smallest keep-alive node:http reverse proxy (no
// classification, no policy, no logging) between a unix socket and the daemon. Its latency is
// the floor for any proxy built on node:http, which tells how much of dockgate's overhead is
// Node's HTTP machinery and how much is dockgate's own pipeline.
//
//   node bare-proxy.js <listen socket> <daemon socket>
import http from 'node:http';

const [listen, upstream] = process.argv.slice(2);
if (!listen || !upstream) {
  process.stderr.write('usage: bare-proxy.js <listen socket> <daemon socket>\n');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true });

http
  .createServer((req, res) => {
    const up = http.request({ socketPath: upstream, agent, method: req.method, path: req.url, headers: req.rawHeaders }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.rawHeaders);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  })
  .listen(listen);

process.on('SIGTERM', () => process.exit(0));
