// Child process of the serial-console QEMU test (inside `unshare -n`, owning port 69): boots Debian's Xen on QEMU virt with
// its UART on a pty, opens that pty through the serial service as a USB-UART adapter would be, and drives the boot by
// keyboard: stops U-Boot's autoboot, runs `version`, boots, switches Xen's input with Ctrl-A three times and back.
// Prints JSON lines: {type:'step'}, {type:'event'}, and last {type:'done'} or {type:'error'}.
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EventName } from '../../shared/api';
import type { SerialDataEvent, SerialTimelineEvent } from '../../shared/api/serial';
import type { TftpTransferEvent } from '../../shared/api/tftp';
import { qemuBootArgs } from '../../shared/emulator/machine';
import { qemuTrialProfile } from '../../shared/emulator/trial-profile';
import { toErrorData } from '../../shared/errors';
import { defaultProfile } from '../../shared/profile/defaults';
import { prepareBoot, readyBoot } from '../../electron/services/boot-files/prepare';
import { cardSizeMiB, virtTrialFiles } from '../../electron/services/emulator/run';
import { fetchDebianParts } from '../../electron/services/emulator/debian-parts';
import { dumpVirtDeviceTree, findQemuTools, stopQemu } from '../../electron/services/emulator/qemu';
import { createFatDiskImage } from '../../electron/node/fat';
import { createSerialService } from '../../electron/services/serial/service';
import { createTftpServer } from '../../electron/services/tftp/server';

const print = (line: unknown) => process.stdout.write(JSON.stringify(line) + '\n');
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

  let consoleText = '';
  const timeline: SerialTimelineEvent['entry'][] = [];
  const service = createSerialService(
    {
      transport: 'browser',
      openExternal: async () => undefined,
      emit: (name: EventName, payload: unknown) => {
        if (name === 'serial:data') consoleText += (payload as SerialDataEvent).data;
        else if (name === 'serial:timeline') timeline.push((payload as SerialTimelineEvent).entry);
        if (name !== 'serial:data') print({ type: 'event', name, payload });
      },
    },
    { logsDir: path.join(process.env.XEN_PI_IMAGER_HOME ?? work, 'logs') },
  );
  const server = createTftpServer({ files: files.tftpFiles, diskFiles: files.tftpDiskFiles, address: '127.0.0.1', port: 69 });
  // as the app composes it: the TFTP server's transfers join the open console's timeline
  for (const kind of ['request', 'done', 'error'] as const) server.on(kind, (event: TftpTransferEvent) => service.observeTftp(event));
  await server.listen();

  // paused (-S) until the console is open, so nothing the UART prints is lost; the monitor on stdin says "cont"
  const args = qemuBootArgs({ bios: tools.bios, sdImage, serial: 'pty' }).concat('-S');
  args[args.indexOf('-monitor') + 1] = 'stdio';
  const qemu = spawn(tools.qemu, args, { cwd: work, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  qemu.stdin.on('error', () => undefined);
  let qemuOutput = '';
  qemu.stdout.on('data', (chunk: Buffer) => (qemuOutput += chunk.toString()));
  qemu.stderr.on('data', (chunk: Buffer) => (qemuOutput += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => qemu.on('close', resolve));
  const started = Date.now();
  const waitFor = async (test: () => boolean, what: string) => {
    while (!test()) {
      if (Date.now() - started > limitMs)
        throw new Error(`timed out waiting for ${what}; console so far:\n${consoleText.slice(-3000)}\nQEMU: ${qemuOutput}`);
      if (qemu.exitCode !== null && !test())
        throw new Error(`QEMU exited (${qemu.exitCode}) before ${what}: ${qemuOutput}\n${consoleText.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  try {
    await waitFor(() => /char device redirected to (\/dev\/pts\/\d+)/.test(qemuOutput), 'QEMU to name its pty');
    const pty = /char device redirected to (\/dev\/pts\/\d+)/.exec(qemuOutput)![1]!;
    const session = await service.serialOpen({ path: pty, baud: 115200 });
    print({ type: 'step', step: 'opened', pty });
    qemu.stdin.write('cont\n');
    const type = (text: string) => service.serialWrite(session.sessionId, text);

    await waitFor(() => consoleText.includes('Hit any key to stop autoboot'), 'U-Boot’s autoboot countdown');
    await type(' ');
    await waitFor(() => /\n=> $/.test(consoleText), 'U-Boot’s prompt');
    await type('version\r');
    await waitFor(
      () => /=> version\r?\n(?:\r?\n)?U-Boot 20\d\d\.\d\d/.test(consoleText) && /\n=> $/.test(consoleText),
      'the version command’s answer',
    );
    print({ type: 'step', step: 'version' });
    await type('boot\r');

    await waitFor(() => timeline.some((e) => e.kind === 'milestone' && e.milestone.kind === 'xen'), 'Xen');
    await type('\x01\x01\x01');
    const xenInput = async () => (await service.serialSessions())[0]!.xenInput;
    let owner: string | undefined;
    await waitFor(() => (void xenInput().then((now) => (owner = now)), owner === 'Xen'), 'Xen taking the input');
    print({ type: 'step', step: 'input-xen', xenInput: owner });
    await type('\x01\x01\x01');
    await waitFor(() => (void xenInput().then((now) => (owner = now)), owner === 'DOM0'), 'Dom0 getting the input back');
    print({ type: 'step', step: 'input-dom0', xenInput: owner });

    await waitFor(() => timeline.some((e) => e.kind === 'milestone' && e.milestone.kind === 'dom0-userspace'), 'Dom0 userspace');
    const exitCode = await Promise.race([exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 20_000))]);
    const saved = await service.serialSaveLog(session.sessionId);
    print({ type: 'done', console: consoleText, timeline, exitCode, log: saved, ms: Date.now() - started });
  } finally {
    await service.dispose?.();
    await stopQemu(qemu);
    await server.close();
    await fsp.rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  print({ type: 'error', error: toErrorData(error) });
  process.exitCode = 1;
});
