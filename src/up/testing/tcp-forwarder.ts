// A stand-in sidecar for tests of `weft up`: forwards TCP from local ports to target ports
// on 127.0.0.1 (`node tcp-forwarder.js LISTEN:TARGET ...`). Enough to carry the inbound
// (sidecar → app) and per-upstream (app → upstream's sidecar) hops without a control plane.

import { connect, createServer } from 'node:net';

for (const pair of process.argv.slice(2)) {
  const [listen, target] = pair.split(':').map(Number);
  createServer((down) => {
    const up = connect({ host: '127.0.0.1', port: target! });
    down.pipe(up).pipe(down);
    const close = () => {
      down.destroy();
      up.destroy();
    };
    down.on('error', close);
    up.on('error', close);
  }).listen(listen, '127.0.0.1', () => console.log(`forwarding ${listen} -> ${target}`));
}
process.on('SIGTERM', () => process.exit(0));
