import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadServiceConfig } from '../../app/src/config/app-config.js';
import { appVariable } from '../../app/src/config/app-environment-spec.js';
import { ConfigError } from '../../app/src/config/config-error.js';
import { parseDatabaseSettings } from '../../app/src/config/database-settings.js';
import { loadDeploymentConfig } from '../../stacks/config/deployment-config.js';
import { deploymentVariable } from '../../stacks/config/deployment-environment-spec.js';

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
    });
    assert.deepEqual(config.queue, { workers: 4, retryAttempts: 3, retryDelaySeconds: 60 });
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
