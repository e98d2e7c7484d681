// Child process of the QEMU e2e test: runs one trial boot through the emulator service (inside `unshare -n`) and prints JSON lines.
// Usage: node --import tsx test/e2e/qemu-boot-runner.ts SCENARIO   (ok | missing-kernel | bad-dtb-address | no-tftp-server)
// Env: XEN_PI_IMAGER_HOME (app data, logs), XEN_PI_IMAGER_CACHE (Debian parts), TRIAL_TIMEOUT (seconds).
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EmitImagerEvent } from '../../shared/api';
import { writeScriptImage } from '../../shared/boot/script-image';
import { qemuTrialProfile } from '../../shared/emulator/trial-profile';
import { toErrorData } from '../../shared/errors';
import { defaultProfile } from '../../shared/profile/defaults';
import { prepareBoot, readyBoot } from '../../electron/services/boot-files/prepare';
import { fetchDebianParts } from '../../electron/services/emulator/debian-parts';
import { dumpVirtDeviceTree, findQemuTools } from '../../electron/services/emulator/qemu';
import { virtTrialFiles } from '../../electron/services/emulator/run';
import { createEmulatorService } from '../../electron/services/emulator/service';
import { createTftpServer, type TftpServer } from '../../electron/services/tftp/server';

const scenario = process.argv[2] ?? 'ok';
const print = (line: unknown) => process.stdout.write(JSON.stringify(line) + '\n');

const emit: EmitImagerEvent = (name, payload) => {
  if (name === 'emulator:console') return; // the whole console is saved to the log file
  if (name === 'tftp:transfer' && (payload as { kind: string }).kind === 'progress') return;
  print({ type: 'event', name, payload });
};

/**
 * For the failure scenarios the trial uses an "external" TFTP server: ours, started here on the
 * generator's own output, with one thing broken on purpose.
 */
async function brokenServer(kind: 'missing-kernel' | 'bad-dtb-address'): Promise<TftpServer> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'qemu-e2e-'));
  try {
    const parts = await fetchDebianParts({ xenVersion: '4.17' });
    const deviceTree = path.join(work, 'virt.dtb');
    await dumpVirtDeviceTree(findQemuTools(), deviceTree);
    const trial = qemuTrialProfile(defaultProfile('qemu-virt'), {
      deviceTree,
      parts: { xen: parts.xen, dom0Kernel: parts.kernel, dom0Ramdisk: parts.initramfs },
    });
    const files = virtTrialFiles(readyBoot(prepareBoot(trial.profile, work)));
    const diskFiles = new Map(files.tftpDiskFiles);
    const memoryFiles = new Map(files.tftpFiles);
    // the device tree is read now: the folder it was dumped to goes away before the boot
    memoryFiles.set('virt.dtb', new Uint8Array(await fsp.readFile(deviceTree)));
    diskFiles.delete('virt.dtb');
    if (kind === 'missing-kernel') diskFiles.delete(path.basename(parts.kernel));
    if (kind === 'bad-dtb-address') {
      const source = new TextDecoder().decode(files.tftpFiles.get('boot2.source')!);
      const dtbAddress = /^fdt addr (0x[0-9A-F]+)$/m.exec(source)![1]!;
      // a stage 2 that loads the tree at one address and points U-Boot at another
      const broken = source.replace(/^fdt addr 0x[0-9A-F]+$/m, 'fdt addr 0x60000000').replace(` - ${dtbAddress}`, ' - 0x60000000');
      memoryFiles.set('boot2.scr', writeScriptImage(broken, { loadAddress: 0x40c00000, timestamp: 0 }));
    }
    const server = createTftpServer({ files: memoryFiles, diskFiles, address: '127.0.0.1', port: 69 });
    server.on('done', (event) => print({ type: 'event', name: 'tftp:transfer', payload: event }));
    server.on('error', (event) => print({ type: 'event', name: 'tftp:transfer', payload: event }));
    await server.listen();
    return server;
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const service = createEmulatorService({ transport: 'browser', emit, openExternal: async () => {} });
  const timeoutSeconds = Number(process.env.TRIAL_TIMEOUT ?? 120);
  let server: TftpServer | undefined;
  try {
    if (scenario === 'missing-kernel' || scenario === 'bad-dtb-address') server = await brokenServer(scenario);
    const result = await service.emulatorTry(defaultProfile('qemu-virt'), {
      components: 'debian',
      timeoutSeconds,
      tftp: scenario === 'ok' ? 'start' : 'external',
    });
    print({ type: 'result', result });
  } catch (error) {
    print({ type: 'error', error: toErrorData(error) });
    process.exitCode = 1;
  } finally {
    await server?.close();
    await service.dispose?.();
  }
}

void main();
