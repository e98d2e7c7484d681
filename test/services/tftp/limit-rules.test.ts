// The limit rules as pure functions: admission and giving way, rate-limited notices, retransmission backoff, negotiation within the byte limits.
import { describe, expect, it, vi } from 'vitest';
import { admit, DEFAULT_LIMITS, LimitNotices, type LimitNotice, type Slot } from '../../../electron/services/tftp/limits';
import { negotiate } from '../../../electron/services/tftp/options';
import { retransmitDelay } from '../../../electron/services/tftp/transfer';

const slot = (address: string, idleSince?: number): Slot => ({ client: { address, port: 1000 }, idleSince });
const limits = { maxTransfers: 4, maxTransfersPerClient: 2 };

describe('admission', () => {
  it('admits within both limits', () => {
    expect(admit([slot('10.0.0.1'), slot('10.0.0.2')], { address: '10.0.0.1', port: 2 }, limits)).toEqual({ admit: true });
  });

  it('at a client’s share, ends that client’s longest idle transfer, or refuses if none is idle', () => {
    const idleLong = slot('10.0.0.1', 100);
    const idleShort = slot('10.0.0.1', 500);
    expect(admit([slot('10.0.0.2', 1), idleShort, idleLong], { address: '10.0.0.1', port: 2 }, limits)).toEqual({
      admit: true,
      shed: idleLong,
    });
    expect(admit([slot('10.0.0.2', 1), slot('10.0.0.1'), slot('10.0.0.1')], { address: '10.0.0.1', port: 2 }, limits)).toEqual({
      admit: false,
      limit: 'per-client',
      running: 2,
    });
  });

  it('at the total, ends anyone’s longest idle transfer, or refuses if every one is active', () => {
    const idle = slot('10.0.0.3', 50);
    const full = [slot('10.0.0.1'), slot('10.0.0.2', 80), idle, slot('10.0.0.4')];
    expect(admit(full, { address: '10.0.0.9', port: 2 }, limits)).toEqual({ admit: true, shed: idle });
    const busy = [slot('10.0.0.1'), slot('10.0.0.2'), slot('10.0.0.3'), slot('10.0.0.4')];
    expect(admit(busy, { address: '10.0.0.9', port: 2 }, limits)).toEqual({ admit: false, limit: 'transfers', running: 4 });
  });
});

describe('notices', () => {
  const notice = (n: number): LimitNotice => ({ limit: 'transfers', message: `refusal ${n}` });

  it('tells the first hit at once, holds the rest, and tells the last of them with their count when the interval ends', () => {
    vi.useFakeTimers();
    try {
      const told: Array<[string, number]> = [];
      const notices = new LimitNotices(10_000, (hit, suppressed) => told.push([hit.message, suppressed]));
      for (let n = 1; n <= 5; n++) notices.report(notice(n));
      notices.report({ limit: 'shed', message: 'another limit' });
      expect(told).toEqual([
        ['refusal 1', 0],
        ['another limit', 0],
      ]);
      vi.advanceTimersByTime(10_000);
      expect(told.at(-1)).toEqual(['refusal 5', 3]);
      notices.report(notice(6)); // within the next interval: held again
      expect(told).toHaveLength(3);
      notices.close();
      expect(told.at(-1)).toEqual(['refusal 6', 0]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('retransmission', () => {
  it('waits twice as long after each retransmission without news, up to 32 times the timeout', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 9].map((retries) => retransmitDelay(1000, retries))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 32_000, 32_000,
    ]);
  });
});

describe('negotiation within the byte limits', () => {
  const defaults = {
    maxBlksize: 65464,
    maxWindowsize: 64,
    defaultTimeoutMs: 1000,
    maxTimeoutSeconds: DEFAULT_LIMITS.maxTimeoutSeconds,
    maxWindowBytes: DEFAULT_LIMITS.maxWindowBytes,
  };
  const options = (entries: Array<[string, string]>) => new Map(entries);

  it('lowers the window to fit the bytes allowed, whichever order blksize and windowsize come in', () => {
    expect(
      negotiate(
        options([
          ['windowsize', '64'],
          ['blksize', '65464'],
        ]),
        1,
        defaults,
      ),
    ).toMatchObject({
      windowsize: 1,
      windowAsked: 64,
      reply: [
        ['windowsize', '1'],
        ['blksize', '65464'],
      ],
    });
    expect(
      negotiate(
        options([
          ['blksize', '1468'],
          ['windowsize', '64'],
        ]),
        1,
        defaults,
      ),
    ).toMatchObject({ windowsize: 44, windowAsked: 64 });
    expect(
      negotiate(
        options([
          ['blksize', '1468'],
          ['windowsize', '8'],
        ]),
        1,
        defaults,
      ),
    ).not.toHaveProperty('windowAsked');
    expect(negotiate(options([['windowsize', '8']]), 1, { ...defaults, maxWindowBytes: 0 })).toMatchObject({
      windowsize: 1,
      reply: [['windowsize', '1']],
    });
  });

  it('declines a timeout above the limit, keeping the server’s own', () => {
    expect(
      negotiate(
        options([
          ['timeout', '11'],
          ['tsize', '0'],
        ]),
        9,
        defaults,
      ),
    ).toEqual({ blksize: 512, windowsize: 1, timeoutMs: 1000, timeoutDeclined: 11, reply: [['tsize', '9']] });
    expect(negotiate(options([['timeout', '10']]), 9, defaults)).toEqual({
      blksize: 512,
      windowsize: 1,
      timeoutMs: 10_000,
      reply: [['timeout', '10']],
    });
  });
});
