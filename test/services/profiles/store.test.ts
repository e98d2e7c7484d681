import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImagerError } from '../../../shared/errors';
import { TEMP_SUFFIX } from '../../../electron/node/atomic-file';
import { createProfileStore, slugify, type ProfileCodec } from '../../../electron/services/profiles/store';

// A small two-version codec: v1 had `title`, v2 has `name`. The real profile codec is tested with the schema.
interface Demo {
  schemaVersion: 2;
  name: string;
  board: string;
}
const codec: ProfileCodec<Demo> = {
  decode(json) {
    const value = json as Record<string, unknown>;
    if (value.schemaVersion === 1 && typeof value.title === 'string') {
      return { profile: { schemaVersion: 2, name: value.title, board: String(value.board) }, migratedFrom: 1 };
    }
    if (typeof value.schemaVersion === 'number' && value.schemaVersion > 2) {
      throw new ImagerError({ code: 'PROFILE_TOO_NEW', message: `schema version ${value.schemaVersion} is newer than this app knows (2)` });
    }
    if (value.schemaVersion !== 2 || typeof value.name !== 'string')
      throw new ImagerError({ code: 'INVALID_PROFILE', message: 'name: expected a string' });
    return { profile: value as unknown as Demo };
  },
  encode: (p) => p,
  nameOf: (p) => p.name,
  withName: (p, name) => ({ ...p, name }),
  describe: (p) => p.board,
  schemaVersionOf: (json) => (json as { schemaVersion?: number }).schemaVersion,
};

describe('profile store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'xpi-profiles-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('saves one JSON file per profile and lists it', async () => {
    const store = await createProfileStore(dir, codec);
    const saved = await store.save({ schemaVersion: 2, name: 'Pi 4 lab bench', board: 'rpi4' });
    expect(saved).toMatchObject({ id: 'pi-4-lab-bench', name: 'Pi 4 lab bench', status: 'ok', description: 'rpi4' });
    expect(JSON.parse(readFileSync(path.join(dir, 'pi-4-lab-bench.json'), 'utf8')).name).toBe('Pi 4 lab bench');
    const again = await store.save({ schemaVersion: 2, name: 'Pi 4 lab bench', board: 'rpi4' });
    expect(again.id).toBe('pi-4-lab-bench-2');
    expect((await store.list()).map((p) => p.id).sort()).toEqual(['pi-4-lab-bench', 'pi-4-lab-bench-2']);
  });

  it('loses nothing when it crashes between writing and renaming', async () => {
    const store = await createProfileStore(dir, codec);
    const { id } = await store.save({ schemaVersion: 2, name: 'Keep me', board: 'rpi4' });
    const before = readFileSync(path.join(dir, `${id}.json`), 'utf8');
    const crashing = await createProfileStore(dir, codec, {
      open: fs.open,
      rm: fs.rm,
      rename: async () => {
        throw Object.assign(new Error('simulated crash'), { code: 'EIO' });
      },
    });
    await expect(crashing.save({ schemaVersion: 2, name: 'Keep me', board: 'qemu-virt' }, id)).rejects.toThrow('simulated crash');
    expect(readFileSync(path.join(dir, `${id}.json`), 'utf8')).toBe(before);
    expect(readdirSync(dir).filter((f) => f.endsWith(TEMP_SUFFIX))).toEqual([]);
  });

  it('ignores and then removes a temp file left by a killed process', async () => {
    const store = await createProfileStore(dir, codec);
    await store.save({ schemaVersion: 2, name: 'Real', board: 'rpi4' });
    const stale = path.join(dir, `.real.json.1234.abcd${TEMP_SUFFIX}`);
    writeFileSync(stale, '{"half": ');
    expect((await store.list()).map((p) => p.id)).toEqual(['real']);
    await createProfileStore(dir, codec);
    expect(readdirSync(dir)).not.toContain(path.basename(stale));
  });

  it('shows a damaged file with its error, keeps it, and refuses to overwrite it', async () => {
    const store = await createProfileStore(dir, codec);
    writeFileSync(path.join(dir, 'broken.json'), '{"schemaVersion": 2, "name": ');
    writeFileSync(path.join(dir, 'wrong.json'), '{"schemaVersion": 2, "name": 7}');
    const list = await store.list();
    expect(list.find((p) => p.id === 'broken')).toMatchObject({ status: 'damaged', problem: expect.stringMatching(/not valid JSON/) });
    expect(list.find((p) => p.id === 'wrong')).toMatchObject({ status: 'damaged', problem: 'name: expected a string' });
    await expect(store.load('broken')).rejects.toMatchObject({ code: 'PROFILE_DAMAGED', hint: expect.stringMatching(/kept/) });
    await expect(store.save({ schemaVersion: 2, name: 'x', board: 'rpi4' }, 'broken')).rejects.toMatchObject({
      code: 'PROFILE_DAMAGED',
      hint: expect.stringMatching(/Save as/),
    });
    expect(readFileSync(path.join(dir, 'broken.json'), 'utf8')).toBe('{"schemaVersion": 2, "name": ');
  });

  it('marks a file from a newer app version as unsupported, not damaged', async () => {
    const store = await createProfileStore(dir, codec);
    writeFileSync(path.join(dir, 'future.json'), '{"schemaVersion": 9, "name": "Future"}');
    expect((await store.list())[0]).toMatchObject({ id: 'future', name: 'Future', status: 'unsupported' });
    await expect(store.load('future')).rejects.toMatchObject({ code: 'PROFILE_TOO_NEW', hint: expect.stringMatching(/update the app/) });
  });

  it('migrates an old file on load and keeps the old version beside it on the first save', async () => {
    const store = await createProfileStore(dir, codec);
    writeFileSync(path.join(dir, 'old.json'), '{"schemaVersion": 1, "title": "Old one", "board": "rpi4"}');
    const loaded = await store.load('old');
    expect(loaded).toMatchObject({ profile: { schemaVersion: 2, name: 'Old one' }, migratedFrom: 1 });
    expect(JSON.parse(readFileSync(path.join(dir, 'old.json'), 'utf8')).schemaVersion).toBe(1);
    await store.save(loaded.profile, 'old');
    expect(JSON.parse(readFileSync(path.join(dir, 'old.json'), 'utf8')).schemaVersion).toBe(2);
    expect(JSON.parse(readFileSync(path.join(dir, 'old.json.v1.bak'), 'utf8')).title).toBe('Old one');
  });

  it('renames, duplicates, deletes with undo', async () => {
    const store = await createProfileStore(dir, codec);
    const { id } = await store.save({ schemaVersion: 2, name: 'A', board: 'rpi4' });
    expect(await store.rename(id, 'B')).toMatchObject({ id, name: 'B' });
    const copy = await store.duplicate(id);
    expect(copy).toMatchObject({ name: 'B (copy)', id: 'b-copy' });
    const { undoToken } = await store.remove(id);
    expect((await store.list()).map((p) => p.id)).toEqual(['b-copy']);
    expect(await store.restore(undoToken)).toMatchObject({ id, name: 'B' });
    await expect(store.restore('../../etc/passwd')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('imports and exports text, rejecting what is not a profile', async () => {
    const store = await createProfileStore(dir, codec);
    const imported = await store.importText('{"schemaVersion": 2, "name": "Imported", "board": "qemu-virt"}', 'lab.xenpi');
    expect(imported).toMatchObject({ id: 'imported', status: 'ok' });
    expect(JSON.parse(await store.exportText('imported'))).toEqual({ schemaVersion: 2, name: 'Imported', board: 'qemu-virt' });
    await expect(store.importText('not json', 'photo.jpg')).rejects.toMatchObject({ code: 'PROFILE_DAMAGED', subject: 'photo.jpg' });
  });

  it('gives an imported profile whose name is taken the next free name, and says what it was called', async () => {
    const store = await createProfileStore(dir, codec);
    await store.save({ schemaVersion: 2, name: 'Lab Pi', board: 'rpi4' });
    const text = '{"schemaVersion": 2, "name": "lab pi", "board": "rpi4"}';
    expect(await store.importText(text, 'a.xenpi')).toMatchObject({ name: 'lab pi (2)', renamedFrom: 'lab pi' });
    expect(await store.importText(text, 'b.xenpi')).toMatchObject({ name: 'lab pi (3)', renamedFrom: 'lab pi' });
    const fresh = await store.importText('{"schemaVersion": 2, "name": "Other", "board": "rpi4"}', 'c.xenpi');
    expect(fresh.name).toBe('Other');
    expect(fresh).not.toHaveProperty('renamedFrom');
    expect((await store.list()).map((p) => p.name).sort()).toEqual(['Lab Pi', 'Other', 'lab pi (2)', 'lab pi (3)']);
  });

  it('remembers the profile last opened or saved, across store instances, and forgets one that is gone', async () => {
    const first = await createProfileStore(dir, codec);
    expect(await first.lastOpened()).toBeUndefined();
    const a = await first.save({ schemaVersion: 2, name: 'A', board: 'rpi4' });
    const b = await first.save({ schemaVersion: 2, name: 'B', board: 'rpi4' });
    expect((await (await createProfileStore(dir, codec)).lastOpened())?.profile.name).toBe('B');
    await first.load(a.id);
    const again = await createProfileStore(dir, codec);
    expect(await again.lastOpened()).toMatchObject({ id: a.id, profile: { name: 'A' } });
    await again.save({ schemaVersion: 2, name: 'A renamed', board: 'rpi4' }, a.id);
    expect((await again.lastOpened())?.profile.name).toBe('A renamed');
    await again.remove(a.id);
    expect(await again.lastOpened()).toBeUndefined();
    expect((await again.list()).map((p) => p.id)).toEqual([b.id]);
    writeFileSync(path.join(dir, '.last-opened'), '../../etc/passwd\n');
    expect(await again.lastOpened()).toBeUndefined();
  });

  it('refuses ids that could leave the folder', async () => {
    const store = await createProfileStore(dir, codec);
    await expect(store.load('../secret')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(slugify('Ünïcode / Pi 4!')).toBe('unicode-pi-4');
    expect(slugify('////')).toBe('profile');
  });
});
