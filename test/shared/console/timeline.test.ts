// The one boot timeline: a recorded boot's console and the TFTP server's transfers side by side, stalls, resets,
// Xen's console switch, and the same recogniser the QEMU trial uses.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TftpTransferEvent } from '../../../shared/api/tftp';
import { TimestampedLines } from '../../../shared/console/log';
import { BootTimeline, xenInputWords, type TimelineEntry } from '../../../shared/console/timeline';
import { adapterChip, portLabel } from '../../../shared/console/adapters';
import { MAX_LINE_CHARS } from '../../../shared/emulator/milestones';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../emulator/fixtures', `${name}.console.txt`), 'latin1');

function feed(timeline: BootTimeline, log: string, chunk = 41): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (let i = 0, t = 0; i < log.length; i += chunk, t += 5) entries.push(...timeline.console(log.slice(i, i + chunk), t));
  return entries;
}

const kinds = (entries: readonly TimelineEntry[]) => entries.map((e) => (e.kind === 'milestone' ? e.milestone.kind : e.kind));

describe('the boot timeline', () => {
  it('reads a Pi 4 boot (the mini UART misses U-Boot’s banner) to the Dom0 shell, and who has Xen’s input', () => {
    const timeline = new BootTimeline({ startedAt: 0 });
    feed(timeline, fixture('raspi4b-ok'));
    expect(kinds(timeline.entries)).toEqual(
      expect.arrayContaining(['boot-script-found', 'stage1', 'xen', 'input', 'dom0-userspace', 'dom0-shell']),
    );
    expect(timeline.xenInput).toBe('DOM0');
    expect(xenInputWords(timeline.xenInput)).toBe('Dom0 has the input');
    expect(xenInputWords('Xen')).toBe('Xen has the input');
  });

  it('puts each TFTP transfer beside the milestones, with its rate, and replaces the request by its outcome', () => {
    const timeline = new BootTimeline({ startedAt: 1_000_000 });
    const base = { id: 7, file: 'boot2.scr', client: { address: '192.168.1.20', port: 2070 }, time: 1_002_000 };
    const asked = timeline.tftp({ ...base, kind: 'request', mode: 'octet', options: { blksize: '1468' } } as TftpTransferEvent);
    expect(asked[0]).toMatchObject({ kind: 'transfer', state: 'asked', timeMs: 2000, label: 'boot2.scr asked for by 192.168.1.20:2070' });
    timeline.tftp({
      ...base,
      time: 1_002_010,
      kind: 'done',
      bytes: 2150,
      ms: 10,
      rate: 215_000,
      blksize: 1468,
      windowsize: 1,
      retransmissions: 0,
    });
    expect(timeline.entries).toHaveLength(1);
    expect(timeline.entries[0]).toMatchObject({ state: 'done', rate: 215_000, label: 'boot2.scr: 2.1 KiB in 0.01 s (210.0 KiB/s)' });
    timeline.tftp({ ...base, id: 8, file: 'xen', kind: 'error', why: 'xen is not in the TFTP root' });
    expect(timeline.entries[1]).toMatchObject({ state: 'failed', label: 'xen not sent: xen is not in the TFTP root' });
  });

  it('says the boot stalled after a milestone when the board falls silent, once per silence', () => {
    const timeline = new BootTimeline({ startedAt: 0, stallSeconds: 30 });
    timeline.console('U-Boot 2023.01 (Jan 01 2024)\r\n', 1000);
    expect(timeline.tick(20_000)).toEqual([]);
    const stalled = timeline.tick(31_500);
    expect(stalled).toEqual([
      expect.objectContaining({ kind: 'stall', after: 'uboot', label: 'Nothing for 31 s after “U-Boot 2023.01 started”' }),
    ]);
    expect(timeline.tick(60_000)).toEqual([]);
    timeline.console('Found U-Boot script /boot.scr\r\n', 61_000);
    expect(timeline.tick(80_000)).toEqual([]);
  });

  it('starts a new boot when the board is reset, but not for U-Boot’s version command', () => {
    const timeline = new BootTimeline({ startedAt: 0 });
    timeline.console(
      'U-Boot 2023.01 (Jan 01 2024)\r\nHit any key to stop autoboot:  0 \r\n=> version\r\nU-Boot 2023.01 (Jan 01 2024)\r\n\r\n',
      10,
    );
    expect(kinds(timeline.entries)).toEqual(['uboot']);
    timeline.console('## Executing script at 02400000\r\n\r\nU-Boot 2023.01 (Jan 01 2024)\r\n', 20);
    expect(kinds(timeline.entries)).toEqual(['uboot', 'stage1', 'new-boot', 'uboot']);
    expect(timeline.entries.at(-1)).toMatchObject({ boot: 2 });
    expect(timeline.current.milestones.map((m) => m.kind)).toEqual(['uboot']);
  });

  it('diagnoses a Xen panic with its line, as the trial does', () => {
    const timeline = new BootTimeline({ startedAt: 0 });
    const entries = feed(timeline, fixture('xenpanic'));
    const failure = entries.find((e) => e.kind === 'failure');
    expect(failure).toMatchObject({ kind: 'failure', diagnosis: { kind: 'xen-panic' } });
  });

  it('cuts a line without end instead of holding it all', () => {
    const timeline = new BootTimeline({ startedAt: 0 });
    timeline.console('x'.repeat(3 * MAX_LINE_CHARS), 1);
    timeline.console('y'.repeat(3 * MAX_LINE_CHARS) + '\nU-Boot 2023.01 (x)\n', 2);
    expect(kinds(timeline.entries)).toEqual(['uboot']);
  });
});

describe('the console log', () => {
  it('stamps each line once, even when a line spans chunks', () => {
    const lines = new TimestampedLines();
    const at = Date.UTC(2026, 11, 4, 16, 50, 1, 123);
    const text = lines.stamp('U-Boot 20', at) + lines.stamp('23.01\r\nHit any', at + 5) + lines.stamp(' key\r\n\r\n', at + 9);
    expect(text).toBe(
      '[2026-12-04T16:50:01.123Z] U-Boot 2023.01\r\n[2026-12-04T16:50:01.128Z] Hit any key\r\n[2026-12-04T16:50:01.132Z] \r\n',
    );
  });
});

describe('USB-UART adapters', () => {
  it('names the usual chips and labels a port the way a user recognises it', () => {
    expect(adapterChip('0403', '6001')).toBe('FTDI FT232R');
    expect(adapterChip('10C4', 'EA60')).toBe('Silicon Labs CP210x');
    expect(adapterChip('1a86', '7523')).toBe('WCH CH340');
    expect(adapterChip('067b', '2303')).toBe('Prolific PL2303');
    expect(adapterChip('1234', '5678')).toBeUndefined();
    expect(portLabel({ path: '/dev/ttyUSB0', chip: 'FTDI FT232R', manufacturer: 'FTDI', product: 'FT232R USB UART' })).toBe(
      'FTDI FT232R USB UART (ttyUSB0)',
    );
    expect(portLabel({ path: '/dev/ttyUSB1', chip: 'WCH CH340', product: 'USB Serial' })).toBe('USB Serial (ttyUSB1)');
    expect(
      portLabel({
        path: '/dev/ttyUSB2',
        chip: 'Prolific PL2303',
        manufacturer: 'Prolific Technology Inc.',
        product: 'USB-Serial Controller',
      }),
    ).toBe('Prolific Technology Inc. USB-Serial Controller (ttyUSB2)');
    expect(portLabel({ path: '/dev/ttyS0' })).toBe('ttyS0');
  });
});
