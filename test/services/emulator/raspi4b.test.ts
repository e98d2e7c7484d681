// QEMU's raspi4b for Pi 4 trials: the machine line, the card's device tree from the real QEMU, and every way QEMU can let us down.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasRaspi4b, qemuVersion, raspi4bBootArgs, raspi4bDeviceTree } from '../../../electron/services/emulator/raspi4b';
import { serializeFdt, setCells, setString, type FdtNode } from '../../../shared/emulator/fdt';
import { ImagerError } from '../../../shared/errors';
import { bcm2711Dtb, dtc, dtcRepack, dtcSource, missingParts, raspi4bQemu, rpi4Uboot } from '../../helpers/raspi4b-parts';

// a comma in the folder name: QEMU's option syntax needs it doubled in dumpdtb= and file=
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'raspi4b,test-'));
const fakePidFiles: string[] = [];
afterAll(() => {
  // a fake that outlived a failing test must not outlive the run
  for (const pidFile of fakePidFiles.filter((file) => fs.existsSync(file))) {
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    if (pid > 0 && isRunning(pid)) process.kill(pid, 'SIGKILL');
  }
  fs.rmSync(workDir, { recursive: true, force: true });
});

/** A stand-in for qemu-system-aarch64: a shell script that writes its pid to `<name>.pid`, then runs `body`. */
function fakeQemu(name: string, body: string): { qemu: string; pidFile: string } {
  const qemu = path.join(workDir, name);
  const pidFile = `${qemu}.pid`;
  fakePidFiles.push(pidFile);
  fs.writeFileSync(qemu, `#!/bin/sh\necho $$ > '${pidFile}'\n${body}\n`, { mode: 0o755 });
  return { qemu, pidFile };
}

/** Small but valid inputs for the fakes: a one-node tree and a file standing for U-Boot. */
function fakeInputs(): { uboot: string; deviceTree: string } {
  const root: FdtNode = { name: '', properties: [], children: [] };
  setString(root, 'model', 'Raspberry Pi 4 Model B');
  setCells(root, '#address-cells', [2]);
  const deviceTree = path.join(workDir, 'fake.dtb');
  const uboot = path.join(workDir, 'fake-u-boot.bin');
  fs.writeFileSync(deviceTree, serializeFdt({ root, reservations: [], bootCpuId: 0 }));
  fs.writeFileSync(uboot, 'not really U-Boot');
  return { uboot, deviceTree };
}

async function rejection(promise: Promise<unknown>): Promise<ImagerError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (error instanceof ImagerError) return error;
  throw new Error(`expected an ImagerError, got ${String(error)}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function untilFileExists(file: string): Promise<void> {
  while (!fs.existsSync(file) || fs.readFileSync(file, 'utf8').trim() === '') await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('the raspi4b machine line', () => {
  it('boots U-Boot with the tree and the card, the mini UART (second serial) on stdio', () => {
    expect(raspi4bBootArgs({ uboot: '/p/u-boot.bin', dtb: '/p/bcm2711-rpi-4-b.dtb', sdImage: '/p/card.img' })).toEqual([
      '-M',
      'raspi4b',
      '-display',
      'none',
      '-monitor',
      'none',
      '-no-reboot',
      '-serial',
      'null',
      '-serial',
      'stdio',
      '-kernel',
      '/p/u-boot.bin',
      '-dtb',
      '/p/bcm2711-rpi-4-b.dtb',
      '-drive',
      'if=sd,file=/p/card.img,format=raw',
    ]);
  });

  it('doubles a comma in the card’s path, as QEMU’s option syntax wants', () => {
    expect(raspi4bBootArgs({ uboot: 'u', dtb: 'd', sdImage: '/tmp/a,b/card.img' }).at(-1)).toBe('if=sd,file=/tmp/a,,b/card.img,format=raw');
  });
});

const realMissing = missingParts({
  'QEMU with raspi4b (XEN_PI_IMAGER_QEMU_RASPI4B)': raspi4bQemu,
  'rpi_4 u-boot.bin': rpi4Uboot,
  'bcm2711-rpi-4-b.dtb': bcm2711Dtb,
  dtc,
});
const skipNote = realMissing ? ` (${realMissing})` : '';

describe('the real QEMU’s raspi4b', () => {
  it.skipIf(!raspi4bQemu)(
    `is found by -machine help, on a QEMU 9 or newer${raspi4bQemu ? '' : ' (skipped: no QEMU with raspi4b)'}`,
    async () => {
      expect(await hasRaspi4b(raspi4bQemu!)).toBe(true);
      const version = await qemuVersion(raspi4bQemu!);
      expect(version.major).toBeGreaterThanOrEqual(9);
      expect(version.text).toMatch(/^QEMU emulator version \d+\.\d+/);
    },
  );

  it.skipIf(realMissing)(
    `gives the card QEMU’s own tree with the unmapped blocks turned off and the mapped ones left on${skipNote}`,
    async () => {
      const outFile = path.join(workDir, 'bcm2711-rpi-4-b.dtb');
      const { disabled } = await raspi4bDeviceTree({ qemu: raspi4bQemu!, uboot: rpi4Uboot!, deviceTree: bcm2711Dtb!, outFile });
      expect(disabled).toContain('/soc/hvs@7e400000');
      expect(disabled).toContain('/soc/interrupt-controller@7ef00100'); // the block Dom0 died on
      expect(disabled).toContain('/soc/avs-monitor@7d5d2000');
      expect(disabled.every((nodePath) => nodePath.startsWith('/soc/'))).toBe(true);

      const source = dtcSource(outFile);
      const statusOf = (name: string) => new RegExp(`\\t${name.replace('.', '\\.')} \\{[^}]*?status = "([^"]+)"`).exec(source)?.[1];
      expect(statusOf('hvs@7e400000')).toBe('disabled');
      expect(statusOf('interrupt-controller@7ef00100')).toBe('disabled');
      expect(statusOf('serial@7e215040')).toBe('okay'); // the mini UART: the console
      expect(statusOf('mmc@7e300000')).toBe('okay'); // where -drive if=sd lands
      expect(statusOf('mmc@7e340000')).toBe('okay');
      expect(source.match(/status = "disabled";/g)!.length).toBeGreaterThanOrEqual(disabled.length);
      // QEMU's view, not the upstream file: its memory node, without the blocks it removes
      expect(source).toContain('reg = <0x00 0x00 0x3c000000>;');
      expect(source).not.toMatch(/pcie@7d500000 \{/);
      // packed as dtc would pack it, and QEMU's raw dump cleaned up
      expect(new Uint8Array(fs.readFileSync(outFile))).toEqual(dtcRepack(outFile));
      expect(fs.readdirSync(workDir).filter((name) => name.endsWith('.raw'))).toEqual([]);
    },
  );
});

describe('when QEMU lets us down', () => {
  it('says QEMU cannot be started when there is no such program', async () => {
    const error = await rejection(
      raspi4bDeviceTree({ qemu: path.join(workDir, 'no-such-qemu'), ...fakeInputs(), outFile: path.join(workDir, 'x.dtb') }),
    );
    expect(error.code).toBe('NOT_AVAILABLE');
    expect(error.message).toMatch(/could not be started \(ENOENT\)/);
    await expect(hasRaspi4b(path.join(workDir, 'no-such-qemu'))).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
  });

  it('says this QEMU has no raspi4b (QEMU before 9)', async () => {
    const { qemu } = fakeQemu(
      'old-qemu',
      [
        'if [ "$1" = "-machine" ]; then printf "Supported machines are:\\nraspi3b              Raspberry Pi 3B\\nvirt                 QEMU Virtual Machine\\n"; exit 0; fi',
        'echo "qemu-system-aarch64: unsupported machine type" >&2; echo "Use -machine help to list supported machines" >&2; exit 1',
      ].join('\n'),
    );
    expect(await hasRaspi4b(qemu)).toBe(false);
    const error = await rejection(raspi4bDeviceTree({ qemu, ...fakeInputs(), outFile: path.join(workDir, 'x.dtb') }));
    expect(error.code).toBe('NOT_AVAILABLE');
    expect(error.message).toMatch(/has no raspi4b machine/);
    expect(error.hint).toMatch(/QEMU 9 or newer/);
  });

  it('passes on QEMU’s own complaint, without its module-loading noise', async () => {
    const { qemu } = fakeQemu(
      'failing-qemu',
      [
        'echo "qemu-system-aarch64: failed to open module: /usr/lib/x86_64-linux-gnu/qemu/audio-alsa.so: undefined symbol" >&2',
        'echo "Only modules from the same build can be loaded." >&2',
        'echo "qemu-system-aarch64: Error saving FDT to file: No space left on device" >&2',
        'exit 1',
      ].join('\n'),
    );
    const error = await rejection(raspi4bDeviceTree({ qemu, ...fakeInputs(), outFile: path.join(workDir, 'x.dtb') }));
    expect(error.code).toBe('EMULATOR_FAILED');
    expect(error.message).toBe(
      'QEMU could not dump the raspi4b device tree (exit status 1): qemu-system-aarch64: Error saving FDT to file: No space left on device',
    );
  });

  it('says so when QEMU shows no memory map for the CPU', async () => {
    const inputs = fakeInputs();
    const { qemu } = fakeQemu(
      'mapless-qemu',
      [
        `for arg in "$@"; do case "$arg" in raspi4b,dumpdtb=*) cp '${inputs.deviceTree}' "$(echo "\${arg#raspi4b,dumpdtb=}" | sed "s/,,/,/g")"; exit 0;; esac; done`,
        'cat > /dev/null; echo "QEMU 10.0.2 monitor - type \'help\' for more information"; echo "(qemu) "',
      ].join('\n'),
    );
    const error = await rejection(raspi4bDeviceTree({ qemu, ...inputs, outFile: path.join(workDir, 'x.dtb') }));
    expect(error.code).toBe('EMULATOR_FAILED');
    expect(error.message).toMatch(/did not print its memory map/);
  });

  it('stops a QEMU that hangs and says it did not finish', async () => {
    const { qemu, pidFile } = fakeQemu('hanging-qemu', 'exec sleep 600');
    const error = await rejection(raspi4bDeviceTree({ qemu, ...fakeInputs(), outFile: path.join(workDir, 'x.dtb'), timeoutMs: 300 }));
    expect(error.code).toBe('EMULATOR_FAILED');
    expect(error.message).toBe('QEMU did not dump the raspi4b device tree within 0.3 s and was stopped.');
    expect(isRunning(Number(fs.readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('kills QEMU when the request is cancelled', async () => {
    const { qemu, pidFile } = fakeQemu('cancelled-qemu', 'exec sleep 600');
    const controller = new AbortController();
    const pending = rejection(
      raspi4bDeviceTree({ qemu, ...fakeInputs(), outFile: path.join(workDir, 'x.dtb'), signal: controller.signal }),
    );
    await untilFileExists(pidFile);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(isRunning(pid)).toBe(true);
    controller.abort();
    const error = await pending;
    expect(error.code).toBe('CANCELLED');
    expect(isRunning(pid)).toBe(false);
  });

  it('refuses a device tree that is not a .dtb before running QEMU', async () => {
    const { qemu, pidFile } = fakeQemu('unused-qemu', 'exit 0');
    const notATree = path.join(workDir, 'config.txt');
    fs.writeFileSync(notATree, 'arm_64bit=1\nenable_uart=1\n');
    const error = await rejection(
      raspi4bDeviceTree({ qemu, uboot: fakeInputs().uboot, deviceTree: notATree, outFile: path.join(workDir, 'x.dtb') }),
    );
    expect(error.code).toBe('BAD_DEVICE_TREE');
    expect(error.subject).toBe(notATree);
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  it('names a missing U-Boot before running QEMU', async () => {
    const { qemu, pidFile } = fakeQemu('unused-qemu-2', 'exit 0');
    const missing = path.join(workDir, 'no-u-boot.bin');
    const error = await rejection(
      raspi4bDeviceTree({ qemu, uboot: missing, deviceTree: fakeInputs().deviceTree, outFile: path.join(workDir, 'x.dtb') }),
    );
    expect(error.code).toBe('NOT_FOUND');
    expect(error.subject).toBe(missing);
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  it('reads the version QEMU reports, and refuses a program that reports none', async () => {
    const { qemu } = fakeQemu(
      'versioned-qemu',
      'echo "QEMU emulator version 9.2.0 (v9.2.0)"; echo "Copyright (c) 2003-2024 Fabrice Bellard"',
    );
    expect(await qemuVersion(qemu)).toEqual({ major: 9, minor: 2, micro: 0, text: 'QEMU emulator version 9.2.0 (v9.2.0)' });
    const { qemu: other } = fakeQemu('not-qemu', 'echo "hello"');
    await expect(qemuVersion(other)).rejects.toMatchObject({ code: 'EMULATOR_FAILED' });
  });
});
