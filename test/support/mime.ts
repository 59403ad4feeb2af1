/**
 * A minimal reader for the MIME messages that nodemailer writes, so tests can assert on headers,
 * bodies and attachments without a mail-parsing dependency. Handles multipart nesting,
 * quoted-printable and base64; that is all an SMTP sink in tests needs.
 */

export interface MimeHeader {
  readonly name: string;
  readonly value: string;
}

export interface MimePart {
  readonly headers: readonly MimeHeader[];
  /** The first value of a header (case-insensitive name), unfolded; undefined when absent. */
  header(name: string): string | undefined;
  /** Lower-case media type without parameters, e.g. `text/plain`. */
  readonly contentType: string;
  /** Decoded body (empty for a multipart container). */
  readonly body: Buffer;
  readonly filename: string | undefined;
  /** Child parts of a multipart; empty otherwise. */
  readonly parts: readonly MimePart[];
}

export function parseMime(raw: string): MimePart {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split === -1 ? raw : raw.slice(0, split);
  const rest = split === -1 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = parseHeaders(head);
  const header = (name: string) =>
    headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
  const typeHeader = header('content-type') ?? 'text/plain';
  const contentType = typeHeader.split(';')[0]?.trim().toLowerCase() ?? 'text/plain';
  const boundary = parameter(typeHeader, 'boundary');
  const parts =
    contentType.startsWith('multipart/') && boundary ? splitMultipart(rest, boundary) : [];
  const body =
    parts.length > 0 ? Buffer.alloc(0) : decode(rest, header('content-transfer-encoding'));
  const disposition = header('content-disposition') ?? '';
  const filename = parameter(disposition, 'filename') ?? parameter(typeHeader, 'name');
  return { headers, header, contentType, body, filename, parts };
}

/** Every leaf part, depth first (text bodies and attachments). */
export function leafParts(part: MimePart): MimePart[] {
  return part.parts.length === 0 ? [part] : part.parts.flatMap(leafParts);
}

function parseHeaders(head: string): MimeHeader[] {
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  return unfolded
    .split(/\r?\n/)
    .filter((line) => line.includes(':'))
    .map((line) => {
      const colon = line.indexOf(':');
      return { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() };
    });
}

function parameter(headerValue: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}="?([^";]+)"?`, 'i').exec(headerValue);
  return match?.[1];
}

function splitMultipart(body: string, boundary: string): MimePart[] {
  const delimiter = `--${boundary}`;
  const sections = body.split(new RegExp(`\\r?\\n?${escapeRegExp(delimiter)}`));
  // sections[0] is the preamble; the section starting with `--` is the epilogue.
  return sections
    .slice(1)
    .filter((section) => !section.startsWith('--'))
    .map((section) => parseMime(section.replace(/^[ \t]*\r?\n/, '')));
}

function decode(body: string, encoding: string | undefined): Buffer {
  switch ((encoding ?? '7bit').toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return Buffer.from(body, 'utf8');
  }
}

function decodeQuotedPrintable(body: string): Buffer {
  const softBreaksRemoved = body.replace(/=\r?\n/g, '');
  // Runs of =XX escapes (odd indices after the split) are bytes; the text between is UTF-8.
  // Whole runs at a time: a byte-by-byte loop made the sink the bottleneck of `npm run bench`.
  const parts = softBreaksRemoved.split(/((?:=[0-9A-Fa-f]{2})+)/);
  return Buffer.concat(
    parts.map((part, index) =>
      index % 2 === 1 ? Buffer.from(part.replace(/=/g, ''), 'hex') : Buffer.from(part, 'utf8'),
    ),
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
