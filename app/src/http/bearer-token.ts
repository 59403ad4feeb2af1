const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;

/** The secret of an `Authorization: Bearer <key>` header, or undefined when it has none. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? BEARER.exec(header)?.[1] : undefined;
}
