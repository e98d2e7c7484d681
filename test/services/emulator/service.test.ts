// The emulator service behind the contract: tool checks, one trial at a time, events, cancel with full cleanup (no root needed).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmitImagerEvent } from '../../../shared/api';
import type { EmulatorResult } from '../../../shared/api/emulator';
import { createEmulatorService } from '../../../electron/services/emulator/service';
import { checkQemu } from '../../../electron/node/host-tools';
import { writeFakeParts } from './fake-parts';

function trialDirs(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('xen-pi-imager-qemu-'));
}

describe('the emulator service', () => {
  let home: string;
  let profileFile: string;
  const events: Array<{ name: string; payload: unknown }> = [];
  const emit: EmitImagerEvent = (name, payload) => events.push({ name, payload });

  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'emulator-service-'));
    profileFile = writeFakeParts(home);
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('says which packages to install when QEMU is missing', async () => {
    const service = createEmulatorService(
      { transport: 'browser', emit, openExternal: async () => {}, userDataDir: home },
      { env: { ...process.env, XEN_PI_IMAGER_QEMU: '/nonexistent/qemu-system-aarch64' } },
    );
    await expect(service.emulatorTry(profileFile)).rejects.toMatchObject({
      code: 'NOT_AVAILABLE',
      hint: expect.stringMatching(/Install the qemu-system-arm package/),
    });
  });

  it('says so when the profile file does not exist', async () => {
    const service = createEmulatorService({ transport: 'browser', emit, openExternal: async () => {}, userDataDir: home });
    await expect(service.emulatorTry(path.join(home, 'nope.json'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('reports nothing running before a trial', async () => {
    const service = createEmulatorService({ transport: 'browser', emit, openExternal: async () => {}, userDataDir: home });
    expect(await service.emulatorStatus()).toMatchObject({ running: false, available: checkQemu().available });
    expect(await service.emulatorCancel()).toBe(false);
  });

  it.skipIf(!checkQemu().available)(
    'streams the console, refuses a second trial, and cancels leaving no process or file behind',
    async () => {
      const before = trialDirs();
      const service = createEmulatorService({ transport: 'browser', emit, openExternal: async () => {}, userDataDir: home });
      events.length = 0;
      // no TFTP server of its own: nothing here needs port 69
      const running = service.emulatorTry(profileFile, { tftp: 'external', timeoutSeconds: 60 });
      await expect.poll(() => events.some((e) => e.name === 'emulator:milestone'), { timeout: 20_000 }).toBe(true);
      expect(await service.emulatorStatus()).toMatchObject({ running: true, runId: 1 });
      await expect(service.emulatorTry(profileFile)).rejects.toMatchObject({ code: 'BUSY' });
      expect(await service.emulatorCancel()).toBe(true);
      const result: EmulatorResult = await running;
      expect(result).toMatchObject({ runId: 1, ok: false, diagnosis: { kind: 'cancelled', after: 'uboot' }, exitCode: null });
      expect(result.changes.join(' ')).toMatch(/255\.255\.255\.255/);
      const consoleText = events
        .filter((e) => e.name === 'emulator:console')
        .map((e) => (e.payload as { text: string }).text)
        .join('');
      expect(consoleText).toContain('U-Boot 20');
      expect(events.at(-1)).toMatchObject({ name: 'emulator:done', payload: { runId: 1, ok: false } });
      expect(fs.readFileSync(result.consoleLogPath!, 'latin1')).toContain('U-Boot 20');
      expect(trialDirs().filter((dir) => !before.includes(dir))).toEqual([]);
      expect(await service.emulatorStatus()).toMatchObject({ running: false });
    },
    40_000,
  );
});
