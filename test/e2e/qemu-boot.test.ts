// End to end: Debian's real arm64 Xen 4.17, kernel and busybox, booted on QEMU through our generator, FAT image and TFTP server.
// Each boot runs in a child inside `unshare -n` (own loopback): it owns port 69 and no packet leaves the machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorResult } from '../../shared/api/emulator';
import type { TftpDoneEvent } from '../../shared/api/tftp';
import type { TimelineEntry } from '../../shared/console/timeline';
import { cachedDebianParts, fetchDebianParts } from '../../electron/services/emulator/debian-parts';
import { emulatorCacheDir as cacheDir, qemuBootSkipReason, runInPrivateNetwork } from '../helpers/private-network';

const TRIAL_TIMEOUT_S = 120;

const skip = qemuBootSkipReason();
if (skip) console.warn(`Skipping the QEMU boot tests: ${skip}.`);

interface Trial {
  result?: EmulatorResult;
  error?: { code: string; message: string };
  events: Array<{ name: string; payload: unknown }>;
  wallMs: number;
}

let home: string;
/** The trials' own temporary folder (their TMPDIR): what they leave behind is told apart from another suite's trials. */
let trialTmp: string;

/** Runs the runner script in a private network namespace and collects its JSON lines. */
function runTrial(scenario: string): Promise<Trial> {
  const started = Date.now();
  const runner = path.join(__dirname, 'qemu-boot-runner.ts');
  return runInPrivateNetwork(runner, [scenario], {
    XEN_PI_IMAGER_HOME: home,
    TRIAL_TIMEOUT: String(TRIAL_TIMEOUT_S),
    TMPDIR: trialTmp,
  }).then(({ messages, stderr }) => {
    const trial: Trial = { events: [], wallMs: Date.now() - started };
    for (const message of messages as Array<{
      type: string;
      name: string;
      payload: unknown;
      result: EmulatorResult;
      error: Trial['error'];
    }>) {
      if (message.type === 'event') trial.events.push({ name: message.name, payload: message.payload });
      if (message.type === 'result') trial.result = message.result;
      if (message.type === 'error') trial.error = message.error;
    }
    if (!trial.result && !trial.error) throw new Error(`the runner printed no result; stderr: ${stderr.slice(-2000)}`);
    return trial;
  });
}

function trialTempDirs(): string[] {
  return fs.readdirSync(trialTmp).filter((name) => name.startsWith('xen-pi-imager-qemu-'));
}

describe.skipIf(skip !== undefined)('trying the boot chain in QEMU', () => {
  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'qemu-e2e-home-'));
    trialTmp = path.join(home, 'tmp');
    fs.mkdirSync(trialTmp);
    // fetched here, once, so each boot below measures only the boot
    if (!(await cachedDebianParts('4.17', cacheDir))) await fetchDebianParts({ xenVersion: '4.17', cacheDir });
  }, 300_000);

  afterAll(() => {
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('boots Debian’s Xen 4.17 and Dom0 to userspace through our scripts, FAT image and TFTP server', async () => {
    const trial = await runTrial('ok');
    expect(trial.error).toBeUndefined();
    const result = trial.result!;
    expect(result.summary).toMatch(/^Dom0 userspace reached/);
    expect(result.ok).toBe(true);
    expect(result.exitCode).toBe(0); // our /init powered the machine off
    expect(result.xenVersionLine).toMatch(/^\(XEN\) Xen version 4\.17\.\d+ \(Debian /);
    expect(result.dom0.xenVersion).toMatch(/^4\.17\.\d+/);
    expect(result.dom0.capabilities).toBe('control_d');
    expect(result.dom0.failures).toEqual([]);
    expect(result.milestones.map((m) => m.kind).filter((kind, i, all) => all.indexOf(kind) === i)).toEqual([
      'uboot',
      'boot-script-found',
      'card-load',
      'stage1',
      'tftp-load',
      'stage2',
      'starting-kernel',
      'xen',
      'dom0-kernel',
      'dom0-userspace',
      'power-off',
    ]);
    // every boot file came from our TFTP server, with the block size U-Boot asks for
    const served = trial.events
      .filter((e) => e.name === 'tftp:transfer' && (e.payload as TftpDoneEvent).kind === 'done')
      .map((e) => e.payload as TftpDoneEvent);
    expect(served.map((t) => t.file)).toEqual([
      'boot2.scr',
      expect.stringMatching(/^vmlinuz-/),
      'dom0-initramfs.cpio.gz',
      'xen-4.17-arm64',
      'virt.dtb',
    ]);
    expect(served.every((t) => t.blksize === 1468 && t.client.address === '127.0.0.1')).toBe(true);
    const loads = result.milestones.filter((m) => m.kind === 'tftp-load').map((m) => [m.file, m.bytes]);
    expect(loads).toEqual(served.map((t) => [t.file, t.bytes]));
    // the trial's timeline is the serial console's: the same transfers beside the milestones, with their rates
    const timeline = trial.events.filter((e) => e.name === 'emulator:timeline').map((e) => (e.payload as { entry: TimelineEntry }).entry);
    const transfers = timeline.flatMap((entry) => (entry.kind === 'transfer' && entry.state === 'done' ? [[entry.file, entry.bytes]] : []));
    expect(transfers).toEqual(served.map((t) => [t.file, t.bytes]));
    expect(timeline.filter((entry) => entry.kind === 'milestone').map((entry) => entry.kind === 'milestone' && entry.milestone)).toEqual(
      result.milestones,
    );
    expect(fs.readFileSync(result.consoleLogPath!, 'latin1')).toContain('XEN-PI-IMAGER-DOM0 capabilities control_d');
    console.info(
      `QEMU boot to Dom0 userspace: ${(result.milestones.find((m) => m.kind === 'dom0-userspace')!.timeMs / 1000).toFixed(1)} s`,
    );
  }, 180_000);

  it('says the TFTP server has no kernel file, seconds after stage 2 asks for it', async () => {
    const { result } = await runTrial('missing-kernel');
    expect(result!.ok).toBe(false);
    expect(result!.diagnosis).toMatchObject({ kind: 'file-not-found', after: 'stage2' });
    expect(result!.diagnosis!.message).toMatch(/no file called "vmlinuz-/);
    expect(result!.durationMs).toBeLessThan((TRIAL_TIMEOUT_S * 1000) / 4);
  }, 180_000);

  it('says the device tree is not where a broken stage 2 points', async () => {
    const { result } = await runTrial('bad-dtb-address');
    expect(result!.ok).toBe(false);
    expect(result!.diagnosis).toMatchObject({ kind: 'device-tree' });
    expect(result!.diagnosis!.line).toContain('FDT_ERR_BADMAGIC');
    expect(result!.milestones.some((m) => m.kind === 'xen')).toBe(false);
    expect(result!.durationMs).toBeLessThan((TRIAL_TIMEOUT_S * 1000) / 4);
  }, 180_000);

  it('says U-Boot could not reach a TFTP server when none answers', async () => {
    const { result } = await runTrial('no-tftp-server');
    expect(result!.ok).toBe(false);
    expect(result!.diagnosis).toMatchObject({ kind: 'tftp-unreachable', after: 'stage1' });
    expect(result!.diagnosis!.message).toContain('"boot2.scr"');
    expect(result!.durationMs).toBeLessThan((TRIAL_TIMEOUT_S * 1000) / 3);
  }, 180_000);

  it('leaves no QEMU process and no temporary folder behind', () => {
    expect(trialTempDirs()).toEqual([]);
    const processes = fs
      .readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .map((pid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        } catch {
          return '';
        }
      });
    // only this file's trials: another suite's QEMU on the same machine is not ours to count
    expect(processes.filter((cmd) => cmd.includes(`${trialTmp}/xen-pi-imager-qemu-`))).toEqual([]);
  });
});
