import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { ConfigError } from '../../app/src/config/config-error.js';
import { parseDatabaseSettings } from '../../app/src/config/database-settings.js';
import type { Env } from '../../app/src/config/env-reader.js';

const PASSWORD = 'Sup3r$ecret/pass@word';
const ENCODED = encodeURIComponent(PASSWORD);
const BASE = `postgres://selfmx:${ENCODED}@db.example.com:6543/selfmx_prod`;

let dir: string;
let caFile: string;
let notPem: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'selfmx-settings-'));
  caFile = join(dir, 'ca.crt');
  notPem = join(dir, 'not-a-cert.txt');
  await writeFile(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  await writeFile(notPem, 'hello\n');
});
after(() => rm(dir, { recursive: true, force: true }));

/** Asserts a ConfigError naming `field`, mentioning each of `mentions`, without the password. */
function assertRefused(env: Env, field: string, mentions: (string | RegExp)[] = []): void {
  let caught: unknown;
  try {
    parseDatabaseSettings(env);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${field}, got ${caught}`);
  assert.equal(caught.field, field);
  assert.ok(caught.message.startsWith(`${field}:`), caught.message);
  for (const mention of mentions) {
    if (typeof mention === 'string') assert.ok(caught.message.includes(mention), caught.message);
    else assert.match(caught.message, mention);
  }
  for (const secret of [PASSWORD, ENCODED, 'Sup3r']) {
    assert.ok(!caught.message.includes(secret), `password leaked: ${caught.message}`);
    assert.ok(!inspect(caught).includes(secret), 'password leaked through the error object');
  }
}

describe('parseDatabaseSettings: accepted URLs', () => {
  test('reads every part, percent-decoded, with the defaults', () => {
    const settings = parseDatabaseSettings({ DATABASE_URL: BASE });
    assert.equal(settings.host, 'db.example.com');
    assert.equal(settings.port, 6543);
    assert.equal(settings.user, 'selfmx');
    assert.equal(settings.password, PASSWORD);
    assert.equal(settings.database, 'selfmx_prod');
    assert.equal(settings.sslmode, 'prefer', "libpq's default");
    assert.equal(settings.sslrootcert, undefined);
    assert.equal(settings.poolSize, 10);
    assert.equal(settings.poolTimeoutSeconds, 30);
    assert.equal(settings.idleTimeoutSeconds, 300);
    assert.equal(settings.autoMigrate, true);
    assert.ok(Object.isFrozen(settings));
  });

  test('takes the password from PGPASSWORD when the URL has none, as libpq does', () => {
    const fromEnv = parseDatabaseSettings({
      DATABASE_URL: 'postgres://selfmx@db.example.com/selfmx',
      PGPASSWORD: PASSWORD,
    });
    assert.equal(fromEnv.password, PASSWORD);
    assert.ok(!fromEnv.redactedUrl.includes('Sup3r'), fromEnv.redactedUrl);
    const urlWins = parseDatabaseSettings({ DATABASE_URL: BASE, PGPASSWORD: 'other-password' });
    assert.equal(urlWins.password, PASSWORD);
    const none = parseDatabaseSettings({ DATABASE_URL: 'postgres://selfmx@db.example.com/selfmx' });
    assert.equal(none.password, '');
  });

  test('accepts postgresql://, default port 5432, IPv6 hosts and encoded names', () => {
    const settings = parseDatabaseSettings({
      DATABASE_URL: 'postgresql://app%20user:pw@[::1]/my%2Ddb',
    });
    assert.equal(settings.host, '::1');
    assert.equal(settings.port, 5432);
    assert.equal(settings.user, 'app user');
    assert.equal(settings.database, 'my-db');
    assert.equal(settings.redactedUrl, 'postgres://app%20user:***@[::1]:5432/my-db');
  });

  test('the URL pool options beat DB_POOL_*, which beat the defaults', () => {
    const env = { DB_POOL_SIZE: '20', DB_POOL_TIMEOUT: '5', DB_IDLE_TIMEOUT: '60' };
    const fromEnv = parseDatabaseSettings({ ...env, DATABASE_URL: BASE });
    assert.deepEqual(
      [fromEnv.poolSize, fromEnv.poolTimeoutSeconds, fromEnv.idleTimeoutSeconds],
      [20, 5, 60],
    );
    const fromUrl = parseDatabaseSettings({
      ...env,
      DATABASE_URL: `${BASE}?pool_size=3&pool_timeout=7`,
    });
    assert.deepEqual([fromUrl.poolSize, fromUrl.poolTimeoutSeconds], [3, 7]);
  });

  test('DB_AUTO_MIGRATE=false turns auto-migration off', () => {
    assert.equal(
      parseDatabaseSettings({ DATABASE_URL: BASE, DB_AUTO_MIGRATE: 'false' }).autoMigrate,
      false,
    );
  });

  test('every sslmode is accepted; verify-* with a readable CA file', () => {
    for (const sslmode of ['disable', 'prefer', 'require']) {
      assert.equal(
        parseDatabaseSettings({ DATABASE_URL: `${BASE}?sslmode=${sslmode}` }).sslmode,
        sslmode,
      );
    }
    for (const sslmode of ['verify-ca', 'verify-full']) {
      const settings = parseDatabaseSettings({
        DATABASE_URL: `${BASE}?sslmode=${sslmode}&sslrootcert=${encodeURIComponent(caFile)}`,
      });
      assert.equal(settings.sslmode, sslmode);
      assert.equal(settings.sslrootcert, caFile);
    }
  });

  test('query values are percent-decoded, and a + stays a + (as libpq reads it)', async () => {
    const plus = join(dir, 'ca+bundle.pem');
    await writeFile(plus, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const settings = parseDatabaseSettings({
      DATABASE_URL: `${BASE}?sslmode=verify-full&sslrootcert=${plus.replaceAll('/', '%2F')}`,
    });
    assert.equal(settings.sslrootcert, plus);
  });

  test('the redacted URL hides the password and keeps the options', () => {
    const settings = parseDatabaseSettings({ DATABASE_URL: `${BASE}?sslmode=require&pool_size=4` });
    assert.equal(
      settings.redactedUrl,
      'postgres://selfmx:***@db.example.com:6543/selfmx_prod?sslmode=require&pool_size=4',
    );
  });

  test('the password stays out of JSON, spreads and inspection', () => {
    const settings = parseDatabaseSettings({ DATABASE_URL: BASE });
    for (const rendering of [
      JSON.stringify(settings),
      JSON.stringify({ ...settings }),
      inspect(settings),
      String(Object.values(settings)),
    ]) {
      assert.ok(!rendering.includes('Sup3r'), rendering);
    }
  });
});

describe('parseDatabaseSettings: refused configurations name the variable or option', () => {
  test('missing or empty DATABASE_URL', () => {
    assertRefused({}, 'DATABASE_URL', ['required', 'postgres://']);
    assertRefused({ DATABASE_URL: '  ' }, 'DATABASE_URL', ['required']);
  });

  test('a URL that does not parse does not echo it', () => {
    assertRefused({ DATABASE_URL: `postgres://selfmx:${PASSWORD}@db:notaport/x` }, 'DATABASE_URL', [
      'not a valid URL',
    ]);
    assertRefused({ DATABASE_URL: `selfmx:${ENCODED}` }, 'DATABASE_URL');
  });

  test('a non-postgres URL', () => {
    assertRefused({ DATABASE_URL: `mysql://selfmx:${ENCODED}@db/x` }, 'DATABASE_URL', [
      'postgres://',
      'mysql:',
    ]);
    assertRefused({ DATABASE_URL: `https://selfmx:${ENCODED}@db/x` }, 'DATABASE_URL', [
      'postgresql://',
    ]);
  });

  test('missing host, database or user', () => {
    assertRefused({ DATABASE_URL: `postgres://selfmx:${ENCODED}@/selfmx` }, 'DATABASE_URL', [
      'host',
    ]);
    assertRefused({ DATABASE_URL: `postgres://selfmx:${ENCODED}@db:5432` }, 'DATABASE_URL', [
      'database',
    ]);
    assertRefused({ DATABASE_URL: `postgres://selfmx:${ENCODED}@db:5432/` }, 'DATABASE_URL', [
      'database',
    ]);
    assertRefused({ DATABASE_URL: 'postgres://db:5432/selfmx' }, 'DATABASE_URL', ['user']);
  });

  test('a malformed percent-encoding in the password is refused without echoing it', () => {
    assertRefused({ DATABASE_URL: 'postgres://selfmx:Sup3r%zz@db/x' }, 'DATABASE_URL', ['%25']);
  });

  test('an unknown query option is named, with the accepted list, without its value', () => {
    assertRefused({ DATABASE_URL: `${BASE}?connect_timeout=5` }, 'connect_timeout', [
      'sslmode, sslrootcert, pool_size, pool_timeout',
    ]);
    assertRefused({ DATABASE_URL: `${BASE}?password=${ENCODED}` }, 'password', [
      'accepted options',
    ]);
    assertRefused({ DATABASE_URL: `${BASE}?sslmode=require&sslmode=disable` }, 'sslmode', [
      'more than once',
    ]);
  });

  test('an unknown sslmode lists the accepted values', () => {
    assertRefused({ DATABASE_URL: `${BASE}?sslmode=no-verify` }, 'sslmode', [
      'disable, prefer, require, verify-ca, verify-full',
      'no-verify',
    ]);
    assertRefused({ DATABASE_URL: `${BASE}?sslmode=` }, 'sslmode', ['verify-full']);
  });

  test('non-numeric and non-positive pool values, in the URL and in DB_*', () => {
    for (const bad of ['abc', '0', '-1', '1.5', '']) {
      assertRefused({ DATABASE_URL: `${BASE}?pool_size=${bad}` }, 'pool_size', ['whole number']);
      assertRefused({ DATABASE_URL: `${BASE}?pool_timeout=${bad}` }, 'pool_timeout', [
        'whole number',
      ]);
    }
    for (const variable of ['DB_POOL_SIZE', 'DB_POOL_TIMEOUT', 'DB_IDLE_TIMEOUT']) {
      for (const bad of ['ten', '0', '-5', '2.5']) {
        assertRefused({ DATABASE_URL: BASE, [variable]: bad }, variable, [
          'whole number',
          'from 1',
        ]);
      }
    }
    assertRefused({ DATABASE_URL: BASE, DB_AUTO_MIGRATE: 'maybe' }, 'DB_AUTO_MIGRATE', [
      'true or false',
    ]);
  });

  test('absurdly large pool values are refused with the bounds', () => {
    assertRefused({ DATABASE_URL: `${BASE}?pool_size=10001` }, 'pool_size', ['from 1 to 10000']);
    assertRefused({ DATABASE_URL: BASE, DB_POOL_TIMEOUT: '86401' }, 'DB_POOL_TIMEOUT', [
      'from 1 to 86400',
    ]);
  });

  test('the URL pool option is checked even when DB_POOL_* is valid', () => {
    assertRefused({ DATABASE_URL: `${BASE}?pool_size=x`, DB_POOL_SIZE: '5' }, 'pool_size');
  });

  test('verify-ca and verify-full without sslrootcert', () => {
    for (const sslmode of ['verify-ca', 'verify-full']) {
      assertRefused({ DATABASE_URL: `${BASE}?sslmode=${sslmode}` }, 'sslrootcert', [
        `sslmode=${sslmode}`,
        'CA certificate',
      ]);
    }
  });

  test('an sslrootcert that is missing, a directory, or not PEM', () => {
    const missing = join(dir, 'missing.crt');
    for (const sslmode of ['verify-full', 'verify-ca', 'require']) {
      assertRefused(
        { DATABASE_URL: `${BASE}?sslmode=${sslmode}&sslrootcert=${missing}` },
        'sslrootcert',
        [missing, 'not a readable file'],
      );
    }
    assertRefused({ DATABASE_URL: `${BASE}?sslmode=verify-ca&sslrootcert=${dir}` }, 'sslrootcert', [
      'not a readable file',
    ]);
    assertRefused(
      { DATABASE_URL: `${BASE}?sslmode=verify-ca&sslrootcert=${notPem}` },
      'sslrootcert',
      ['no PEM certificate'],
    );
  });
});
