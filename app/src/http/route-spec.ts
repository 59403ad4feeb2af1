import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Permission } from '../auth/permissions.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * One API operation: its zod schemas validate the request and also describe it in
 * /openapi.json, so the documentation cannot drift from what the server accepts.
 */
export interface RouteSpec<
  Body extends z.ZodType = z.ZodType,
  Query extends z.ZodType = z.ZodType,
  Params extends z.ZodType = z.ZodType,
> {
  method: Method;
  /** Fastify syntax: `/v1/emails/:id`. */
  url: string;
  summary: string;
  tag: string;
  /** Needed permission; omitted for public endpoints (no API key). */
  permission?: Permission;
  /**
   * The handler passes `request.deferredAuthentication` to an accept statement that
   * authenticates the key and counts the request, so a known key is not looked up first.
   */
  countsInAccept?: true;
  body?: Body;
  query?: Query;
  params?: Params;
  /** Status of a successful answer. @default 200 */
  status?: number;
  response?: z.ZodType;
  /** For OpenAPI only: a response that is not JSON (e.g. Prometheus text). */
  responseContentType?: string;
  handler(input: {
    body: z.output<Body>;
    query: z.output<Query>;
    params: z.output<Params>;
    request: FastifyRequest;
    reply: FastifyReply;
  }): Promise<unknown>;
}

/** Keeps the schema types of a spec literal (a `RouteSpec` annotation would widen them). */
export function route<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType>(
  spec: RouteSpec<B, Q, P>,
): RouteSpec<B, Q, P> {
  return spec;
}
