// What one network peer may cost the server: slots in total and per client, which idle transfer gives way, and rate-limited notices of each limit hit.
import type { TftpLimit, TftpLimitEvent, TftpPeer } from '../../../shared/api/tftp';

/**
 * The defaults, and why. tftpd-hpa forks a process per request with no limit, answers one block at
 * a time and backs off from 1 s; dnsmasq caps transfers at 50. We keep a slot table, but nobody can
 * hold it: a client has a share of it, and a transfer whose client missed a deadline gives way.
 */
export const DEFAULT_LIMITS = {
  /** Transfers at once, across every client. */
  maxTransfers: 128,
  /** Transfers at once from one IPv4 address: a Pi asks one file at a time; ten boards behind one address still fit. */
  maxTransfersPerClient: 16,
  /**
   * Largest `timeout` option accepted, in seconds (U-Boot asks 5, curl 6). RFC 2349 lets the server
   * only echo the value or leave it out, so a longer one is declined and the server keeps its own
   * default. It is also how long a silent client's transfer counts as active before it may give way.
   */
  maxTimeoutSeconds: 10,
  /**
   * Payload bytes one transfer may have in flight (windowsize × blksize): the window is lowered to fit
   * (RFC 7440 lets the server answer a smaller one), never below 1. 64 KiB is one block at the largest
   * blksize, as tftpd-hpa sends, and 44 blocks of U-Boot's 1468: a LAN's bandwidth-delay product many times over.
   */
  maxWindowBytes: 64 * 1024,
  /** Payload bytes in flight across all transfers: beyond it, new transfers get a window of one block. */
  maxBytesInFlight: 4 * 1024 * 1024,
  /** At most one notice per limit in this interval; the rest are counted. */
  noticeIntervalMs: 10_000,
} as const;

/** A transfer's claim on a slot, as admission sees it. */
export interface Slot {
  client: TftpPeer;
  /** When its client last made progress, if the transfer has since missed a deadline (idle); undefined while it is active. */
  readonly idleSince: number | undefined;
}

export type Admission<S extends Slot> = { admit: true; shed?: S } | { admit: false; limit: 'transfers' | 'per-client'; running: number };

/**
 * Whether a new request from `client` gets a slot. Within the limits it does; at a limit, the
 * transfer idle the longest gives way (of the same client for its share, of anyone for the total);
 * only when every transfer in the way is active is the request refused.
 */
export function admit<S extends Slot>(
  slots: readonly S[],
  client: TftpPeer,
  limits: { maxTransfers: number; maxTransfersPerClient: number },
): Admission<S> {
  const own = slots.filter((slot) => slot.client.address === client.address);
  if (own.length >= limits.maxTransfersPerClient) {
    const shed = longestIdle(own);
    return shed ? { admit: true, shed } : { admit: false, limit: 'per-client', running: own.length };
  }
  if (slots.length >= limits.maxTransfers) {
    const shed = longestIdle(slots);
    return shed ? { admit: true, shed } : { admit: false, limit: 'transfers', running: slots.length };
  }
  return { admit: true };
}

function longestIdle<S extends Slot>(slots: readonly S[]): S | undefined {
  let oldest: S | undefined;
  for (const slot of slots) {
    if (slot.idleSince !== undefined && (oldest === undefined || slot.idleSince < oldest.idleSince!)) oldest = slot;
  }
  return oldest;
}

export type LimitNotice = Omit<TftpLimitEvent, 'kind' | 'time' | 'suppressed'>;

/**
 * Reports each limit at most once per interval, so a flood of refusals cannot flood the log, the
 * terminal or the UI: the first hit is told at once; later ones are held, and the last of them is
 * told when the interval ends (or the server stops), with how many others it stands for.
 */
export class LimitNotices {
  private readonly state = new Map<TftpLimit, { toldAt: number; held: number; last?: LimitNotice; timer?: NodeJS.Timeout }>();

  constructor(
    private readonly intervalMs: number,
    private readonly tell: (notice: LimitNotice, suppressed: number) => void,
  ) {}

  report(notice: LimitNotice): void {
    const now = performance.now();
    const state = this.state.get(notice.limit);
    if (!state || (now - state.toldAt >= this.intervalMs && state.held === 0)) {
      this.state.set(notice.limit, { toldAt: now, held: 0 });
      return this.tell(notice, 0);
    }
    state.held++;
    state.last = notice;
    state.timer ??= setTimeout(() => this.flush(notice.limit), Math.max(0, state.toldAt + this.intervalMs - now)).unref();
  }

  /** Tells what is held at once (the server is stopping). */
  close(): void {
    for (const limit of this.state.keys()) this.flush(limit);
  }

  private flush(limit: TftpLimit): void {
    const state = this.state.get(limit);
    if (!state) return;
    clearTimeout(state.timer);
    state.timer = undefined;
    if (state.held === 0 || !state.last) return;
    const { held, last } = state;
    Object.assign(state, { toldAt: performance.now(), held: 0, last: undefined });
    this.tell(last, held - 1);
  }
}
