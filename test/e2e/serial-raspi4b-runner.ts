// Child process of the serial console's Pi 4 test: the card a Raspberry Pi 4 profile writes (Debian's parts, as
// fetch-parts --board rpi4 gets them), booted on QEMU's raspi4b with the mini UART (the Pi's console) on a pty, opened
// through the serial service as a USB-UART adapter is. Drives it by keyboard: stops U-Boot's autoboot, runs `version`,
// boots, switches Xen's input with Ctrl-A three times and back, and runs `xl list` in Dom0.
// Prints JSON lines: {type:'step'}, {type:'event'}, and last {type:'done'} or {type:'error'}.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { toErrorData } from '../../shared/errors';
import { installRpi4Parts } from '../../electron/services/emulator/install-parts';
import { findRaspi4bQemu } from '../../electron/services/emulator/qemu-raspi4b';
import { buildRaspi4bBoot } from '../../electron/services/emulator/run-raspi4b';
import { print, startSerialBoot } from './serial-boot';

const limitMs = Number(process.env.TRIAL_TIMEOUT ?? 300) * 1000;

async function main(): Promise<void> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'xen-pi-imager-serial-pi4-'));
  const cacheDir = process.env.XEN_PI_IMAGER_CACHE!;
  const installed = await installRpi4Parts({ out: path.join(work, 'parts'), xenVersion: '4.17', cacheDir });
  const found = await findRaspi4bQemu(process.env, cacheDir);
  if (!found.found) throw new Error(found.why);
  const card = await buildRaspi4bBoot(
    { profile: installed.profile, componentsDir: installed.dir, cacheDir, options: {} },
    { onProgress: (message) => print({ type: 'progress', message }) },
    found.found,
  );

  const boot = startSerialBoot({
    qemu: found.found.qemu,
    args: card.args('pty'),
    cwd: card.workDir,
    logsDir: path.join(process.env.XEN_PI_IMAGER_HOME ?? work, 'logs'),
    limitMs,
  });
  const { service, timeline, waitFor, type } = boot;
  // Debian's rpi_4 U-Boot prompts with "U-Boot> " where the QEMU build says "=> "
  const PROMPT = /\n(?:U-Boot> |=> )$/;
  const started = Date.now();
  try {
    const { sessionId, pty } = await boot.open(installed.profile.console.baud);
    print({ type: 'step', step: 'opened', pty });

    await waitFor(() => boot.text().includes('Hit any key to stop autoboot'), 'U-Boot’s autoboot countdown');
    await type(' ');
    await waitFor(() => PROMPT.test(boot.text()), 'U-Boot’s prompt');
    await type('version\r');
    await waitFor(
      () => /version\r?\n(?:\r?\n)?U-Boot 20\d\d\.\d\d/.test(boot.text()) && PROMPT.test(boot.text()),
      'the version command’s answer',
    );
    print({ type: 'step', step: 'version' });
    await type('boot\r');

    await waitFor(() => boot.reached('xen'), 'Xen');
    await waitFor(() => boot.reached('dom0-userspace'), 'Dom0 userspace');
    const xenInput = async () => (await service.serialSessions())[0]!.xenInput;
    let owner: string | undefined;
    await type('\x01\x01\x01');
    await waitFor(() => (void xenInput().then((now) => (owner = now)), owner === 'Xen'), 'Xen taking the input');
    print({ type: 'step', step: 'input-xen', xenInput: owner });
    await type('\x01\x01\x01');
    await waitFor(() => (void xenInput().then((now) => (owner = now)), owner === 'DOM0'), 'Dom0 getting the input back');
    print({ type: 'step', step: 'input-dom0', xenInput: owner });
    // Dom0's shell answers on the same line
    const before = boot.text().length;
    await type('\rxl list\r');
    await waitFor(() => /Domain-0\s+0\s+\d+\s+\d+/.test(boot.text().slice(before)), 'xl list’s answer in Dom0');
    print({ type: 'step', step: 'xl-list' });
    const saved = await service.serialSaveLog(sessionId);
    print({ type: 'done', console: boot.text(), timeline, log: saved, ms: Date.now() - started, changes: card.changes });
  } finally {
    await boot.stop();
    await card.dispose();
    await fsp.rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  print({ type: 'error', error: toErrorData(error) });
  process.exitCode = 1;
});
