// The serial console on the Pi 4's own boot: the card a Raspberry Pi 4 profile writes (Debian's parts), on QEMU's
// raspi4b with the mini UART — the Pi's console on GPIO 14/15 — on a pty, opened through the serial service as a
// USB-UART adapter is. The console shows U-Boot, Xen and Dom0; the timeline reaches Dom0 userspace; keystrokes reach
// U-Boot, Xen (Ctrl-A three times) and Dom0's shell (`xl list`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../shared/console/timeline';
import { findExecutable } from '../../electron/node/host-tools';
import { emulatorCacheDir, runInPrivateNetwork } from '../helpers/private-network';

const canRun =
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  Boolean(findExecutable('apt-get') && findExecutable('dpkg-deb') && findExecutable('unshare') && findExecutable('dtc'));
if (!canRun) console.warn('Skipping the serial console on raspi4b: it needs root, apt-get, dpkg-deb, unshare and dtc (Debian).');

interface Run {
  steps: Array<{ step: string; xenInput?: string }>;
  done?: { console: string; timeline: TimelineEntry[]; log: { path: string; bytes: number }; ms: number; changes: string[] };
  error?: { message: string };
}

describe.skipIf(!canRun)('the serial console on the emulated Pi 4 (raspi4b, mini UART on a pty)', () => {
  let run: Run;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-serial-pi4-'));
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  beforeAll(async () => {
    // a private network like the other boots: the card boots SD-only, and nothing here may reach the LAN
    const { messages, stderr } = await runInPrivateNetwork(path.join(__dirname, 'serial-raspi4b-runner.ts'), [], {
      XEN_PI_IMAGER_CACHE: emulatorCacheDir,
      XEN_PI_IMAGER_HOME: home,
      TRIAL_TIMEOUT: '400',
    });
    run = { steps: [] };
    for (const message of messages as Array<{ type: string; step?: string; xenInput?: string; error?: Run['error'] } & Run['done']>) {
      if (message.type === 'step') run.steps.push({ step: message.step!, ...(message.xenInput && { xenInput: message.xenInput }) });
      if (message.type === 'done') run.done = message;
      if (message.type === 'error') run.error = message.error;
    }
    if (!run.done && !run.error) throw new Error(`the runner printed no result; stderr: ${stderr.slice(-2000)}`);
  }, 600_000);

  it('shows the Pi 4’s U-Boot, Xen and Dom0 on the console, and the timeline reaches Dom0 userspace', () => {
    expect(run.error).toBeUndefined();
    const text = run.done!.console;
    expect(text).toMatch(/^U-Boot 20\d\d\.\d\d/m);
    expect(text).toMatch(/^\(XEN\) Xen version 4\.17/m);
    expect(text).toMatch(/Machine model: Raspberry Pi 4 Model B/);
    const milestones = run.done!.timeline.flatMap((e) => (e.kind === 'milestone' ? [e.milestone.kind] : []));
    expect(milestones).toEqual(expect.arrayContaining(['uboot', 'xen', 'dom0-kernel', 'dom0-userspace']));
    expect(run.done!.timeline.some((e) => e.kind === 'failure')).toBe(false);
  });

  it('takes keystrokes in U-Boot, in Xen (Ctrl-A three times) and in Dom0’s shell', () => {
    expect(run.steps.map((s) => s.step)).toEqual(['opened', 'version', 'input-xen', 'input-dom0', 'xl-list']);
    expect(run.steps.find((s) => s.step === 'input-xen')?.xenInput).toBe('Xen');
    expect(run.done!.console).toMatch(/version\r?\n(?:\r?\n)?U-Boot 20\d\d\.\d\d/);
    expect(run.done!.console).toMatch(/Domain-0\s+0\s+\d+\s+1\s/);
  });

  it('logs the session with every line’s time', () => {
    const log = fs.readFileSync(run.done!.log.path, 'latin1');
    expect(log).toMatch(/^\[\d{4}-[^\]]+Z\] \(XEN\) Xen version 4\.17/m);
  });
});
