/**
 * The one message every figure is measured with: a typical transactional email (a short
 * subject, ~2 KB of HTML and its text part, one recipient). The API runs, the SQL baseline and
 * the nodemailer baseline all send this same content.
 */
export const SAMPLE_FROM = 'SelfMX Bench <bench@selfmx.test>';
export const SAMPLE_SUBJECT = 'Your receipt from SelfMX Bench';

const paragraph =
  'Thank you for your order. This paragraph stands in for the body of a receipt, a password ' +
  'reset or a sign-in link: the kind of message a transactional email API sends all day.';

export const SAMPLE_TEXT = Array.from({ length: 6 }, () => paragraph).join('\n\n');
export const SAMPLE_HTML = `<!doctype html><html><body>${Array.from(
  { length: 6 },
  () => `<p style="font-family: sans-serif; color: #333">${paragraph}</p>`,
).join('')}</body></html>`;

export function sampleRecipient(index: number): string {
  return `customer-${index}@example.test`;
}

/** The POST /v1/emails body (Resend's shape). */
export function sampleEmailBody(index: number): string {
  return JSON.stringify({
    from: SAMPLE_FROM,
    to: [sampleRecipient(index)],
    subject: SAMPLE_SUBJECT,
    html: SAMPLE_HTML,
    text: SAMPLE_TEXT,
  });
}
