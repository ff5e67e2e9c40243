// A stand-in control plane for tests of `weft up`: answers GET /healthz, keeps what is
// POSTed to /v1/apply and returns it from GET /v1/applied (`node fake-control.js API_PORT`).

import { createServer } from 'node:http';

const applied: unknown[] = [];
const port = Number(process.argv[2]);
createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    if (req.method === 'GET' && req.url === '/healthz') return res.end('{"status":"ok"}');
    if (req.method === 'POST' && req.url === '/v1/apply') {
      applied.push(...(JSON.parse(body) as { items: unknown[] }).items);
      return res.end('{"revision":1,"items":[]}');
    }
    if (req.method === 'GET' && req.url === '/v1/applied') return res.end(JSON.stringify(applied));
    res.statusCode = 404;
    res.end('{}');
  });
}).listen(port, '127.0.0.1', () => console.log(`fake control plane on ${port}`));
process.on('SIGTERM', () => process.exit(0));
