import { z } from 'zod';
import type { RouteSpec } from './route-spec.js';
import { errorBodySchema } from './schemas/common.js';

/** The OpenAPI 3.1 description of the routes, built from the zod schemas that validate them. */
export function buildOpenApiDocument(specs: readonly RouteSpec[], version: string): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const path = spec.url.replace(/:(\w+)/g, '{$1}');
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[spec.method.toLowerCase()] = operation(spec);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'SelfMX API',
      version,
      description:
        'Self-hosted email sending. Resend-compatible for POST /v1/emails. Errors: {statusCode, name, message}.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key (smx_...)' },
      },
      schemas: { Error: jsonSchema(errorBodySchema, 'output') },
    },
    paths,
  };
}

function operation(spec: RouteSpec): object {
  const status = String(spec.status ?? 200);
  const errorResponse = {
    description: 'Error',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  return {
    summary: spec.summary,
    tags: [spec.tag],
    ...(spec.permission
      ? { security: [{ bearer: [] }], 'x-permission': spec.permission }
      : { security: [] }),
    parameters: [...parameters(spec.params, 'path'), ...parameters(spec.query, 'query')],
    ...(spec.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } },
          },
        }
      : {}),
    responses: {
      [status]: {
        description: 'Success',
        ...(spec.response
          ? {
              content: {
                [spec.responseContentType ?? 'application/json']: {
                  schema: jsonSchema(spec.response, 'output'),
                },
              },
            }
          : {}),
      },
      ...(spec.permission
        ? { '401': errorResponse, '403': errorResponse, '429': errorResponse }
        : {}),
      '4XX': errorResponse,
    },
  };
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): object[] {
  if (!schema) return [];
  const json = jsonSchema(schema, 'input') as {
    properties?: Record<string, { description?: string }>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    ...(property.description ? { description: property.description } : {}),
    schema: property,
  }));
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): object {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}
