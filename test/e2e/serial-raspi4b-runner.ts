// Child process of the serial console's Pi 4 test: the card a Raspberry Pi 4 profile writes (Debian's parts, as
// fetch-parts --board rpi4 gets them), booted on QEMU's raspi4b with the mini UART (the Pi's console) on a pty, opened
// through the serial service as a USB-UART adapter is. Drives it by keyboard: stops U-Boot's autoboot, runs `version`,
// boots, switches Xen's input with Ctrl-A three times and back, and runs `xl list` in Dom0.
// Prints JSON lines: {type:'step'}, {type:'event'}, and last {type:'done'} or {type:'error'}.
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EventName } from '../../shared/api';
import type { SerialDataEvent, SerialTimelineEvent } from '../../shared/api/serial';
import { toErrorData } from '../../shared/errors';
import { installRpi4Parts } from '../../electron/services/emulator/install-parts';
import { findRaspi4bQemu } from '../../electron/services/emulator/qemu-raspi4b';
import { stopQemu } from '../../electron/services/emulator/qemu';
import { buildRaspi4bBoot } from '../../electron/services/emulator/run-raspi4b';
import { createSerialService } from '../../electron/services/serial/service';

const print = (line: unknown) => process.stdout.write(JSON.stringify(line) + '\n');
const limitMs = Number(process.env.TRIAL_TIMEOUT ?? 300) * 1000;

async function main(): Promise<void> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'xen-pi-imager-serial-pi4-'));
  const cacheDir = process.env.XEN_PI_IMAGER_CACHE!;
  const installed = await installRpi4Parts({ out: path.join(work, 'parts'), xenVersion: '4.17', cacheDir });
  const found = await findRaspi4bQemu(process.env, cacheDir);
  if (!found.found) throw new Error(found.why);
  const boot = await buildRaspi4bBoot(
    { profile: installed.profile, componentsDir: installed.dir, cacheDir, options: {} },
    { onProgress: (message) => print({ type: 'progress', message }) },
    found.found,
  );

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

  // paused (-S) until the console is open, so nothing the UART prints is lost; the monitor on stdin says "cont"
  const args = boot.args('pty').concat('-S');
  args[args.indexOf('-monitor') + 1] = 'stdio';
  const qemu = spawn(found.found.qemu, args, { cwd: boot.workDir, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  qemu.stdin.on('error', () => undefined);
  let qemuOutput = '';
  qemu.stdout.on('data', (chunk: Buffer) => (qemuOutput += chunk.toString()));
  qemu.stderr.on('data', (chunk: Buffer) => (qemuOutput += chunk.toString()));
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
  // Debian's rpi_4 U-Boot prompts with "U-Boot> " where the QEMU build says "=> "
  const PROMPT = /\n(?:U-Boot> |=> )$/;
  const reached = (kind: string) => timeline.some((e) => e.kind === 'milestone' && e.milestone.kind === kind);
  try {
    await waitFor(() => /char device redirected to (\/dev\/pts\/\d+)/.test(qemuOutput), 'QEMU to name its pty');
    const pty = /char device redirected to (\/dev\/pts\/\d+)/.exec(qemuOutput)![1]!;
    const session = await service.serialOpen({ path: pty, baud: installed.profile.console.baud });
    print({ type: 'step', step: 'opened', pty });
    qemu.stdin.write('cont\n');
    const type = (text: string) => service.serialWrite(session.sessionId, text);

    await waitFor(() => consoleText.includes('Hit any key to stop autoboot'), 'U-Boot’s autoboot countdown');
    await type(' ');
    await waitFor(() => PROMPT.test(consoleText), 'U-Boot’s prompt');
    await type('version\r');
    await waitFor(
      () => /version\r?\n(?:\r?\n)?U-Boot 20\d\d\.\d\d/.test(consoleText) && PROMPT.test(consoleText),
      'the version command’s answer',
    );
    print({ type: 'step', step: 'version' });
    await type('boot\r');

    await waitFor(() => reached('xen'), 'Xen');
    await waitFor(() => reached('dom0-userspace'), 'Dom0 userspace');
    const xenInput = async () => (await service.serialSessions())[0]!.xenInput;
    let owner: string | undefined;
    await type('\x01\x01\x01');
    await waitFor(() => (void xenInput().then((now) => (owner = now)), owner === 'Xen'), 'Xen taking the input');
    print({ type: 'step', step: 'input-xen', xenInput: owner });
    await type('\x01\x01\x01');
    await waitFor(() => (void xenInput().then((now) => (owner = now)), owner === 'DOM0'), 'Dom0 getting the input back');
    print({ type: 'step', step: 'input-dom0', xenInput: owner });
    // Dom0's shell answers on the same line
    const before = consoleText.length;
    await type('\rxl list\r');
    await waitFor(() => /Domain-0\s+0\s+\d+\s+\d+/.test(consoleText.slice(before)), 'xl list’s answer in Dom0');
    print({ type: 'step', step: 'xl-list' });
    const saved = await service.serialSaveLog(session.sessionId);
    print({ type: 'done', console: consoleText, timeline, log: saved, ms: Date.now() - started, changes: boot.changes });
  } finally {
    await service.dispose?.();
    await stopQemu(qemu);
    await boot.dispose();
    await fsp.rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  print({ type: 'error', error: toErrorData(error) });
  process.exitCode = 1;
});
