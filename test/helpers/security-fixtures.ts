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
import tls from 'node:tls';
import type { ClientFrame, ServerFrame } from '@teamchat/protocol';

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
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=teamchat-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', keyFile, '-out', certFile],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile, certPem: readFileSync(certFile, 'utf8') };
}

/** NDJSON over TLS, with the same waiting helpers as the plain test clients. */
export class TlsJsonClient {
  readonly frames: ServerFrame[] = [];
  closed = false;
  #buffer = '';
  #cursor = 0;
  #wake: (() => void)[] = [];

  private constructor(readonly socket: tls.TLSSocket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let nl: number;
      while ((nl = this.#buffer.indexOf('\n')) !== -1) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        if (line.trim()) this.frames.push(JSON.parse(line) as ServerFrame);
      }
      this.#notify();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#notify();
    });
  }

  static connect(port: number, ca: string): Promise<TlsJsonClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost' }, () => resolve(new TlsJsonClient(socket)));
      socket.once('error', reject);
    });
  }

  #notify(): void {
    for (const w of this.#wake.splice(0)) w();
  }

  send(frame: ClientFrame): void {
    this.socket.write(JSON.stringify(frame) + '\n');
  }

  async next<T extends ServerFrame['type']>(type: T, match: (f: Extract<ServerFrame, { type: T }>) => boolean = () => true, timeoutMs = 15_000): Promise<Extract<ServerFrame, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.#cursor; i < this.frames.length; i++) {
        const f = this.frames[i]!;
        if (f.type === type && match(f as Extract<ServerFrame, { type: T }>)) {
          this.#cursor = i + 1;
          return f as Extract<ServerFrame, { type: T }>;
        }
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for "${type}"; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 250);
        this.#wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Waits until `check` holds (polling), or fails with `what`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
