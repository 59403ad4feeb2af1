import { randomUUID } from 'node:crypto';
import type { SendMailOptions } from 'nodemailer';
import type { OutgoingEmail } from './outgoing-email.js';
import { RESERVED_HEADERS } from './reserved-headers.js';

/** The message cannot be built from the row; retrying would not help. */
export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: CR, LF and NUL are what header injection uses.
const LINE_BREAKS = /[\r\n\u0000]/;

/**
 * The stable Message-ID of an email: derived from its id (and the sender's domain, which
 * receiving filters expect), so every redelivery of one email carries the same Message-ID.
 */
export function messageIdFor(email: Pick<OutgoingEmail, 'id' | 'fromAddress'>): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(email.fromAddress)?.[1] ?? 'selfmx';
  return `<${email.id}@${domain.toLowerCase()}>`;
}

/** nodemailer's message for a claimed email. Bcc goes to the envelope only, never a header. */
export function buildMessage(email: OutgoingEmail): SendMailOptions {
  return {
    from: email.fromAddress,
    to: [...email.toAddresses],
    cc: email.ccAddresses.length > 0 ? [...email.ccAddresses] : undefined,
    bcc: email.bccAddresses.length > 0 ? [...email.bccAddresses] : undefined,
    replyTo: email.replyTo.length > 0 ? [...email.replyTo] : undefined,
    subject: checkedLine('subject', email.subject),
    html: email.html ?? undefined,
    text: email.text ?? undefined,
    messageId: messageIdFor(email),
    headers: customHeaders(email.headers),
    attachments: email.attachments.map(attachment),
    // The random part of the multipart boundaries. Given, it is drawn once per message from
    // node's cached UUID entropy; left out, nodemailer draws 8 bytes from the CSPRNG for every
    // MIME node (the text, the html, the alternative container) and uses only the root's.
    baseBoundary: randomUUID(),
  };
}

function customHeaders(headers: Readonly<Record<string, unknown>>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!-9;-~]+$/.test(name))
      throw new InvalidMessageError(`header name "${name}" is invalid`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) continue;
    result[name] = checkedLine(`header ${name}`, String(value));
  }
  return result;
}

/** Defence in depth: the API refuses CR/LF already, but a row must never inject a header. */
function checkedLine(field: string, value: string): string {
  if (LINE_BREAKS.test(value)) throw new InvalidMessageError(`${field} contains a line break`);
  return value;
}

function attachment(
  value: unknown,
  index: number,
): NonNullable<SendMailOptions['attachments']>[number] {
  const item = (value ?? {}) as Record<string, unknown>;
  const filename = item.filename;
  const content = item.content;
  const contentType = item.content_type ?? item.contentType;
  const contentId = item.content_id;
  if (typeof filename !== 'string' || typeof content !== 'string') {
    throw new InvalidMessageError(`attachments[${index}] needs a filename and base64 content`);
  }
  return {
    filename: checkedLine(`attachments[${index}].filename`, filename),
    content,
    encoding: 'base64',
    ...(typeof contentType === 'string'
      ? { contentType: checkedLine(`attachments[${index}].content_type`, contentType) }
      : {}),
    // An inline part of multipart/related, which the html shows as `cid:<content_id>`.
    ...(typeof contentId === 'string'
      ? {
          cid: checkedLine(`attachments[${index}].content_id`, contentId),
          contentDisposition: 'inline' as const,
        }
      : {}),
  };
}
