// Child process of the serial-console QEMU test (inside `unshare -n`, owning port 69): boots Debian's Xen on QEMU virt with
// its UART on a pty, opens that pty through the serial service as a USB-UART adapter would be, and drives the boot by
// keyboard: stops U-Boot's autoboot, runs `version`, boots, switches Xen's input with Ctrl-A three times and back.
// Prints JSON lines: {type:'step'}, {type:'event'}, and last {type:'done'} or {type:'error'}.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TftpTransferEvent } from '../../shared/api/tftp';
import { qemuBootArgs } from '../../shared/emulator/machine';
import { qemuTrialProfile } from '../../shared/emulator/trial-profile';
import { toErrorData } from '../../shared/errors';
import { defaultProfile } from '../../shared/profile/defaults';
import { prepareBoot, readyBoot } from '../../electron/services/boot-files/prepare';
import { cardSizeMiB, virtTrialFiles } from '../../electron/services/emulator/run';
import { fetchDebianParts } from '../../electron/services/emulator/debian-parts';
import { dumpVirtDeviceTree, findQemuTools } from '../../electron/services/emulator/qemu';
import { createFatDiskImage } from '../../electron/node/fat';
import { createTftpServer } from '../../electron/services/tftp/server';
import { print, startSerialBoot } from './serial-boot';

const limitMs = Number(process.env.TRIAL_TIMEOUT ?? 120) * 1000;

async function main(): Promise<void> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'xen-pi-imager-qemu-serial-'));
  const tools = findQemuTools();
  const parts = await fetchDebianParts({ xenVersion: '4.17' });
  const deviceTree = path.join(work, 'virt.dtb');
  await dumpVirtDeviceTree(tools, deviceTree);
  const trial = qemuTrialProfile(defaultProfile('qemu-virt'), {
    deviceTree,
    parts: { xen: parts.xen, dom0Kernel: parts.kernel, dom0Ramdisk: parts.initramfs },
  });
  const files = virtTrialFiles(readyBoot(prepareBoot(trial.profile, work)));
  const sdImage = path.join(work, 'sd.img');
  await createFatDiskImage(sdImage, { sizeMiB: cardSizeMiB(files.card), label: 'BOOT', files: files.card });

  const server = createTftpServer({ files: files.tftpFiles, diskFiles: files.tftpDiskFiles, address: '127.0.0.1', port: 69 });
  const boot = startSerialBoot({
    qemu: tools.qemu,
    args: qemuBootArgs({ bios: tools.bios, sdImage, serial: 'pty' }),
    cwd: work,
    logsDir: path.join(process.env.XEN_PI_IMAGER_HOME ?? work, 'logs'),
    limitMs,
  });
  const { service, timeline, waitFor, type } = boot;
  // as the app composes it: the TFTP server's transfers join the open console's timeline
  for (const kind of ['request', 'done', 'error'] as const) server.on(kind, (event: TftpTransferEvent) => service.observeTftp(event));
  await server.listen();
  const exited = new Promise<number | null>((resolve) => boot.qemu.on('close', resolve));
  const started = Date.now();
  try {
    const { sessionId, pty } = await boot.open(115200);
    print({ type: 'step', step: 'opened', pty });

    await waitFor(() => boot.text().includes('Hit any key to stop autoboot'), 'U-Boot’s autoboot countdown');
    await type(' ');
    await waitFor(() => /\n=> $/.test(boot.text()), 'U-Boot’s prompt');
    await type('version\r');
    await waitFor(
      () => /=> version\r?\n(?:\r?\n)?U-Boot 20\d\d\.\d\d/.test(boot.text()) && /\n=> $/.test(boot.text()),
      'the version command’s answer',
    );
    print({ type: 'step', step: 'version' });
    await type('boot\r');

    await waitFor(() => boot.reached('xen'), 'Xen');
    await type('\x01\x01\x01');
    const xenInput = async () => (await service.serialSessions())[0]!.xenInput;
    let owner: string | undefined;
    await waitFor(() => (void xenInput().then((now) => (owner = now)), owner === 'Xen'), 'Xen taking the input');
    print({ type: 'step', step: 'input-xen', xenInput: owner });
    await type('\x01\x01\x01');
    await waitFor(() => (void xenInput().then((now) => (owner = now)), owner === 'DOM0'), 'Dom0 getting the input back');
    print({ type: 'step', step: 'input-dom0', xenInput: owner });

    await waitFor(() => boot.reached('dom0-userspace'), 'Dom0 userspace');
    const exitCode = await Promise.race([exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 20_000))]);
    const saved = await service.serialSaveLog(sessionId);
    print({ type: 'done', console: boot.text(), timeline, exitCode, log: saved, ms: Date.now() - started });
  } finally {
    await boot.stop();
    await server.close();
    await fsp.rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  print({ type: 'error', error: toErrorData(error) });
  process.exitCode = 1;
});
