// A real boot on a serial line: QEMU virt's UART on a pty, opened through the serial service as a USB-UART adapter is;
// the console shows U-Boot, Xen and Dom0, the timeline (with the TFTP server's transfers) reaches Dom0 userspace, keystrokes
// reach U-Boot, and Ctrl-A three times switches Xen's input. The boot runs in a child inside `unshare -n` (port 69).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../shared/console/timeline';
import { cachedDebianParts, fetchDebianParts } from '../../electron/services/emulator/debian-parts';
import { emulatorCacheDir as cacheDir, qemuBootSkipReason, runInPrivateNetwork } from '../helpers/private-network';

const skip = qemuBootSkipReason();
if (skip) console.warn(`Skipping the serial console's QEMU boot: ${skip}.`);

interface Run {
  steps: Array<{ step: string; xenInput?: string; pty?: string }>;
  states: Array<{ state: string; message: string }>;
  done?: { console: string; timeline: TimelineEntry[]; exitCode: number | string | null; log: { path: string; bytes: number }; ms: number };
  error?: { message: string };
}

async function runBoot(home: string): Promise<Run> {
  const { messages, stderr } = await runInPrivateNetwork(path.join(__dirname, 'serial-qemu-runner.ts'), [], {
    XEN_PI_IMAGER_HOME: home,
    TRIAL_TIMEOUT: '150',
  });
  const run: Run = { steps: [], states: [] };
  for (const message of messages as Array<
    { type: string; name?: string; payload?: Run['states'][number] } & Run['steps'][number] & Run['done'] & { error: Run['error'] }
  >) {
    if (message.type === 'step') run.steps.push(message);
    if (message.type === 'event' && message.name === 'serial:state') run.states.push(message.payload!);
    if (message.type === 'done') run.done = message;
    if (message.type === 'error') run.error = message.error;
  }
  if (!run.done && !run.error) throw new Error(`the runner printed no result; stderr: ${stderr.slice(-2000)}`);
  return run;
}

describe.skipIf(skip !== undefined)('the serial console on a real boot (QEMU virt, UART on a pty)', () => {
  let home: string;
  let run: Run;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-qemu-home-'));
    if (!(await cachedDebianParts('4.17', cacheDir))) await fetchDebianParts({ xenVersion: '4.17', cacheDir });
    run = await runBoot(home);
  }, 300_000);

  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('shows U-Boot, Xen and Dom0 on the console, and the timeline reaches Dom0 userspace with the TFTP transfers beside it', () => {
    expect(run.error).toBeUndefined();
    const { console: text, timeline } = run.done!;
    expect(text).toMatch(/^U-Boot 2023\.01/m);
    expect(text).toMatch(/^\(XEN\) Xen version 4\.17/m);
    expect(text).toMatch(/Booting Linux on physical CPU/);
    const milestones = timeline.flatMap((e) => (e.kind === 'milestone' ? [e.milestone.kind] : []));
    expect(milestones).toEqual(expect.arrayContaining(['uboot', 'stage1', 'stage2', 'xen', 'dom0-kernel', 'dom0-userspace']));
    expect(timeline.some((e) => e.kind === 'failure')).toBe(false);
    const transfers = timeline.flatMap((e) => (e.kind === 'transfer' && e.state === 'done' ? [e] : []));
    expect(transfers.map((t) => t.file)).toEqual([
      'boot2.scr',
      expect.stringMatching(/^vmlinuz-/),
      'dom0-initramfs.cpio.gz',
      'xen-4.17-arm64',
      'virt.dtb',
    ]);
    expect(transfers.every((t) => t.rate! > 0 && /\/s\)$/.test(t.label))).toBe(true);
    // the kernel's transfer sits between stage 2 starting and U-Boot handing over to Xen
    const at = (kind: string) => timeline.findIndex((e) => e.kind === 'milestone' && e.milestone.kind === kind);
    const kernel = timeline.findIndex((e) => e.kind === 'transfer' && /^vmlinuz-/.test(e.file));
    // The server's events arrive at once, the console's bytes through the pty a little later (seconds on a loaded machine),
    // so only the order the console cannot invert is asserted: the kernel's transfer before U-Boot hands over to Xen.
    expect(at('stage1')).toBeGreaterThanOrEqual(0);
    expect(kernel).toBeLessThan(at('starting-kernel'));
    console.info(
      `Boot on the pty to Dom0 userspace: ${(timeline.find((e) => e.kind === 'milestone' && e.milestone.kind === 'dom0-userspace')!.timeMs / 1000).toFixed(1)} s`,
    );
  });

  it('takes keystrokes: stops U-Boot’s autoboot and runs `version` at its prompt', () => {
    expect(run.steps.map((s) => s.step)).toContain('version');
    expect(run.done!.console).toMatch(/=> version\r\nU-Boot 2023\.01[^\n]*\r\n[\s\S]*?=> boot\r\n/);
  });

  it('switches Xen’s input with Ctrl-A three times, and knows who has it', () => {
    expect(run.steps.find((s) => s.step === 'input-xen')?.xenInput).toBe('Xen');
    expect(run.steps.find((s) => s.step === 'input-dom0')?.xenInput).toBe('DOM0');
    expect(run.done!.console).toMatch(/\(XEN\) \*\*\* Serial input to Xen \(type 'CTRL-a' three times to switch input\)/);
    const inputs = run.done!.timeline.flatMap((e) => (e.kind === 'input' ? [e.owner] : []));
    expect(inputs.slice(-2)).toEqual(['Xen', 'DOM0']);
  });

  it('logs the session with timestamps, and says the line went away when QEMU powered off', () => {
    const log = fs.readFileSync(run.done!.log.path, 'latin1');
    expect(log).toMatch(/^\[\d{4}-[^\]]+Z\] \(XEN\) Xen version 4\.17/m);
    expect(run.done!.exitCode).toBe(0);
    expect(run.states.map((s) => s.state)).toEqual(['lost', 'closed']);
  });
});
