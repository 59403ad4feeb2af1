import type { SendMailOptions } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { OutgoingEmail } from './outgoing-email.js';

/**
 * Content (html + text + base64 attachments, in characters) up to which a message is built into
 * one Buffer and sent raw: a built message reaches the socket in a few large writes, where a
 * streamed one takes one write per MIME part. Larger messages stay streamed, to bound memory.
 */
export const PREBUILT_MAX_CONTENT_CHARS = 256 * 1024;

export function shouldPrebuild(email: OutgoingEmail): boolean {
  let chars = (email.html?.length ?? 0) + (email.text?.length ?? 0);
  for (const item of email.attachments) {
    const content = (item as { content?: unknown } | null)?.content;
    if (typeof content === 'string') chars += content.length;
    if (chars > PREBUILT_MAX_CONTENT_CHARS) return false;
  }
  return chars <= PREBUILT_MAX_CONTENT_CHARS;
}

/**
 * The same message, built by nodemailer's MailComposer (as sendMail would build it) and handed
 * over as `raw` with its envelope: the headers, Message-ID, parts and envelope are unchanged,
 * and Bcc stays out of the headers.
 */
export async function prebuiltMessage(message: SendMailOptions): Promise<SendMailOptions> {
  const node = new MailComposer({
    ...message,
    disableFileAccess: true,
    disableUrlAccess: true,
  }).compile();
  const envelope = node.getEnvelope();
  return { envelope, raw: await node.build() };
}
