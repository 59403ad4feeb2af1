/** What a message is built from: the stored email's addresses, content and headers. */
export interface OutgoingEmail {
  readonly id: string;
  readonly fromAddress: string;
  readonly toAddresses: readonly string[];
  readonly ccAddresses: readonly string[];
  readonly bccAddresses: readonly string[];
  readonly replyTo: readonly string[];
  readonly subject: string;
  readonly html: string | null;
  readonly text: string | null;
  /** Custom headers, name -> value (validated by the API when accepted). */
  readonly headers: Readonly<Record<string, unknown>>;
  /** Resend-shaped: `{ filename, content (base64), content_type? }`. */
  readonly attachments: readonly unknown[];
}
