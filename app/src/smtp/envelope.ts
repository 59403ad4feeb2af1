const NAME_AND_ADDRESS = /^(.*?)\s*<([^<>]*)>$/;

/** The bare address of a stored mailbox text (`"Name" <a@b>` -> `a@b`), as the envelope has it. */
export function bareAddress(mailbox: string): string {
  return NAME_AND_ADDRESS.exec(mailbox)?.[2] ?? mailbox;
}

/** Every envelope recipient of an email once, in order (addresses compare case-insensitively). */
export function envelopeRecipients(mailboxes: readonly string[]): string[] {
  const seen = new Set<string>();
  const recipients: string[] = [];
  for (const mailbox of mailboxes) {
    const address = bareAddress(mailbox);
    if (seen.has(address.toLowerCase())) continue;
    seen.add(address.toLowerCase());
    recipients.push(address);
  }
  return recipients;
}
