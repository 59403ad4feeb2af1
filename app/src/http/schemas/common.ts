import { z } from 'zod';
import { CONTROL_CHARACTERS } from '../../emails/email-address.js';

/** Resend's error body. */
export const errorBodySchema = z.object({
  statusCode: z.number().int(),
  name: z.string(),
  message: z.string(),
});

/** A name people give a key or a template: 1 to 200 characters after trimming, one line. */
export const displayName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((value) => !CONTROL_CHARACTERS.test(value), {
    message: 'must not contain control characters',
  });

export const idParams = (what: string) =>
  z.strictObject({ id: z.uuid({ message: `must be a UUID (the ${what}'s id)` }) });

/** `?page=&limit=` (limit at most 100). */
export const paginationQuery = {
  page: z.coerce.number().int().min(1).max(10_000).default(1).meta({ description: '1-based' }),
  limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: 'at most 100' }),
};

export function pageWindow(query: { page: number; limit: number }): {
  limit: number;
  offset: number;
} {
  return { limit: query.limit, offset: (query.page - 1) * query.limit };
}

/** The envelope of every list answer. */
export function listBody<T>(
  data: T[],
  query: { page: number; limit: number },
  total: number,
  hasMore: boolean = query.page * query.limit < total,
) {
  return {
    object: 'list' as const,
    data,
    page: query.page,
    limit: query.limit,
    total,
    has_more: hasMore,
  };
}

export const listSchema = <T extends z.ZodType>(item: T) =>
  z.object({
    object: z.literal('list'),
    data: z.array(item),
    page: z.number().int(),
    limit: z.number().int(),
    total: z.number().int(),
    has_more: z.boolean(),
  });

/** Timestamps as ISO-8601 strings in answers. */
export const timestamp = z.string().meta({ format: 'date-time' });
