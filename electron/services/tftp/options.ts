// Option negotiation (RFC 2347 OACK, 2348 blksize, 2349 timeout and tsize, 7440 windowsize) for a read request.

export const DEFAULT_BLKSIZE = 512;
export const MIN_BLKSIZE = 8;
export const MAX_BLKSIZE = 65464;

export interface NegotiationLimits {
  /** Largest block the server offers (clients asking more get this). */
  maxBlksize: number;
  /** Largest window the server offers (RFC 7440 lets the server answer a smaller one). */
  maxWindowsize: number;
  /** Retransmission timeout when the client does not ask for one (or asks too long a one). */
  defaultTimeoutMs: number;
  /** Largest `timeout` accepted, in seconds; a larger one is left out of the OACK (RFC 2349 allows no other answer). */
  maxTimeoutSeconds: number;
  /** Payload bytes a window may hold: the windowsize is lowered until windowsize × blksize fits, to 1 at least. */
  maxWindowBytes: number;
}

export interface Negotiated {
  blksize: number;
  windowsize: number;
  timeoutMs: number;
  /** Options to acknowledge, in the order the client sent them; empty means no OACK (plain RFC 1350). */
  reply: Array<[string, string]>;
  /** A `timeout` (seconds) declined for being longer than the limit. */
  timeoutDeclined?: number;
  /** The windowsize asked for, when the limits answered a smaller one. */
  windowAsked?: number;
}

/** A strictly decimal value; anything else (signs, hex, blanks) counts as absent, so the option is ignored. */
function decimal(value: string): number | undefined {
  return /^\d{1,20}$/.test(value) ? Number(value) : undefined;
}

/**
 * Settles the options of a read request. Unknown options and invalid values are ignored (RFC 2347
 * lets a server leave out what it does not accept); too-large blksize and windowsize are lowered,
 * as RFC 2348 and 7440 allow. tsize is answered only when the size is known up front (octet mode).
 */
export function negotiate(requested: ReadonlyMap<string, string>, size: number | undefined, limits: NegotiationLimits): Negotiated {
  const result: Negotiated = { blksize: DEFAULT_BLKSIZE, windowsize: 1, timeoutMs: limits.defaultTimeoutMs, reply: [] };
  for (const [name, raw] of requested) {
    const value = decimal(raw);
    if (value === undefined) continue;
    switch (name) {
      case 'blksize':
        if (value < MIN_BLKSIZE) break;
        result.blksize = Math.min(value, limits.maxBlksize, MAX_BLKSIZE);
        result.reply.push([name, String(result.blksize)]);
        break;
      case 'timeout':
        if (value < 1 || value > 255) break;
        if (value > limits.maxTimeoutSeconds) {
          result.timeoutDeclined = value;
          break;
        }
        result.timeoutMs = value * 1000;
        result.reply.push([name, String(value)]);
        break;
      case 'tsize':
        if (size !== undefined) result.reply.push([name, String(size)]);
        break;
      case 'windowsize':
        if (value < 1) break;
        result.windowAsked = value;
        result.reply.push([name, '']); // the answer depends on the blksize, which may come later
        break;
      default:
        break; // unknown options are ignored (RFC 2347)
    }
  }
  const asked = result.windowAsked;
  if (asked === undefined) return result;
  const fits = Math.max(1, Math.floor(limits.maxWindowBytes / result.blksize));
  result.windowsize = Math.min(asked, limits.maxWindowsize, 65535, fits);
  result.reply = result.reply.map(([name, value]) => (name === 'windowsize' ? [name, String(result.windowsize)] : [name, value]));
  if (result.windowsize === asked) delete result.windowAsked;
  return result;
}
