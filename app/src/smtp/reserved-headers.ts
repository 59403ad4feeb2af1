/**
 * Headers SelfMX sets itself, from the request's fields or at delivery (Message-ID, Date), in
 * lower case. The API refuses them as custom headers; delivery skips them should a stored row
 * hold one, so that none can replace what SelfMX writes (the Message-ID in particular is what
 * makes a redelivery recognisable as a duplicate).
 */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'reply-to',
  'sender',
  'message-id',
  'date',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'return-path',
]);
