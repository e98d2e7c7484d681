// Text from the network made safe to print: control characters shown as \xNN, so a request cannot drive the operator's terminal or forge log lines.

/** C0 controls (ESC, CR, LF, BEL...), DEL, C1 controls (0x9b is a one-byte CSI), Unicode line separators and bidi overrides. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escape(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every unprintable character escaped; idempotent, so escaping twice changes nothing. */
export function printable(text: string): string {
  UNPRINTABLE.lastIndex = 0;
  return UNPRINTABLE.test(text) ? text.replace(UNPRINTABLE, escape) : text;
}

/** A plain event or log entry with every string in it (keys of nested records too) made printable. */
export function printableFields<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => printableFields(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) copy[printable(key)] = printableFields(field);
  return copy as T;
}
