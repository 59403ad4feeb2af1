import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { email, useApiTestbed } from './api-harness.js';

describe('templates: CRUD, syntax check when saved, rendering at send time', () => {
  const api = useApiTestbed();
  let welcomeId: string;

  const fromTemplate = (overrides: Record<string, unknown>) =>
    email({ subject: undefined, text: undefined, ...overrides });

  test('create, get and list', async () => {
    const created = await api.server.call('POST', '/v1/templates', {
      body: {
        name: 'welcome',
        subject: 'Welcome, {{name}} & co',
        html: '<p>Hello {{name}}</p>{{#if vip}}<b>VIP</b>{{/if}}',
        text: 'Hello {{name}}',
      },
    });
    assert.equal(created.status, 201, created.text);
    welcomeId = created.body.id;
    assert.equal(created.body.object, 'template');
    const read = await api.server.call('GET', `/v1/templates/${welcomeId}`);
    assert.equal(read.body.subject, 'Welcome, {{name}} & co');
    const list = await api.server.call('GET', '/v1/templates');
    assert.equal(list.body.total, 1);
    const duplicate = await api.server.call('POST', '/v1/templates', {
      body: { name: 'welcome', subject: 'x', text: 'y' },
    });
    assert.equal(duplicate.status, 409);
    assert.match(duplicate.body.message, /^name: /);
  });

  test('sending renders subject, html and text with template_data (html escaped, subject not)', async () => {
    const sent = await api.server.call('POST', '/v1/emails', {
      body: fromTemplate({
        template_id: welcomeId,
        template_data: { name: 'Ana <ana@x>', vip: true },
      }),
    });
    assert.equal(sent.status, 200, sent.text);
    const { rows } = await api.db.query(
      'SELECT subject, html, text, template_id, template_data FROM emails WHERE id = $1',
      [sent.body.id],
    );
    assert.deepEqual(rows[0], {
      subject: 'Welcome, Ana <ana@x> & co',
      html: '<p>Hello Ana &lt;ana@x&gt;</p><b>VIP</b>',
      text: 'Hello Ana <ana@x>',
      template_id: welcomeId,
      template_data: { name: 'Ana <ana@x>', vip: true },
    });
  });

  test('a template can be named instead of its id, and Resend’s template object works', async () => {
    const byName = await api.server.call('POST', '/v1/emails', {
      body: fromTemplate({ template_id: 'welcome', template_data: { name: 'Bo' } }),
    });
    assert.equal(byName.status, 200, byName.text);
    const resendForm = await api.server.call('POST', '/v1/emails', {
      body: fromTemplate({ template: { id: 'welcome', variables: { name: 'Cy' } } }),
    });
    assert.equal(resendForm.status, 200, resendForm.text);
    const { rows } = await api.db.query(
      'SELECT subject FROM emails WHERE id = ANY($1) ORDER BY created_at',
      [[byName.body.id, resendForm.body.id]],
    );
    assert.deepEqual(
      rows.map((r) => r.subject),
      ['Welcome, Bo & co', 'Welcome, Cy & co'],
    );
  });

  test('a subject given in the request wins over the template’s', async () => {
    const sent = await api.server.call('POST', '/v1/emails', {
      body: fromTemplate({
        template_id: 'welcome',
        template_data: { name: 'D' },
        subject: 'Override',
      }),
    });
    const { rows } = await api.db.query('SELECT subject, text FROM emails WHERE id = $1', [
      sent.body.id,
    ]);
    assert.deepEqual(rows[0], { subject: 'Override', text: 'Hello D' });
  });

  test('template_data that puts a line break into the subject is refused (header injection)', async () => {
    const sent = await api.server.call('POST', '/v1/emails', {
      body: fromTemplate({
        template_id: 'welcome',
        template_data: { name: 'x\r\nBcc: victim@evil.example' },
      }),
    });
    assert.equal(sent.status, 422);
    assert.match(sent.body.message, /^template_data: /);
  });

  test('update changes only the given fields and the next send uses the new version', async () => {
    const patched = await api.server.call('PATCH', `/v1/templates/${welcomeId}`, {
      body: { text: 'Hi again {{name}}' },
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.subject, 'Welcome, {{name}} & co');
    const sent = await api.server.call('POST', '/v1/emails', {
      body: fromTemplate({ template_id: welcomeId, template_data: { name: 'E' } }),
    });
    const { rows } = await api.db.query('SELECT text FROM emails WHERE id = $1', [sent.body.id]);
    assert.equal(rows[0].text, 'Hi again E');
    const broken = await api.server.call('PUT', `/v1/templates/${welcomeId}`, {
      body: { html: '{{#each}}' },
    });
    assert.equal(broken.status, 422);
    assert.match(broken.body.message, /^html: Handlebars syntax error/);
    const emptied = await api.server.call('PATCH', `/v1/templates/${welcomeId}`, {
      body: { html: null, text: null },
    });
    assert.equal(emptied.status, 422);
  });

  test('delete: the template is gone, sending with it is a 4xx, sent emails keep their content', async () => {
    const deleted = await api.server.call('DELETE', `/v1/templates/${welcomeId}`);
    assert.equal(deleted.status, 200);
    assert.equal((await api.server.call('GET', `/v1/templates/${welcomeId}`)).status, 404);
    assert.equal((await api.server.call('DELETE', `/v1/templates/${welcomeId}`)).status, 404);
    const sent = await api.server.call('POST', '/v1/emails', {
      body: fromTemplate({ template_id: welcomeId }),
    });
    assert.equal(sent.status, 422);
    assert.match(sent.body.message, /^template_id: /);
    const { rows } = await api.db.query(
      `SELECT count(*)::int AS n FROM emails WHERE subject LIKE 'Welcome, %'`,
    );
    assert.ok(rows[0].n >= 3);
  });

  test('every template change is audited', async () => {
    const audit = await api.server.call('GET', '/v1/audit?target_type=template&limit=100');
    const actions = audit.body.data.map((entry: { action: string }) => entry.action).sort();
    assert.deepEqual(actions, ['template.created', 'template.deleted', 'template.updated']);
  });
  test('the log helper is not available: a template using it is refused when saved', async () => {
    const created = await api.server.call('POST', '/v1/templates', {
      body: { name: 'logger', subject: 's', text: 'a {{log "forged"}} b' },
    });
    assert.equal(created.status, 422, created.text);
    assert.match(created.body.message, /^text: Handlebars syntax error: .*log/);
  });

  test('rendering is bounded: a bomb gets a 422 naming the template and part, then renders go on', async () => {
    const bombs = {
      amplify: { subject: 'a', html: '{{#each a}}{{@root.big}}{{/each}}' },
      greeting: { subject: 'Hi', text: 'Hello {{name}}' },
      slow: {
        subject: 's',
        text: '{{#each a}}{{#each ../a}}{{#each ../../a}}{{/each}}{{/each}}{{/each}}',
      },
    };
    for (const [name, fields] of Object.entries(bombs)) {
      const created = await api.server.call('POST', '/v1/templates', { body: { name, ...fields } });
      assert.equal(created.status, 201, created.text);
    }
    const items = Array.from({ length: 2000 }, () => 0);
    const [amplified, slow, normal] = await Promise.all([
      api.server.call('POST', '/v1/emails', {
        body: fromTemplate({
          template_id: 'amplify',
          template_data: { a: items, big: 'x'.repeat(100_000) },
        }),
      }),
      api.server.call('POST', '/v1/emails', {
        body: fromTemplate({ template_id: 'slow', template_data: { a: items } }),
      }),
      api.server.call('POST', '/v1/emails', {
        body: fromTemplate({ template_id: 'greeting', template_data: { name: 'Cy' } }),
      }),
    ]);
    assert.equal(amplified.status, 422, amplified.text);
    assert.match(
      amplified.body.message,
      /^template_data: template "amplify" html renders to more than 5242880 characters/,
    );
    assert.equal(slow.status, 422, slow.text);
    assert.match(
      slow.body.message,
      /^template_data: template "slow" text did not render within 1000 ms/,
    );
    assert.equal(normal.status, 200, normal.text);
    // The worker that overran was replaced: templates still render.
    const after = await api.server.call('POST', '/v1/emails', {
      body: fromTemplate({ template_id: 'greeting', template_data: { name: 'Di' } }),
    });
    assert.equal(after.status, 200, after.text);
  });
});
