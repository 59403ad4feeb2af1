/**
 * An error the client can act on, rendered in Resend's shape
 * `{ statusCode, name, message }`. The message names the field at fault and the fix.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    /** Resend's machine-readable error name, e.g. `validation_error`. */
    readonly errorName: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const validationError = (field: string, message: string) =>
  new ApiError(422, 'validation_error', `${field}: ${message}`);

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

export const conflict = (name: string, message: string) => new ApiError(409, name, message);
