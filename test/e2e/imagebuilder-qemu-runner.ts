// Child process of the ImageBuilder boot test: a stage 2 made by `xen-pi-imager imagebuilder` from a config with the newer
// DomU options, served over TFTP to the QEMU virt trial's U-Boot; prints the trial's result and console as JSON lines.
// Usage (inside `unshare -n`): node --import tsx test/e2e/imagebuilder-qemu-runner.ts
// Env: XEN_PI_IMAGER_HOME (app data, logs), XEN_PI_IMAGER_CACHE (Debian parts), TRIAL_TIMEOUT (seconds),
// BOOT_CMD (bootm: Xen goes as xen.ub, a U-Boot legacy image, and boots with bootm).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EmitImagerEvent } from '../../shared/api';
import { qemuTrialProfile } from '../../shared/emulator/trial-profile';
import { toErrorData } from '../../shared/errors';
import { defaultProfile } from '../../shared/profile/defaults';
import { runCli } from '../../electron/cli/main';
import { prepareBoot, readyBoot } from '../../electron/services/boot-files/prepare';
import { fetchDebianParts } from '../../electron/services/emulator/debian-parts';
import { dumpVirtDeviceTree, findQemuTools } from '../../electron/services/emulator/qemu';
import { virtTrialFiles } from '../../electron/services/emulator/run';
import { createEmulatorService } from '../../electron/services/emulator/service';
import { createTftpServer } from '../../electron/services/tftp/server';
import { hexAddress } from '../../shared/boot/address';

const print = (line: unknown) => process.stdout.write(JSON.stringify(line) + '\n');
const emit: EmitImagerEvent = () => {};

/** The DomUs, both asking for the vpl011 console: domU0 has one (and earlycon on it, so it prints from its first line); domU1 has none. */
const domUs = `NUM_DOMUS=2
DOMU_KERNEL[0]="kernel.gz"
DOMU_RAMDISK[0]="initramfs.cpio.gz"
DOMU_CMD[0]="console=ttyAMA0 earlycon=pl011,0x22000000 rdinit=/bin/sh"
DOMU_MEM[0]=256
DOMU_NR_SPIS[0]=1
DOMU_GRANT_FRAMES[0]=32
DOMU_MAPTRACK_FRAMES[0]=512
DOMU_CAPS[0]="none"
DOMU_KERNEL[1]="kernel.gz"
DOMU_RAMDISK[1]="initramfs.cpio.gz"
DOMU_CMD[1]="console=ttyAMA0 rdinit=/bin/sh"
DOMU_MEM[1]=256
DOMU_VPL011[1]=0
DOMU_GRANT_FRAMES[1]=16
`;

async function main(): Promise<void> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'imagebuilder-qemu-'));
  const service = createEmulatorService({ transport: 'browser', emit, openExternal: async () => {} });
  try {
    const parts = await fetchDebianParts({ xenVersion: '4.17' });
    await dumpVirtDeviceTree(findQemuTools(), path.join(work, 'virt.dtb'));
    const gzipKernel = `${parts.kernel}.gz`;
    await fsp.copyFile(fs.existsSync(gzipKernel) ? gzipKernel : parts.kernel, path.join(work, 'kernel.gz'));
    await fsp.copyFile(parts.xen, path.join(work, 'xen'));
    await fsp.copyFile(parts.initramfs, path.join(work, 'initramfs.cpio.gz'));

    // the trial's own stage 2 says where stage 1 loads boot2.scr and what Xen and Dom0 are told
    const trial = qemuTrialProfile(defaultProfile('qemu-virt'), {
      deviceTree: path.join(work, 'virt.dtb'),
      parts: { xen: parts.xen, dom0Kernel: parts.kernel, dom0Ramdisk: parts.initramfs },
      externalTftp: true,
    });
    const own = new TextDecoder().decode(virtTrialFiles(readyBoot(prepareBoot(trial.profile, work))).tftpFiles.get('boot2.source')!);
    const xenCommandLine = /xen,xen-bootargs "([^"]*)"/.exec(own)![1]!;
    const dom0CommandLine = /xen,dom0-bootargs "([^"]*)"/.exec(own)![1]!;
    const stage2Address = Number(trial.profile.boot.stage2Address);
    const config = `MEMORY_START="${hexAddress(stage2Address - 0x200000)}"
MEMORY_END="${trial.profile.boot.memoryEnd}"
LOAD_CMD="tftpb"
DEVICE_TREE="virt.dtb"
XEN="xen"
XEN_CMD="${xenCommandLine}"
DOM0_KERNEL="kernel.gz"
DOM0_RAMDISK="initramfs.cpio.gz"
DOM0_CMD="${dom0CommandLine}"
${process.env.BOOT_CMD ? `BOOT_CMD="${process.env.BOOT_CMD}"\n` : ''}${domUs}`;
    await fsp.writeFile(path.join(work, 'config'), config);
    let out = '';
    const status = await runCli(['imagebuilder', '-c', 'config', '-d', '.', '-o', 'boot2'], {
      stdout: (text) => void (out += text),
      stderr: (text) => void (out += text),
      isTTY: false,
      env: { SOURCE_DATE_EPOCH: '0' },
      cwd: work,
      signal: new AbortController().signal,
    });
    const source = await fsp.readFile(path.join(work, 'boot2.source'), 'utf8');
    print({ type: 'imagebuilder', status, out, source });
    if (status !== 0) return;

    const diskFiles = new Map(
      ['virt.dtb', process.env.BOOT_CMD === 'bootm' ? 'xen.ub' : 'xen', 'kernel.gz', 'initramfs.cpio.gz', 'boot2.scr'].map((name) => [
        name,
        path.join(work, name),
      ]),
    );
    const server = createTftpServer({ files: new Map(), diskFiles, address: '127.0.0.1', port: 69 });
    await server.listen();
    try {
      const result = await service.emulatorTry(defaultProfile('qemu-virt'), {
        components: 'debian',
        timeoutSeconds: Number(process.env.TRIAL_TIMEOUT ?? 180),
        tftp: 'external',
      });
      const console = result.consoleLogPath ? await fsp.readFile(result.consoleLogPath, 'utf8') : '';
      print({ type: 'result', result, console });
    } finally {
      await server.close();
    }
  } catch (error) {
    print({ type: 'error', error: toErrorData(error) });
    process.exitCode = 1;
  } finally {
    await service.dispose?.();
    await fsp.rm(work, { recursive: true, force: true });
  }
}

void main();
