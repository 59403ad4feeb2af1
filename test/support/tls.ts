import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ServerTls } from './postgres.js';

const run = promisify(execFile);

/** P-256 keys: as good as RSA for tests, and much faster to make. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const SERVER_EXTENSIONS = [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature, keyEncipherment',
  'extendedKeyUsage = serverAuth',
];

/** A certificate authority made with the openssl CLI in a temp dir; `cleanup` removes it. */
export interface TestCa {
  /** PEM file of the CA certificate: what sslrootcert points at. */
  readonly caFile: string;
  /**
   * A server certificate signed by this CA. `subjectAltName` in openssl syntax, e.g.
   * `DNS:localhost,IP:127.0.0.1` (matches 127.0.0.1) or `DNS:db.internal` (does not).
   */
  issueServerCertificate(subjectAltName: string): Promise<ServerTls>;
  cleanup(): Promise<void>;
}

export async function createTestCa(commonName = 'SelfMX Test CA'): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'selfmx-ca-'));
  const caFile = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  await openssl([
    'req',
    '-x509',
    ...NEW_KEY,
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '2',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints = critical, CA:TRUE',
    '-addext',
    'keyUsage = critical, keyCertSign, cRLSign',
  ]);
  let issued = 0;
  return {
    caFile,
    async issueServerCertificate(subjectAltName) {
      issued += 1;
      const keyFile = join(dir, `server-${issued}.key`);
      const csrFile = join(dir, `server-${issued}.csr`);
      const certFile = join(dir, `server-${issued}.crt`);
      const extFile = join(dir, `server-${issued}.ext`);
      await writeFile(
        extFile,
        [...SERVER_EXTENSIONS, `subjectAltName = ${subjectAltName}`].join('\n'),
      );
      // The CN names no host, so only the subjectAltName can make the host name match.
      await openssl([
        'req',
        '-new',
        ...NEW_KEY,
        '-keyout',
        keyFile,
        '-out',
        csrFile,
        '-subj',
        '/CN=selfmx-test-server',
      ]);
      await openssl([
        'x509',
        '-req',
        '-in',
        csrFile,
        '-CA',
        caFile,
        '-CAkey',
        caKey,
        // A random serial per certificate: a shared serial file races when certificates are
        // issued concurrently.
        '-set_serial',
        `0x${randomBytes(16).toString('hex')}`,
        '-out',
        certFile,
        '-days',
        '2',
        '-extfile',
        extFile,
      ]);
      return { certFile, keyFile };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A self-signed server certificate (no CA at all), e.g. to show that sslmode=require accepts it. */
export async function createSelfSignedCertificate(
  subjectAltName: string,
): Promise<ServerTls & { cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'selfmx-selfsigned-'));
  const keyFile = join(dir, 'server.key');
  const certFile = join(dir, 'server.crt');
  await openssl([
    'req',
    '-x509',
    ...NEW_KEY,
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    '/CN=selfmx-self-signed',
    ...SERVER_EXTENSIONS.flatMap((extension) => ['-addext', extension]),
    '-addext',
    `subjectAltName = ${subjectAltName}`,
  ]);
  return { certFile, keyFile, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr || String(error)}`);
  }
}
