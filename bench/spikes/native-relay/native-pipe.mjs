// Drives relay.c (see README.md here): accepts in JavaScript, connects upstream in
// JavaScript, then hands both sockets' fds to the C relay and keeps the sockets only to
// close them when it is done. A measured spike, not part of Weft.
//   node bench/spikes/native-relay/native-pipe.mjs LISTEN_PORT BACKEND_PORT ADDON_FILE
import { createRequire } from 'node:module';
import net from 'node:net';

const [listenPort, backendPort] = process.argv.slice(2, 4).map(Number);
const addonFile = process.argv[4];
if (!Number.isInteger(listenPort) || !Number.isInteger(backendPort) || addonFile === undefined) {
  process.stderr.write('usage: node native-pipe.mjs LISTEN_PORT BACKEND_PORT ADDON_FILE\n');
  process.exit(2);
}
const { relay } = createRequire(import.meta.url)(addonFile);

// pauseOnConnect: the client's handle never starts reading in JavaScript.
net
  .createServer({ noDelay: true, pauseOnConnect: true }, (client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: backendPort, noDelay: true });
    upstream.once('connect', () => {
      // Stopped before the loop polls again, so JavaScript never reads a byte of it.
      upstream._handle.readStop();
      relay(client._handle.fd, upstream._handle.fd, () => {
        client.destroy();
        upstream.destroy();
      });
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  })
  .listen(listenPort, '127.0.0.1');
