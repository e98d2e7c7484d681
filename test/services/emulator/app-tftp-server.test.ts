// A trial on virt while the app's own TFTP server (Network boot step) holds the port: it names that server and how to
// stop it, before QEMU starts, instead of blaming "another program" and suggesting a command-line flag.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulatorService } from '../../../electron/services/emulator/service';
import { createTftpService } from '../../../electron/services/tftp/service';
import { writeFakeParts } from './fake-parts';

/** A high port stands in for 69 (the trial's port is a test option): no root needed. */
const PORT = 30_000 + (process.pid % 20_000);

describe('a trial while the app’s TFTP server runs', () => {
  let home: string;
  let profileFile: string;
  const host = { transport: 'browser' as const, emit: () => {}, openExternal: async () => {} };
  const tftp = createTftpService(host, os.tmpdir());
  const appTftpServer = async () => {
    const status = await tftp.tftpStatus();
    return status.running ? { address: status.address!, port: status.port! } : undefined;
  };

  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'app-tftp-'));
    profileFile = writeFakeParts(home);
  });
  afterAll(async () => {
    await tftp.dispose?.();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('names the app’s own server on all addresses and says to stop it on the Network boot step', async () => {
    await tftp.tftpStart({ root: home, address: '0.0.0.0', port: PORT });
    const emulator = createEmulatorService({ ...host, userDataDir: home }, { tftpPort: PORT, appTftpServer });
    await expect(emulator.emulatorTry(profileFile, { machine: 'virt' })).rejects.toMatchObject({
      code: 'TFTP_SERVER_RUNNING',
      message: `The app’s own TFTP server (Network boot step) is serving on 0.0.0.0:${PORT}, the port the emulated board asks, so the trial cannot serve its files there.`,
      hint: expect.stringMatching(/^Stop the TFTP server on the Network boot step, then try again/),
      details: { stop: 'tftpStop' },
    });
    await tftp.tftpStop();
  });

  it('is not in the way when it listens on one LAN address, nor when the trial serves nothing itself', async () => {
    const emulator = createEmulatorService(
      { ...host, userDataDir: home },
      {
        tftpPort: PORT,
        appTftpServer: async () => ({ address: '192.168.1.10', port: PORT }),
        env: { ...process.env, XEN_PI_IMAGER_QEMU: '/nonexistent/qemu' },
      },
    );
    // the next refusal is about QEMU itself: the server check let it through
    await expect(emulator.emulatorTry(profileFile, { machine: 'virt' })).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
    const loopback = createEmulatorService(
      { ...host, userDataDir: home },
      {
        tftpPort: PORT,
        appTftpServer: async () => ({ address: '127.0.0.1', port: PORT }),
        env: { ...process.env, XEN_PI_IMAGER_QEMU: '/nonexistent/qemu' },
      },
    );
    await expect(loopback.emulatorTry(profileFile, { machine: 'virt', tftp: 'external' })).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
    await expect(loopback.emulatorTry(profileFile, { machine: 'virt' })).rejects.toMatchObject({ code: 'TFTP_SERVER_RUNNING' });
  });
});
