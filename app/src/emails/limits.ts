/** Limits of the sending API (documented in docs/http-api.md#limits). */
export const EMAIL_LIMITS = Object.freeze({
  /** Whole JSON request body, attachments included. */
  bodyBytes: 10 * 1024 * 1024,
  /** to + cc + bcc together. */
  recipients: 50,
  replyTo: 10,
  subjectChars: 998,
  /** html and text, each. */
  bodyChars: 5 * 1024 * 1024,
  headers: 50,
  headerValueChars: 998,
  attachments: 20,
  /** Decoded size of all attachments together. */
  attachmentBytes: 7 * 1024 * 1024,
  filenameChars: 255,
  tags: 50,
  tagChars: 256,
  /** JSON-encoded template_data. */
  templateDataBytes: 256 * 1024,
  idempotencyKeyChars: 256,
});
