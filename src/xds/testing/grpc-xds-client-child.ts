// Child process for the interop test: a real @grpc/grpc-js-xds client. Its bootstrap comes
// from GRPC_XDS_BOOTSTRAP_CONFIG (set by the parent, so the env never leaks into the test
// process). Makes one unary call to xds:///<argv[2]> and prints `RESULT ok <reply>` or
// `RESULT error <message>`, then stays connected (so the parent can inspect the ADS server's
// status) until its stdin closes.

import { Client, credentials } from '@grpc/grpc-js';
import { register } from '@grpc/grpc-js-xds';

register();
const target = `xds:///${process.argv[2] ?? 'service'}`;
const client = new Client(target, credentials.createInsecure());
const deadline = new Date(Date.now() + 15_000);
client.makeUnaryRequest(
  '/weft.test.Echo/Say',
  (b: Buffer) => b,
  (b: Buffer) => b,
  Buffer.from('hi'),
  { deadline },
  (err, reply) => {
    process.stdout.write(err ? `RESULT error ${err.message}\n` : `RESULT ok ${reply?.toString()}\n`);
  },
);
process.stdin.resume();
process.stdin.on('end', () => {
  client.close();
  process.exit(0);
});
