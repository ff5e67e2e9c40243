// Certificates for TLS tests, made in the test with @peculiar/x509 over WebCrypto: a CA,
// leaf certificates signed by it (with DNS / URI / IP / email SANs), expired ones and
// ones from another CA. Keys are ECDSA P-256 (fast to generate); PEM out.

import { webcrypto } from 'node:crypto';
import './reflect-metadata.js';
import * as x509 from '@peculiar/x509';

const crypto = webcrypto;
x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface Pem {
  /** The certificate, PEM. */
  readonly cert: string;
  /** The private key, PKCS#8 PEM. */
  readonly key: string;
}

export interface TestCa extends Pem {
  readonly name: string;
  /** Issues a leaf certificate signed by this CA. */
  issue(opts: LeafOptions): Promise<Pem>;
}

export interface LeafOptions {
  readonly cn: string;
  readonly dns?: readonly string[];
  readonly uri?: readonly string[];
  readonly ip?: readonly string[];
  readonly email?: readonly string[];
  /** Default: valid from yesterday for a year. */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function createTestCa(name: string): Promise<TestCa> {
  const keys = await crypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: SIGN_ALG,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 365 * DAY_MS),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const caKeyPem = await keyPem(keys.privateKey);
  return {
    name,
    cert: caCert.toString('pem'),
    key: caKeyPem,
    async issue(opts: LeafOptions): Promise<Pem> {
      const leafKeys = await crypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
      const names: x509.JsonGeneralName[] = [];
      for (const v of opts.dns ?? []) names.push({ type: 'dns', value: v });
      for (const v of opts.uri ?? []) names.push({ type: 'url', value: v });
      for (const v of opts.ip ?? []) names.push({ type: 'ip', value: v });
      for (const v of opts.email ?? []) names.push({ type: 'email', value: v });
      const extensions: x509.Extension[] = [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ];
      if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
      const cert = await x509.X509CertificateGenerator.create({
        subject: `CN=${opts.cn}`,
        issuer: caCert.subject,
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: SIGN_ALG,
        notBefore: opts.notBefore ?? new Date(Date.now() - DAY_MS),
        notAfter: opts.notAfter ?? new Date(Date.now() + 365 * DAY_MS),
        extensions,
      });
      return { cert: cert.toString('pem'), key: await keyPem(leafKeys.privateKey) };
    },
  };
}
