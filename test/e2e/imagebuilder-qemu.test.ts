// End to end: a stage 2 from `xen-pi-imager imagebuilder` with the newer DomU options boots Debian's Xen 4.17 on QEMU virt,
// U-Boot accepting every `fdt set`, with one dom0less DomU on the vpl011 console and one without vpl011.
// The boot runs in a child inside `unshare -n` (own loopback): it owns port 69 and no packet leaves the machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorResult } from '../../shared/api/emulator';
import { cachedDebianParts, fetchDebianParts } from '../../electron/services/emulator/debian-parts';
import { emulatorCacheDir as cacheDir, qemuBootSkipReason, runInPrivateNetwork } from '../helpers/private-network';

const skip = qemuBootSkipReason();
if (skip) console.warn(`Skipping the ImageBuilder QEMU boot test: ${skip}.`);

interface Messages {
  imagebuilder?: { status: number; out: string; source: string };
  result?: EmulatorResult;
  console?: string;
  error?: { code: string; message: string };
}

describe.skipIf(skip !== undefined)('an ImageBuilder config with the newer DomU options, booted in QEMU', () => {
  let home: string;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'imagebuilder-qemu-home-'));
    if (!(await cachedDebianParts('4.17', cacheDir))) await fetchDebianParts({ xenVersion: '4.17', cacheDir });
  }, 300_000);

  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('boots Xen 4.17 with both DomUs: the one with vpl011 prints its Linux boot through Xen, the other has no vpl011', async () => {
    const { messages, stderr } = await runInPrivateNetwork(path.join(__dirname, 'imagebuilder-qemu-runner.ts'), [], {
      XEN_PI_IMAGER_HOME: home,
      TRIAL_TIMEOUT: '180',
    });
    const got: Messages = {};
    for (const message of messages as Array<{ type: string } & Record<string, unknown>>) {
      if (message.type === 'imagebuilder') got.imagebuilder = message as unknown as Messages['imagebuilder'];
      if (message.type === 'result') Object.assign(got, { result: message.result, console: message.console });
      if (message.type === 'error') got.error = message.error as Messages['error'];
    }
    expect(got.error, stderr.slice(-2000)).toBeUndefined();
    const source = got.imagebuilder!.source;
    expect(got.imagebuilder!.status).toBe(0);
    // the options under test are in the script U-Boot ran
    for (const line of [
      'fdt set /chosen/domU0 vpl011',
      'fdt set /chosen/domU0 nr_spis <1>',
      'fdt set /chosen/domU0 max_grant_frames <32>',
      'fdt set /chosen/domU0 max_maptrack_frames <512>',
      'fdt set /chosen/domU0 capabilities <0>',
      'fdt set /chosen/domU1 max_grant_frames <16>',
    ]) {
      expect(source.split('\n')).toContain(line);
    }
    expect(source).not.toContain('fdt set /chosen/domU1 vpl011');

    expect(got.result!.ok).toBe(true);
    expect(got.result!.summary).toMatch(/^Dom0 userspace reached/);
    const consoleText = got.console!;
    expect(consoleText).toContain('## Executing script at 40c00000');
    expect(consoleText).not.toMatch(/libfdt|FDT_ERR/); // every fdt mknod/set of the script succeeded
    expect(consoleText.match(/\*\*\* LOADING DOMU /g)?.length).toBe(2);

    // which Xen domain each DomU became: the one loaded from its kernel's address
    const domainOf = (index: number): string => {
      const address = new RegExp(`fdt mknod /chosen/domU${index} module0x([0-9A-F]+)`).exec(source)![1]!.toLowerCase().padStart(16, '0');
      return new RegExp(`Loading (d\\d+) kernel from boot module @ ${address}`).exec(consoleText)![1]!;
    };
    const withVpl011 = domainOf(0).slice(1);
    const without = domainOf(1).slice(1);
    expect(consoleText).toMatch(new RegExp(`\\(XEN\\) DOM${withVpl011}: \\[ +0\\.0+\\] Booting Linux`));
    expect(consoleText).not.toContain(`(XEN) DOM${without}:`);
  }, 400_000);

  it('boots Xen wrapped as xen.ub with BOOT_CMD=bootm: U-Boot reads it as an AArch64 legacy kernel image and Xen starts', async () => {
    const { messages, stderr } = await runInPrivateNetwork(path.join(__dirname, 'imagebuilder-qemu-runner.ts'), [], {
      XEN_PI_IMAGER_HOME: home,
      TRIAL_TIMEOUT: '180',
      BOOT_CMD: 'bootm',
    });
    const got: Messages = {};
    for (const message of messages as Array<{ type: string } & Record<string, unknown>>) {
      if (message.type === 'imagebuilder') got.imagebuilder = message as unknown as Messages['imagebuilder'];
      if (message.type === 'result') Object.assign(got, { result: message.result, console: message.console });
      if (message.type === 'error') got.error = message.error as Messages['error'];
    }
    expect(got.error, stderr.slice(-2000)).toBeUndefined();
    expect(got.imagebuilder!.status).toBe(0);
    expect(got.imagebuilder!.out).toContain('Image Type:   AArch64 Linux Kernel Image (uncompressed)\n');
    const source = got.imagebuilder!.source;
    const xenAddress = /^tftpb (0x[0-9A-F]+) xen\.ub$/m.exec(source)![1]!;
    expect(source).toMatch(new RegExp(`\\nbootm ${xenAddress} - 0x[0-9A-F]+\\n$`));
    const consoleText = got.console!;
    expect(consoleText).toContain(`## Booting kernel from Legacy Image at ${xenAddress.slice(2).toLowerCase().padStart(8, '0')}`);
    expect(consoleText).toContain('Image Type:   AArch64 Linux Kernel Image (uncompressed)');
    expect(consoleText).toMatch(/\(XEN\) Xen version 4\.17/);
    expect(got.result!.ok).toBe(true);
    expect(got.result!.summary).toMatch(/^Dom0 userspace reached/);
  }, 400_000);
});
