// Option negotiation (RFC 2347 OACK, 2348 blksize, 2349 timeout and tsize, 7440 windowsize) for a read request.

export const DEFAULT_BLKSIZE = 512;
export const MIN_BLKSIZE = 8;
export const MAX_BLKSIZE = 65464;

export interface NegotiationLimits {
  /** Largest block the server offers (clients asking more get this). */
  maxBlksize: number;
  /** Largest window the server offers (RFC 7440 lets the server answer a smaller one). */
  maxWindowsize: number;
  /** Retransmission timeout when the client does not ask for one. */
  defaultTimeoutMs: number;
}

export interface Negotiated {
  blksize: number;
  windowsize: number;
  timeoutMs: number;
  /** Options to acknowledge, in the order the client sent them; empty means no OACK (plain RFC 1350). */
  reply: Array<[string, string]>;
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
        result.timeoutMs = value * 1000;
        result.reply.push([name, String(value)]);
        break;
      case 'tsize':
        if (size !== undefined) result.reply.push([name, String(size)]);
        break;
      case 'windowsize':
        if (value < 1) break;
        result.windowsize = Math.min(value, limits.maxWindowsize, 65535);
        result.reply.push([name, String(result.windowsize)]);
        break;
      default:
        break; // unknown options are ignored (RFC 2347)
    }
  }
  return result;
}
