import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ARTIFACTS_STAMP,
  RELEASE_ARTIFACTS,
  releaseArtifactsAreCurrent,
} from '../../stacks/constructs/release-artifacts.js';
import { REPOSITORY_ROOT } from '../../stacks/constructs/release-hash.js';

function certificates(pem: string): X509Certificate[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map(
    (match) => new X509Certificate(match[0]),
  );
}

describe('the Amazon RDS CA bundle the image ships (app/certs/rds-global-bundle.pem)', () => {
  const bundle = certificates(
    readFileSync(join(REPOSITORY_ROOT, 'app/certs/rds-global-bundle.pem'), 'utf8'),
  );

  it('holds the root CAs RDS uses today: rds-ca-rsa2048-g1, rds-ca-rsa4096-g1, rds-ca-ecc384-g1', () => {
    // RDS names a CA rds-ca-<key>-g1; its certificates say "Amazon RDS <region> Root CA <KEY> G1".
    for (const key of ['RSA2048', 'RSA4096', 'ECC384']) {
      const roots = bundle.filter((cert) =>
        new RegExp(`CN=Amazon RDS [a-z0-9-]+ Root CA ${key} G1$`, 'm').test(cert.subject),
      );
      assert.ok(roots.length >= 20, `rds-ca-${key.toLowerCase()}-g1: ${roots.length} regions`);
      assert.ok(roots.some((cert) => /CN=Amazon RDS us-east-1 /.test(cert.subject)));
      for (const cert of roots) assert.ok(cert.ca && cert.checkIssued(cert), cert.subject);
    }
  });

  it('holds no certificate that has expired', () => {
    for (const cert of bundle) {
      assert.ok(new Date(cert.validTo).getTime() > Date.now(), `${cert.subject} expired`);
    }
  });
});

describe('release artifacts', () => {
  it('are current only when every artifact exists and the stamp is the sources hash', () => {
    const root = mkdtempSync(join(tmpdir(), 'selfmx-artifacts-'));
    try {
      assert.equal(releaseArtifactsAreCurrent('abc', root), false, 'nothing built yet');
      for (const artifact of RELEASE_ARTIFACTS) {
        mkdirSync(join(root, artifact, '..'), { recursive: true });
        writeFileSync(join(root, artifact), 'built');
      }
      assert.equal(releaseArtifactsAreCurrent('abc', root), false, 'no stamp');
      writeFileSync(join(root, ARTIFACTS_STAMP), 'abc\n');
      assert.equal(releaseArtifactsAreCurrent('abc', root), true);
      assert.equal(releaseArtifactsAreCurrent('def', root), false, 'built from other sources');
      rmSync(join(root, 'app/dist/certs'), { recursive: true });
      assert.equal(releaseArtifactsAreCurrent('abc', root), false, 'an artifact is missing');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
