import type { NewEmail } from './email-repository.js';

/**
 * An email as a client asks to send it, in the shape of Resend's send-email request
 * (snake_case), once validated: recipients are lists of mailboxes (`"Name" <addr>`), headers
 * hold no reserved name, and either a subject with a body or a template is given.
 */
export interface SendEmailRequest {
  from: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  reply_to?: string[];
  subject?: string;
  html?: string;
  text?: string;
  headers?: Record<string, string>;
  attachments?: NewEmail['attachments'];
  tags?: NewEmail['tags'];
  /** A template id or name, rendered with `template_data`. */
  template_id?: string;
  template_data?: Record<string, unknown>;
  /** Resend's newer template form, the same as template_id + template_data. */
  template?: { id: string; variables?: Record<string, unknown> };
  /** When to send it (see scheduled-at.ts), resolved when the email is accepted. */
  scheduled_at?: string;
}
