// Writing an image file, as the wizard's Target step does (saveAs): its folder must exist, an existing file is replaced
// only after the user says yes, and the saved file is read back and compared like a card, .img.xz decompressed first.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../../electron/services';
import { verifySavedImage } from '../../../electron/services/drives/image-file';
import type { FlashDone } from '../../../shared/api/drives';
import { dispatchCall } from '../../../shared/api/dispatch';
import type { FlashProgress } from '../../../shared/drives/flash';
import { testProfile, writeTestComponents } from '../../helpers/components';
import { buildRpiLikeImage, mtoolsRead, tempDir, type TestImageLayout } from '../../helpers/disk-images';

const dir = tempDir('xpi-image-file-');
const events: { name: string; payload: unknown }[] = [];
let services: Services;
let base: TestImageLayout;
let profile: ReturnType<typeof testProfile>;

beforeAll(() => {
  const components = writeTestComponents(path.join(dir, 'components'));
  base = buildRpiLikeImage(dir, 'base.img', { bootMiB: 36, rootMiB: 12 });
  profile = { ...testProfile(components, 'sd'), baseImage: base.path };
  services = createServices({
    transport: 'browser',
    emit: (name, payload) => events.push({ name, payload }),
    openExternal: async () => undefined,
    userDataDir: path.join(dir, 'home'),
  });
});
afterAll(async () => {
  await services?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function saveAs(file: string, extra: { overwrite?: boolean } = {}): Promise<FlashDone> {
  const reply = await dispatchCall(services, 'flashStart', [{ profile, targets: [], saveAs: file, ...extra }]);
  if (!reply.ok) throw Object.assign(new Error(reply.error.message), reply.error);
  const jobId = (reply.value as { jobId: string }).jobId;
  await expect
    .poll(() => events.some((e) => e.name === 'flash:done' && (e.payload as FlashDone).jobId === jobId), { timeout: 60_000 })
    .toBe(true);
  return events.find((e) => e.name === 'flash:done' && (e.payload as FlashDone).jobId === jobId)!.payload as FlashDone;
}

describe('an image file as the target', () => {
  it('refuses a folder that does not exist, naming it, and creates nothing', async () => {
    const missing = path.join(dir, 'no-such-folder');
    await expect(saveAs(path.join(missing, 'card.img'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: `The folder ${missing} does not exist, so card.img cannot be saved there.`,
    });
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('writes a new file, reads it back and says it was verified', async () => {
    const file = path.join(dir, 'card.img');
    const done = await saveAs(file);
    expect(done).toMatchObject({ ok: true, savedAs: file, savedVerified: true });
    const phases = events.filter((e) => e.name === 'flash:progress').map((e) => (e.payload as FlashProgress).phase);
    expect(phases).toContain('verifying');
    expect(mtoolsRead(file, base.boot.offset, 'boot.scr').length).toBeGreaterThan(0);
  });

  it('asks before replacing a file that exists (EXISTS), and replaces it once told to', async () => {
    const file = path.join(dir, 'keep.img.xz');
    fs.writeFileSync(file, 'the user’s own file');
    await expect(saveAs(file)).rejects.toMatchObject({
      code: 'EXISTS',
      subject: file,
      message: `${file} already exists (0 MiB).`,
      hint: 'Confirm to replace it, or choose another file name.',
    });
    expect(fs.readFileSync(file, 'utf8')).toBe('the user’s own file');
    expect(await saveAs(file, { overwrite: true })).toMatchObject({ ok: true, savedAs: file, savedVerified: true });
    expect(execFileSync('xz', ['-t', file]).length).toBe(0);
  });
});

describe('verifying a saved image file', () => {
  it('finds the first byte that differs, in a plain and in an .xz file', async () => {
    const image = path.join(dir, 'image.raw');
    fs.writeFileSync(image, Buffer.alloc(6 * 1024 * 1024, 7));
    const copy = path.join(dir, 'copy.img');
    fs.copyFileSync(image, copy);
    await expect(verifySavedImage(image, copy)).resolves.toBeUndefined();
    const bytes = fs.readFileSync(copy);
    bytes[5_000_001] = 8;
    fs.writeFileSync(copy, bytes);
    await expect(verifySavedImage(image, copy)).rejects.toMatchObject({ code: 'VERIFY_FAILED', details: { offset: 5_000_001 } });
    execFileSync('sh', ['-c', `xz -T0 -c ${copy} > ${copy}.xz`]);
    await expect(verifySavedImage(image, `${copy}.xz`)).rejects.toMatchObject({ code: 'VERIFY_FAILED', details: { offset: 5_000_001 } });
    fs.truncateSync(copy, 1024);
    await expect(verifySavedImage(image, copy)).rejects.toMatchObject({ code: 'VERIFY_FAILED', details: { offset: 1024 } });
  });
});
