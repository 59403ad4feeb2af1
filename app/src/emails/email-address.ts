import { bareAddress } from '../smtp/envelope.js';

/**
 * Mailbox parsing for the sending API: `a@example.com`, `Name <a@example.com>` or
 * `"Name, Inc." <a@example.com>`. Anything that could smuggle a header or a recipient (CR, LF,
 * other control characters, a second address) is refused, display names included.
 */

export interface Mailbox {
  readonly name: string | undefined;
  readonly address: string;
}

export const MAX_ADDRESS_LENGTH = 254;
export const MAX_DISPLAY_NAME_LENGTH = 200;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const NAME_AND_ADDRESS = /^(.*?)\s*<([^<>]*)>$/;

/** A mailbox, or the reason it is refused. */
export function parseMailbox(input: string): Mailbox | { error: string } {
  if (CONTROL_CHARACTERS.test(input)) {
    return { error: 'must not contain control characters such as CR or LF' };
  }
  const trimmed = input.trim();
  const match = NAME_AND_ADDRESS.exec(trimmed);
  const rawName = match ? (match[1] ?? '').trim() : undefined;
  const address = (match ? (match[2] ?? '') : trimmed).trim();
  const addressError = checkAddress(address);
  if (addressError) return { error: addressError };
  if (rawName === undefined || rawName === '') return { name: undefined, address };
  const name = unquote(rawName);
  if (name.length > MAX_DISPLAY_NAME_LENGTH) {
    return { error: `display name must be at most ${MAX_DISPLAY_NAME_LENGTH} characters` };
  }
  if (/["\\<>]/.test(name)) {
    return { error: 'display name must not contain quotes, backslashes or angle brackets' };
  }
  return { name, address };
}

/** The canonical text stored and handed to nodemailer: the name is always quoted. */
export function formatMailbox(mailbox: Mailbox): string {
  return mailbox.name === undefined ? mailbox.address : `"${mailbox.name}" <${mailbox.address}>`;
}

/** The bare address of a stored mailbox text (`"Name" <a@b>` -> `a@b`). */
export function addressOf(mailbox: string): string {
  return bareAddress(mailbox);
}

function checkAddress(address: string): string | undefined {
  const invalid = `"${address}" is not a valid email address (expected name@example.com)`;
  if (address.length > MAX_ADDRESS_LENGTH) {
    return `address must be at most ${MAX_ADDRESS_LENGTH} characters`;
  }
  const at = address.lastIndexOf('@');
  if (at <= 0) return invalid;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64 || !LOCAL_PART.test(local)) return invalid;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label))) return invalid;
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return invalid;
  return undefined;
}

function unquote(name: string): string {
  return name.length >= 2 && name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1) : name;
}
