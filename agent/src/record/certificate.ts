/**
 * A throw-away self-signed certificate for the recorder's TLS server. Node can make key pairs
 * but not X.509 certificates, so the `openssl` command line makes one (≈10 ms) in a private
 * temp directory; the key never leaves that directory and the run that made it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecordError } from './errors';

export interface TlsIdentity {
  readonly key: Buffer;
  readonly cert: Buffer;
}

/**
 * The server name every client sends (SNI) and checks against the certificate. Real apps send
 * SNI; one constant name for all connections keeps the ClientHello's length from telling
 * connections apart.
 */
export const SERVER_NAME = 'record.cumma.test';

export function createSelfSignedCertificate(opensslPath: string, dir: string): Promise<TlsIdentity> {
  const keyPath = join(dir, 'server-key.pem');
  const certPath = join(dir, 'server-cert.pem');
  const args = [
    'req', '-x509',
    // P-256: what most TLS 1.3 servers present, and fast to generate.
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', keyPath, '-out', certPath,
    '-days', '2',
    '-subj', '/CN=cumma-record',
    '-addext', `subjectAltName=DNS:${SERVER_NAME},IP:127.0.0.1`,
  ];
  return new Promise((resolve, reject) => {
    execFile(opensslPath, args, { encoding: 'utf8', timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          reject(new RecordError('RECORD_OPENSSL_MISSING', `openssl not found at '${opensslPath}' (needed to make the TLS certificate): \`sudo apt-get install openssl\``));
        } else {
          reject(new RecordError('RECORD_OPENSSL_FAILED', `openssl could not make a certificate: ${stderr.trim() || error.message}`));
        }
        return;
      }
      resolve({ key: readFileSync(keyPath), cert: readFileSync(certPath) });
    });
  });
}
