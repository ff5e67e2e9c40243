// A self-signed ECDSA certificate for 127.0.0.1, made in the test by the openssl CLI.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './harness.js';

const run = promisify(execFile);

export async function selfSigned(): Promise<{ cert: string; key: string }> {
  const dir = tempDir('weft-tls-');
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '1',
    '-subj',
    '/CN=weft-test',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}
