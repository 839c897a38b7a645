// A reference point, not a product: the least any proxy written for Node can do. Each client
// connection gets its own daemon connection and the bytes are copied both ways as they come: no
// HTTP parsing, no policy, no logging. What it adds over direct is Node's own cost of one more hop
// (two wake-ups, a read and a write each way) on this machine: the floor under every Node proxy.
//
//   node byte-relay.js <listen socket> <daemon socket>
import net from 'node:net';
import { tieTogether } from './socket-pair.js';

const [listen, upstream] = process.argv.slice(2);
if (!listen || !upstream) {
  process.stderr.write('usage: byte-relay.js <listen socket> <daemon socket>\n');
  process.exit(2);
}

net
  .createServer({ allowHalfOpen: true }, (client) => {
    const daemon = net.connect({ path: upstream, allowHalfOpen: true });
    // pipe() keeps each direction's half-close and flow control.
    client.pipe(daemon);
    daemon.pipe(client);
    tieTogether(client, daemon);
  })
  .listen(listen);

process.on('SIGTERM', () => process.exit(0));
