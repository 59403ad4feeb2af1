import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  loadAppRolePassword,
  loadServiceConfig,
  loadWorkerConfig,
} from '../../app/src/config/app-config.js';
import { appVariable } from '../../app/src/config/app-environment-spec.js';
import { ConfigError } from '../../app/src/config/config-error.js';
import { parseDatabaseSettings } from '../../app/src/config/database-settings.js';
import { loadDeploymentConfig } from '../../stacks/config/deployment-config.js';
import { deploymentVariable } from '../../stacks/config/deployment-environment-spec.js';
import { smtpEnvironment } from '../../stacks/constructs/app-environment.js';
import { startApp } from '../support/app-process.js';

const REQUIRED = {
  DATABASE_URL: 'postgres://selfmx@db.example.com/selfmx',
  API_KEY: 'k'.repeat(16),
  SMTP_HOST: 'smtp.example.com',
};

function refusal(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('expected a ConfigError');
}

describe('the app reads through its declarations', () => {
  test('unset variables take the documented defaults', () => {
    const config = loadServiceConfig(REQUIRED);
    assert.deepEqual(config.http, {
      port: 8080,
      host: '0.0.0.0',
      corsOrigins: ['*'],
      rateLimitRequests: 100,
      rateLimitWindowSeconds: 60,
      trustProxy: false,
      authFailureLimit: 30,
      apiKeysPerTenant: 100,
      requestTimeoutSeconds: 30,
      scheduleMaxDays: 30,
    });
    assert.deepEqual(config.queue, {
      workers: 4,
      retryAttempts: 100,
      retryDelaySeconds: 60,
      maxRetryDelaySeconds: 3600,
      maxAgeSeconds: 259_200,
      delayNoticeSeconds: 900,
    });
    assert.deepEqual(config.smtp, {
      host: 'smtp.example.com',
      port: 587,
      user: undefined,
      pass: undefined,
      tls: true,
      tlsVerify: true,
      timeoutSeconds: 30,
      poolSize: 10,
    });
    assert.deepEqual(config.log, { level: 'info', format: 'json' });
  });

  test('values are parsed by type: lists, booleans, enums', () => {
    const config = loadServiceConfig({
      ...REQUIRED,
      CORS_ORIGINS: ' https://a.example , ,https://b.example',
      SMTP_TLS: 'no',
      LOG_LEVEL: 'silent',
    });
    assert.deepEqual(config.http.corsOrigins, ['https://a.example', 'https://b.example']);
    assert.equal(config.smtp.tls, false);
    assert.equal(config.log.level, 'silent');
  });

  test('a bound from the declaration is enforced and named', () => {
    const error = refusal(() => loadServiceConfig({ ...REQUIRED, QUEUE_WORKERS: '257' }));
    assert.equal(error.message, 'QUEUE_WORKERS: must be between 0 and 256 (got 257)');
  });

  test('a short API_KEY is refused with the fix, without echoing it', () => {
    const error = refusal(() => loadServiceConfig({ ...REQUIRED, API_KEY: 'Sup3rShort' }));
    assert.equal(error.field, 'API_KEY');
    assert.match(error.message, /at least 16 characters.*openssl rand -hex 32/);
    assert.doesNotMatch(error.message, /Sup3r/);
  });

  test('a missing required variable names the fix', () => {
    const { SMTP_HOST: _omitted, ...withoutHost } = REQUIRED;
    const error = refusal(() => loadServiceConfig(withoutHost));
    assert.match(error.message, /^SMTP_HOST: is required: set it to your SMTP relay host name/);
  });

  test('PGPASSWORD is taken exactly as given, spaces included', () => {
    const settings = parseDatabaseSettings({ ...REQUIRED, PGPASSWORD: ' pass word ' });
    assert.equal(settings.password, ' pass word ');
  });
});

describe('the stacks use the app declarations for what they pass on', () => {
  test('SELFMX_DB_* have the bounds and defaults of DB_*', () => {
    for (const [deployment, app] of [
      ['SELFMX_DB_POOL_SIZE', 'DB_POOL_SIZE'],
      ['SELFMX_DB_POOL_TIMEOUT', 'DB_POOL_TIMEOUT'],
      ['SELFMX_DB_IDLE_TIMEOUT', 'DB_IDLE_TIMEOUT'],
    ] as const) {
      const { min, max, default: fallback } = deploymentVariable(deployment);
      assert.deepEqual(
        { min, max, fallback },
        {
          min: appVariable(app).min,
          max: appVariable(app).max,
          fallback: appVariable(app).default,
        },
      );
    }
    assert.deepEqual(
      deploymentVariable('SELFMX_LOG_LEVEL').values,
      appVariable('LOG_LEVEL').values,
    );
  });

  test('every log level the app accepts can be deployed, silent included', () => {
    for (const level of appVariable('LOG_LEVEL').values) {
      assert.equal(loadDeploymentConfig({ SELFMX_LOG_LEVEL: level }).logLevel, level);
    }
  });

  test('a secret deployment variable is refused without echoing it', () => {
    const key = `${'Sup3r'.repeat(4)} ${'k'.repeat(20)}`;
    const error = refusal(() => loadDeploymentConfig({ SELFMX_API_KEY: key }));
    assert.equal(error.field, 'SELFMX_API_KEY');
    assert.match(error.message, /without spaces \(got 41 characters\); generate one/);
    assert.doesNotMatch(error.message, /Sup3r/);
  });
});

describe('database time limits (DB_STATEMENT_TIMEOUT, DB_IDLE_IN_TRANSACTION_TIMEOUT, DB_MIGRATION_LOCK_TIMEOUT)', () => {
  test('default to 30 s, 60 s and 10 s', () => {
    const settings = parseDatabaseSettings(REQUIRED);
    assert.equal(settings.statementTimeoutSeconds, 30);
    assert.equal(settings.idleInTransactionTimeoutSeconds, 60);
    assert.equal(settings.migrationLockTimeoutSeconds, 10);
  });

  test('a zero or non-numeric value is refused, naming the variable', () => {
    for (const name of [
      'DB_STATEMENT_TIMEOUT',
      'DB_IDLE_IN_TRANSACTION_TIMEOUT',
      'DB_MIGRATION_LOCK_TIMEOUT',
    ]) {
      for (const value of ['0', 'soon']) {
        const error = refusal(() => parseDatabaseSettings({ ...REQUIRED, [name]: value }));
        assert.equal(error.field, name);
      }
    }
  });

  test('APP_DB_PASSWORD is read by migrate only, taken as given, and refused when short', () => {
    assert.equal(loadAppRolePassword(REQUIRED), undefined);
    assert.equal(
      loadAppRolePassword({ APP_DB_PASSWORD: ' a long app password ' }),
      ' a long app password ',
    );
    const error = refusal(() => loadAppRolePassword({ APP_DB_PASSWORD: 'Sh0rtPass' }));
    assert.equal(error.field, 'APP_DB_PASSWORD');
    assert.doesNotMatch(error.message, /Sh0rtPass/);
  });
});

describe('SMTP credentials are never sent in the clear', () => {
  const PLAIN_WITH_USER = {
    ...REQUIRED,
    SMTP_USER: 'mailer',
    SMTP_PASS: 'relay-pass',
    SMTP_TLS: 'false',
  };

  test('SMTP_USER with SMTP_TLS=false is refused, naming both variables and the fix', () => {
    const error = refusal(() => loadServiceConfig(PLAIN_WITH_USER));
    assert.equal(error.field, 'SMTP_USER');
    assert.match(error.message, /SMTP_TLS=false/);
    assert.match(error.message, /Set SMTP_TLS=true/);
    assert.match(error.message, /SMTP_ALLOW_PLAIN_AUTH=true/);
    assert.doesNotMatch(error.message, /relay-pass/);
  });

  test('the worker is refused the same way', () => {
    assert.equal(refusal(() => loadWorkerConfig(PLAIN_WITH_USER)).field, 'SMTP_USER');
  });

  test('SMTP_ALLOW_PLAIN_AUTH=true accepts it (a relay on a private network)', () => {
    const config = loadServiceConfig({ ...PLAIN_WITH_USER, SMTP_ALLOW_PLAIN_AUTH: 'true' });
    assert.equal(config.smtp.user, 'mailer');
    assert.equal(config.smtp.tls, false);
  });

  test('plain SMTP without a user, and a user over TLS, need no override', () => {
    assert.equal(loadServiceConfig({ ...REQUIRED, SMTP_TLS: 'false' }).smtp.tls, false);
    assert.equal(loadServiceConfig({ ...REQUIRED, SMTP_USER: 'u', SMTP_PASS: 'p' }).smtp.user, 'u');
  });

  const RELAY = {
    SELFMX_SMTP_HOST: 'smtp.internal',
    SELFMX_SMTP_USER: 'mailer',
    SELFMX_SMTP_PASS: 'relay-pass',
    SELFMX_SMTP_TLS: 'false',
  };

  test('the stacks refuse SELFMX_SMTP_USER with SELFMX_SMTP_TLS=false at synth, with the same fix', () => {
    const error = refusal(() => loadDeploymentConfig(RELAY));
    assert.equal(error.field, 'SELFMX_SMTP_USER');
    assert.match(error.message, /SELFMX_SMTP_TLS=false/);
    assert.match(error.message, /SELFMX_SMTP_ALLOW_PLAIN_AUTH=true/);
    assert.doesNotMatch(error.message, /relay-pass/);
  });

  test('SELFMX_SMTP_ALLOW_PLAIN_AUTH=true passes SMTP_ALLOW_PLAIN_AUTH on to the app', () => {
    const config = loadDeploymentConfig({ ...RELAY, SELFMX_SMTP_ALLOW_PLAIN_AUTH: 'true' });
    assert.equal(config.smtp?.allowPlainAuth, true);
    const env = smtpEnvironment({ ...(config.smtp as NonNullable<typeof config.smtp>), pass: 'x' });
    assert.equal(env.SMTP_ALLOW_PLAIN_AUTH, 'true');
    assert.equal(
      smtpEnvironment({ host: 'h', port: 25, tls: true, tlsVerify: true }).SMTP_ALLOW_PLAIN_AUTH,
      undefined,
    );
  });

  test('serve refuses to start, and says why', async () => {
    const app = await startApp({
      env: { ...PLAIN_WITH_USER, DATABASE_URL: 'postgres://selfmx@127.0.0.1:1/selfmx' },
      waitForHealth: false,
    });
    assert.notEqual(await app.waitForExit(30_000), 0);
    assert.match(app.stdout() + app.stderr(), /SMTP_USER: is set while SMTP_TLS=false/);
  });
});
