import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { createSelfSignedCertificate, createTestCa, type TestCa } from '../support/tls.js';
import { appOutcome, type Outcome, psqlOutcome } from './connect-outcome.js';

/**
 * Each sslmode against real PostgreSQL 15 servers with TLS certificates made by the test, checked
 * two ways: the outcome the issue asks for, and the outcome psql (libpq) gets with the same URL.
 */
const LOCAL = 'local all all scram-sha-256';

let ca: TestCa;
let otherCa: TestCa;
let selfSignedCleanup: () => Promise<void>;
/** The self-signed server's certificate, which is its own CA. */
let selfSignedCertFile: string;
/** TLS on, certificate for db.internal only (not 127.0.0.1), pg_hba allows TLS connections only. */
let mismatch: TestPostgres;
/** TLS on, certificate for localhost and 127.0.0.1; database `plainonly` is hostnossl-only. */
let matching: TestPostgres;
/** TLS on with a self-signed certificate, TLS connections only. */
let selfSigned: TestPostgres;
/** TLS off. */
let plaintext: TestPostgres;

before(async () => {
  [ca, otherCa] = await Promise.all([createTestCa('SelfMX Test CA'), createTestCa('Other CA')]);
  const [mismatchTls, matchingTls, selfSignedTls] = await Promise.all([
    ca.issueServerCertificate('DNS:db.internal'),
    ca.issueServerCertificate('DNS:localhost,IP:127.0.0.1'),
    createSelfSignedCertificate('DNS:localhost,IP:127.0.0.1'),
  ]);
  selfSignedCleanup = selfSignedTls.cleanup;
  selfSignedCertFile = selfSignedTls.certFile;
  const hostsslOnly = [LOCAL, 'hostssl all all 127.0.0.1/32 scram-sha-256'];
  [mismatch, matching, selfSigned, plaintext] = await Promise.all([
    startPostgres({ tls: mismatchTls, hba: hostsslOnly }),
    startPostgres({
      tls: matchingTls,
      hba: [
        LOCAL,
        'hostnossl plainonly all 127.0.0.1/32 scram-sha-256',
        'host postgres all 127.0.0.1/32 scram-sha-256',
      ],
    }),
    startPostgres({ tls: selfSignedTls, hba: hostsslOnly }),
    startPostgres(),
  ]);
  await matching.createDatabase('plainonly');
});

after(async () => {
  await Promise.all([mismatch, matching, selfSigned, plaintext].map((server) => server?.destroy()));
  await Promise.all([ca?.cleanup(), otherCa?.cleanup(), selfSignedCleanup?.()]);
});

interface Case {
  name: string;
  server: () => TestPostgres;
  /** The URL's query, given the CA files. */
  query: () => string;
  database?: string;
  /** Connect by this host name instead of 127.0.0.1. */
  host?: string;
  expected: Outcome;
  /** What the operator must read when the connection is refused. */
  explained?: RegExp;
}

const caFile = () => encodeURIComponent(ca.caFile);
const otherCaFile = () => encodeURIComponent(otherCa.caFile);

const cases: Case[] = [
  // sslmode=require: encryption without certificate checks, unless a CA file is given.
  {
    name: 'require connects to a server whose CA it does not know',
    server: () => mismatch,
    query: () => 'sslmode=require',
    expected: 'tls',
  },
  {
    name: 'require connects to a self-signed server',
    server: () => selfSigned,
    query: () => 'sslmode=require',
    expected: 'tls',
  },
  {
    name: 'require with the right sslrootcert verifies the CA but not the host name',
    server: () => mismatch,
    query: () => `sslmode=require&sslrootcert=${caFile()}`,
    expected: 'tls',
  },
  {
    name: 'require with a wrong sslrootcert is refused (libpq verifies the CA then)',
    server: () => mismatch,
    query: () => `sslmode=require&sslrootcert=${otherCaFile()}`,
    expected: 'refused',
    explained: /not signed by the CA in sslrootcert=.*ca\.crt/,
  },
  {
    name: 'require against a server without TLS is refused',
    server: () => plaintext,
    query: () => 'sslmode=require',
    expected: 'refused',
    explained: /sslmode=require requires TLS.*does not support SSL/,
  },
  // sslmode=verify-full: CA and host name.
  {
    name: 'verify-full fails when the host name is not in the certificate',
    server: () => mismatch,
    query: () => `sslmode=verify-full&sslrootcert=${caFile()}`,
    expected: 'refused',
    explained: /Host name mismatch.*"127\.0\.0\.1".*verify-ca/,
  },
  {
    name: 'verify-full connects when the IP address is in the certificate',
    server: () => matching,
    query: () => `sslmode=verify-full&sslrootcert=${caFile()}`,
    expected: 'tls',
  },
  {
    name: 'verify-full connects when the host name is in the certificate',
    server: () => matching,
    host: 'localhost',
    query: () => `sslmode=verify-full&sslrootcert=${caFile()}`,
    expected: 'tls',
  },
  {
    name: 'verify-full with a wrong CA is refused',
    server: () => matching,
    query: () => `sslmode=verify-full&sslrootcert=${otherCaFile()}`,
    expected: 'refused',
    explained: /not signed by the CA/,
  },
  {
    name: 'verify-full trusts a self-signed certificate given as sslrootcert',
    server: () => selfSigned,
    query: () => `sslmode=verify-full&sslrootcert=${encodeURIComponent(selfSignedCertFile)}`,
    expected: 'tls',
  },
  {
    name: 'verify-full against a server without TLS is refused',
    server: () => plaintext,
    query: () => `sslmode=verify-full&sslrootcert=${caFile()}`,
    expected: 'refused',
    explained: /does not support SSL/,
  },
  // sslmode=verify-ca: CA, not the host name.
  {
    name: 'verify-ca connects despite the host name mismatch',
    server: () => mismatch,
    query: () => `sslmode=verify-ca&sslrootcert=${caFile()}`,
    expected: 'tls',
  },
  {
    name: 'verify-ca with a wrong CA is refused',
    server: () => mismatch,
    query: () => `sslmode=verify-ca&sslrootcert=${otherCaFile()}`,
    expected: 'refused',
    explained: /not signed by the CA in sslrootcert=/,
  },
  {
    name: 'verify-ca refuses a self-signed server',
    server: () => selfSigned,
    query: () => `sslmode=verify-ca&sslrootcert=${caFile()}`,
    expected: 'refused',
    explained: /not signed by the CA/,
  },
  // sslmode=disable.
  {
    name: 'disable against a hostssl-only pg_hba is refused with the explained error',
    server: () => mismatch,
    query: () => 'sslmode=disable',
    expected: 'refused',
    explained: /pg_hba\.conf.*without encryption.*sslmode=require/,
  },
  {
    name: 'disable connects unencrypted to a TLS server that allows it',
    server: () => matching,
    query: () => 'sslmode=disable',
    expected: 'plain',
  },
  {
    name: 'disable connects to a server without TLS',
    server: () => plaintext,
    query: () => 'sslmode=disable',
    expected: 'plain',
  },
  // sslmode=prefer (also the default): TLS when the server offers it, else unencrypted.
  {
    name: 'prefer connects with TLS to a TLS server',
    server: () => mismatch,
    query: () => 'sslmode=prefer',
    expected: 'tls',
  },
  {
    name: 'no sslmode means prefer: TLS to a TLS server',
    server: () => matching,
    query: () => '',
    expected: 'tls',
  },
  {
    name: 'prefer connects without TLS to a server without TLS',
    server: () => plaintext,
    query: () => 'sslmode=prefer',
    expected: 'plain',
  },
  {
    name: 'no sslmode means prefer: unencrypted to a server without TLS',
    server: () => plaintext,
    query: () => '',
    expected: 'plain',
  },
  {
    name: 'prefer retries unencrypted when pg_hba.conf allows only hostnossl',
    server: () => matching,
    database: 'plainonly',
    query: () => 'sslmode=prefer',
    expected: 'plain',
  },
  {
    name: 'prefer retries unencrypted when the CA check fails',
    server: () => matching,
    query: () => `sslmode=prefer&sslrootcert=${otherCaFile()}`,
    expected: 'plain',
  },
  {
    name: 'prefer with a failing CA check and a hostssl-only server is refused',
    server: () => mismatch,
    query: () => `sslmode=prefer&sslrootcert=${otherCaFile()}`,
    expected: 'refused',
    explained: /pg_hba\.conf/,
  },
];

describe('sslmode against real TLS servers: the app connects exactly when psql does', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const server = c.server();
      let url = server.url(c.query(), c.database);
      if (c.host) url = url.replace('@127.0.0.1:', `@${c.host}:`);
      const [app, psql] = await Promise.all([appOutcome(url), psqlOutcome(url)]);
      assert.equal(app.outcome, c.expected, `app: ${app.explained ?? app.outcome}`);
      assert.equal(psql, c.expected, 'psql (libpq) with the same URL');
      if (c.explained) assert.match(app.explained ?? '', c.explained);
      assert.ok(!(app.explained ?? '').includes(server.password), 'password in the explanation');
    });
  }
});
