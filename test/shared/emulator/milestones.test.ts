// The console recogniser on real serial logs captured from QEMU boots (U-Boot 2023.01, Xen 4.17, Debian Linux 6.1).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanConsoleLine, ConsoleRecogniser, type RecogniserEvent } from '../../../shared/emulator/milestones';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures', `${name}.console.txt`), 'latin1');

/** Feeds a log in small uneven chunks, as a serial port delivers it, one "millisecond" per chunk. */
function replay(log: string, chunk = 37): { recogniser: ConsoleRecogniser; events: RecogniserEvent[] } {
  const recogniser = new ConsoleRecogniser();
  const events: RecogniserEvent[] = [];
  for (let i = 0, t = 0; i < log.length; i += chunk, t += 1) events.push(...recogniser.push(log.slice(i, i + chunk), t));
  return { recogniser, events };
}

describe('recognising boot milestones on the serial console', () => {
  it('follows a good boot from U-Boot to Dom0 power-off, in order', () => {
    const { recogniser } = replay(fixture('boot-ok'));
    recogniser.finish(0, 99_999);
    expect(recogniser.milestones.map((m) => m.kind)).toEqual([
      'uboot',
      'boot-script-found',
      'card-load', // boot.scr itself, read from the card
      'stage1',
      'tftp-load',
      'stage2',
      'tftp-load',
      'tftp-load',
      'tftp-load',
      'tftp-load',
      'starting-kernel',
      'xen',
      'dom0-kernel',
      'dom0-userspace',
      'power-off',
    ]);
    expect(recogniser.diagnosis).toBeUndefined();
    expect(recogniser.dom0UserspaceReached).toBe(true);
  });

  it('lists every TFTP load with its file name and byte count', () => {
    const { recogniser } = replay(fixture('boot-ok'));
    const loads = recogniser.milestones.filter((m) => m.kind === 'tftp-load').map((m) => [m.file, m.bytes]);
    expect(loads).toEqual([
      ['boot2.scr', 968],
      ['Image', 32956352],
      ['initrd', 1029720],
      ['xen', 983048],
      ['virt.dtb', 7375],
    ]);
  });

  it('keeps the Xen version line and what Dom0 reported about Xen', () => {
    const { recogniser } = replay(fixture('boot-ok'));
    expect(recogniser.xenVersionLine).toMatch(/^\(XEN\) Xen version 4\.17\.7 \(Debian/);
    expect(recogniser.milestones.find((m) => m.kind === 'xen')?.label).toBe('Xen 4.17.7 started');
    expect(recogniser.dom0).toEqual({ markerSeen: true, xenVersion: '4.17.7', capabilities: 'control_d', failures: [] });
    expect(recogniser.milestones.find((m) => m.kind === 'dom0-userspace')?.label).toBe('Dom0 userspace started (/init)');
  });

  it('stamps each milestone with the time its line arrived', () => {
    const { recogniser } = replay(fixture('boot-ok'));
    const times = recogniser.milestones.map((m) => m.timeMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThan(0);
  });

  it('gives the same result however the text is split into chunks', () => {
    const kinds = (chunk: number) => replay(fixture('boot-ok'), chunk).recogniser.milestones.map((m) => m.kind);
    expect(kinds(1)).toEqual(kinds(4096));
    expect(kinds(3)).toEqual(kinds(37));
  });

  it('reads a boot served by the imager’s own TFTP server through QEMU’s 255.255.255.255 relay', () => {
    const { recogniser } = replay(fixture('boot-ok-own-tftp'));
    expect(recogniser.diagnosis).toBeUndefined();
    expect(recogniser.milestones.filter((m) => m.kind === 'tftp-load').map((m) => m.file)).toEqual([
      'boot2.scr',
      'vmlinuz-6.1.0-56-arm64',
      'dom0-initramfs.cpio.gz',
      'xen-4.17-arm64',
      'virt.dtb',
    ]);
    expect(recogniser.dom0.capabilities).toBe('control_d');
  });

  it('says a boot script failed when U-Boot rejects its image', () => {
    const { recogniser } = replay(fixture('badscript'));
    expect(recogniser.diagnosis).toMatchObject({ kind: 'script-failed', after: 'stage2' });
    expect(recogniser.diagnosis!.line).toBe('Wrong image format for "source" command');
  });

  it('says which file the TFTP server did not have', () => {
    const { recogniser, events } = replay(fixture('nokernel'));
    expect(recogniser.diagnosis).toMatchObject({ kind: 'file-not-found', after: 'stage2' });
    expect(recogniser.diagnosis!.message).toContain('"Image"');
    // the first failure is the cause: Xen's later panic does not replace it
    expect(events.filter((e) => e.type === 'failure')).toHaveLength(1);
  });

  it('says U-Boot could not reach the TFTP server when it only times out (T T T)', () => {
    const { recogniser } = replay(fixture('notftp'));
    expect(recogniser.diagnosis).toMatchObject({ kind: 'tftp-unreachable', after: 'stage1' });
    expect(recogniser.diagnosis!.message).toContain('"boot2.scr"');
    expect(recogniser.diagnosis!.hint).toMatch(/TFTP server/);
  });

  it('waits for three TFTP timeouts before declaring the server unreachable', () => {
    const recogniser = new ConsoleRecogniser();
    recogniser.push("## Executing script at 40200000\nFilename 'boot2.scr'.\nLoading: *", 1);
    expect(recogniser.push('\bT T ', 2)).toEqual([]);
    expect(recogniser.push('T ', 3)[0]).toMatchObject({ type: 'failure', diagnosis: { kind: 'tftp-unreachable' } });
  });

  it('recognises a device tree missing at the address stage 2 gives', () => {
    const { recogniser } = replay(fixture('baddtb'));
    expect(recogniser.diagnosis).toMatchObject({ kind: 'device-tree', after: 'tftp-load' });
    expect(recogniser.diagnosis!.line).toContain('FDT_ERR_BADMAGIC');
  });

  it('quotes the reason of a Xen panic', () => {
    const { recogniser } = replay(fixture('xenpanic'));
    expect(recogniser.diagnosis).toMatchObject({ kind: 'xen-panic', after: 'xen' });
    expect(recogniser.diagnosis!.message).toContain('Failed to allocate requested dom0 memory. 2040MB unallocated');
    expect(recogniser.diagnosis!.hint).toMatch(/dom0_mem/);
  });

  it('quotes the reason of a Dom0 kernel panic', () => {
    const { recogniser } = replay(fixture('dom0panic'));
    expect(recogniser.diagnosis).toMatchObject({ kind: 'dom0-panic', after: 'dom0-kernel' });
    expect(recogniser.diagnosis!.message).toContain('VFS: Unable to mount root fs on unknown-block(0,0)');
    expect(recogniser.dom0UserspaceReached).toBe(false);
  });

  it('names the milestone where a boot got stuck when time runs out', () => {
    const recogniser = new ConsoleRecogniser();
    recogniser.push(fixture('boot-ok').split('Starting kernel')[0]!, 5);
    const [event] = recogniser.timeout(120, 120_000);
    expect(event).toMatchObject({ type: 'failure', diagnosis: { kind: 'timeout', after: 'tftp-load', timeMs: 120_000 } });
    expect(recogniser.diagnosis!.message).toMatch(/within 120 s: it got stuck after “Loaded virt\.dtb over TFTP/);
  });

  it('explains a QEMU exit that came before Dom0 userspace', () => {
    const recogniser = new ConsoleRecogniser();
    recogniser.push('\r\nU-Boot 2023.01 (Jan 01 2023)\r\n', 1);
    recogniser.finish(1, 2);
    expect(recogniser.diagnosis).toMatchObject({ kind: 'emulator-exited', after: 'uboot' });
    expect(recogniser.diagnosis!.message).toContain('exit status 1');
  });

  it('says so when U-Boot never found boot.scr', () => {
    const recogniser = new ConsoleRecogniser();
    recogniser.push('U-Boot 2023.01 (x)\nScanning virtio 0:1...\nBOOTP broadcast 1\n', 1);
    expect(recogniser.diagnosis?.kind).toBe('no-boot-script');
  });

  it('reads what a terminal would show: no escapes, backspaces applied', () => {
    expect(cleanConsoleLine('Loading: *\b#####\r')).toBe('Loading: #####');
    expect(cleanConsoleLine('\x1b7\x1b[r\x1b[999;999H\x1b[6n\x1b8No EFI system partition')).toBe('No EFI system partition');
  });
});
