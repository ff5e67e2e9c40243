// Demo backends for examples/envoy.yaml: three small HTTP services and a TCP echo
// server, all on 127.0.0.1. Each HTTP service answers with its name, the path it saw
// and a few request headers, so you can watch the proxy's routing and header changes.
//   node examples/backends.mjs
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';

const services = [
  { name: 'service-a', port: 18081 },
  { name: 'shop-v1', port: 18082 },
  { name: 'shop-v2', port: 18083 },
];

for (const { name, port } of services) {
  createServer((req, res) => {
    const body = JSON.stringify(
      {
        service: name,
        method: req.method,
        path: req.url,
        host: req.headers.host,
        'x-forwarded-for': req.headers['x-forwarded-for'] ?? null,
        'x-request-id': req.headers['x-request-id'] ?? null,
        'x-weft-route': req.headers['x-weft-route'] ?? null,
      },
      null,
      2,
    );
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`${body}\n`);
  }).listen(port, '127.0.0.1', () => console.log(`${name} listening on 127.0.0.1:${port}`));
}

createTcpServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket)).listen(18090, '127.0.0.1', () =>
  console.log('tcp echo listening on 127.0.0.1:18090'),
);
