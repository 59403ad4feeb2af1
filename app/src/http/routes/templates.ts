import { z } from 'zod';
import { recordAudit } from '../../audit/audit-log.js';
import { inTransaction } from '../../db/transaction.js';
import {
  createTemplate,
  DuplicateTemplateNameError,
  deleteTemplate,
  findTemplate,
  listTemplates,
  type TemplateFields,
  updateTemplate,
} from '../../templates/template-repository.js';
import { ApiError, notFound, validationError } from '../api-error.js';
import { auditContext, callerOf } from '../caller.js';
import { type RouteSpec, route } from '../route-spec.js';
import { idParams, listBody, listSchema, pageWindow, paginationQuery } from '../schemas/common.js';
import {
  createTemplateSchema,
  templateSchema,
  templateView,
  updateTemplateSchema,
} from '../schemas/template.js';
import type { ServerDeps } from '../server-deps.js';

/** /v1/templates: Handlebars templates (subject, html, text), checked when saved. */
export function templateRoutes({ pool }: ServerDeps): RouteSpec[] {
  const templateId = idParams('template');

  const update = (method: 'PATCH' | 'PUT') =>
    route({
      method,
      url: '/v1/templates/:id',
      summary: 'Change a template (only the given fields)',
      tag: 'templates',
      permission: 'templates:write',
      params: templateId,
      body: updateTemplateSchema,
      response: templateSchema,
      handler: async ({ params, body, request }) => {
        const { tenantId } = callerOf(request);
        const saved = await inTransaction(pool, async (client) => {
          const current = await findTemplate(client, tenantId, params.id);
          if (!current) throw notFound(`template ${params.id}`);
          const next: TemplateFields = {
            name: body.name ?? current.name,
            subject: body.subject ?? current.subject,
            html: body.html === undefined ? current.html : body.html,
            text: body.text === undefined ? current.text : body.text,
          };
          if (next.html === null && next.text === null) {
            throw validationError('html', 'a template needs html or text; both would be empty');
          }
          const row = await guardName(updateTemplate(client, tenantId, params.id, next));
          if (!row) throw notFound(`template ${params.id}`);
          await recordAudit(client, {
            ...auditContext(request),
            action: 'template.updated',
            targetType: 'template',
            targetId: row.id,
            detail: { fields: Object.keys(body) },
          });
          return row;
        });
        return templateView(saved);
      },
    });

  return [
    route({
      method: 'POST',
      url: '/v1/templates',
      summary: 'Create a template (Handlebars syntax is checked)',
      tag: 'templates',
      permission: 'templates:write',
      body: createTemplateSchema,
      status: 201,
      response: templateSchema,
      handler: async ({ body, request }) => {
        const { tenantId } = callerOf(request);
        const saved = await inTransaction(pool, async (client) => {
          const row = await guardName(
            createTemplate(client, tenantId, {
              name: body.name,
              subject: body.subject,
              html: body.html ?? null,
              text: body.text ?? null,
            }),
          );
          await recordAudit(client, {
            ...auditContext(request),
            action: 'template.created',
            targetType: 'template',
            targetId: row.id,
            detail: { name: row.name },
          });
          return row;
        });
        return templateView(saved);
      },
    }),
    route({
      method: 'GET',
      url: '/v1/templates',
      summary: 'List templates, newest first',
      tag: 'templates',
      permission: 'templates:read',
      query: z.strictObject(paginationQuery),
      response: listSchema(templateSchema),
      handler: async ({ query, request }) => {
        const { rows, total } = await listTemplates(
          pool,
          callerOf(request).tenantId,
          pageWindow(query),
        );
        return listBody(rows.map(templateView), query, total);
      },
    }),
    route({
      method: 'GET',
      url: '/v1/templates/:id',
      summary: 'One template',
      tag: 'templates',
      permission: 'templates:read',
      params: templateId,
      response: templateSchema,
      handler: async ({ params, request }) => {
        const row = await findTemplate(pool, callerOf(request).tenantId, params.id);
        if (!row) throw notFound(`template ${params.id}`);
        return templateView(row);
      },
    }),
    update('PATCH'),
    update('PUT'),
    route({
      method: 'DELETE',
      url: '/v1/templates/:id',
      summary: 'Delete a template (queued emails keep their rendered content)',
      tag: 'templates',
      permission: 'templates:write',
      params: templateId,
      response: z.object({ object: z.literal('template'), id: z.uuid(), deleted: z.literal(true) }),
      handler: async ({ params, request }) => {
        await inTransaction(pool, async (client) => {
          if (!(await deleteTemplate(client, callerOf(request).tenantId, params.id))) {
            throw notFound(`template ${params.id}`);
          }
          await recordAudit(client, {
            ...auditContext(request),
            action: 'template.deleted',
            targetType: 'template',
            targetId: params.id,
          });
        });
        return { object: 'template', id: params.id, deleted: true };
      },
    }),
  ];
}

async function guardName<T>(saving: Promise<T>): Promise<T> {
  try {
    return await saving;
  } catch (error) {
    if (error instanceof DuplicateTemplateNameError) {
      throw new ApiError(
        409,
        'conflict',
        'name: a template with this name already exists; choose another',
      );
    }
    throw error;
  }
}
