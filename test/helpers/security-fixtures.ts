/**
 * Fixtures for the security end-to-end tests: a self-signed certificate made with openssl, and an
 * NDJSON client over a real TLS socket (node:tls, trusting only that certificate).
 *
 * @example
 * const cert = makeSelfSignedCert(dir);
 * const client = await TlsJsonClient.connect(port, cert.certPem);
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { until } from './waits.js';

export interface SelfSignedCert {
  certFile: string;
  keyFile: string;
  certPem: string;
}

/** A certificate for 127.0.0.1 and localhost, valid for a day. */
export function makeSelfSignedCert(dir: string): SelfSignedCert {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=teamchat-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile, certPem: readFileSync(certFile, 'utf8') };
}

/** Waits until `check` holds (polling), or fails with `what`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  await until(check, what, { timeoutMs, everyMs: 50 });
}
