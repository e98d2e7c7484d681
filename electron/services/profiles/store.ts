// The profile store: one JSON file per profile in the user-data folder, written atomically, damaged files kept and shown.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ImagerError } from '../../../shared/errors';
import type { ImportedProfileSummary, ProfileStatus, ProfileSummary } from '../../../shared/api/profiles';
import { removeStaleTemps, writeFileAtomic, type AtomicFs } from '../../node/atomic-file';

export type { ImportedProfileSummary, ProfileSummary };

/** How the store reads and writes one profile; the schema, migrations and naming live in shared/profile. */
export interface ProfileCodec<P> {
  /** Parses file content (already JSON-parsed), migrating older versions; throws ImagerError when it cannot. */
  decode(json: unknown, file: string): { profile: P; migratedFrom?: number };
  encode(profile: P): unknown;
  nameOf(profile: P): string;
  withName(profile: P, name: string): P;
  /** Short description for lists, e.g. the board. */
  describe(profile: P): string;
  schemaVersionOf(json: unknown): number | undefined;
}

export interface LoadedProfile<P> {
  id: string;
  profile: P;
  file: string;
  modified: number;
  migratedFrom?: number;
}

const EXT = '.json';
const TRASH = '.trash';
/** Holds the id of the profile last opened or saved, so the app reopens it (as Raspberry Pi Imager keeps its settings). */
const LAST_OPENED = '.last-opened';
const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '') // drop the accents NFKD split off
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return slug || 'profile';
}

export interface ProfileStore<P> {
  readonly dir: string;
  list(): Promise<ProfileSummary[]>;
  load(id: string): Promise<LoadedProfile<P>>;
  /** Saves over `id` (or creates a new profile when absent). Refuses to overwrite a damaged or unsupported file. */
  save(profile: P, id?: string): Promise<ProfileSummary>;
  rename(id: string, name: string): Promise<ProfileSummary>;
  duplicate(id: string, name?: string): Promise<ProfileSummary>;
  /** Moves the file to the trash folder; the returned token undoes it. */
  remove(id: string): Promise<{ undoToken: string }>;
  restore(undoToken: string): Promise<ProfileSummary>;
  /** Validates and copies a profile from text (an imported file's content); a name already in the list gets " (2)". */
  importText(text: string, sourceName: string): Promise<ImportedProfileSummary>;
  /** The profile last opened or saved, when it is still there and opens. */
  lastOpened(): Promise<LoadedProfile<P> | undefined>;
  exportText(id: string): Promise<string>;
}

export async function createProfileStore<P>(dir: string, codec: ProfileCodec<P>, fsImpl?: AtomicFs): Promise<ProfileStore<P>> {
  await fs.mkdir(path.join(dir, TRASH), { recursive: true });
  await removeStaleTemps(dir);

  const fileOf = (id: string) => {
    if (!ID.test(id)) {
      throw new ImagerError({
        code: 'INVALID_ARGUMENT',
        subject: id,
        message: `"${id}" is not a profile id.`,
        hint: 'Pick the profile from the list.',
      });
    }
    return path.join(dir, id + EXT);
  };

  const read = async (id: string): Promise<ProfileSummary & { profile?: P }> => {
    const file = fileOf(id);
    const [text, info] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        throw new ImagerError({
          code: 'NOT_FOUND',
          subject: file,
          message: `There is no profile "${id}".`,
          hint: 'It may have been deleted or renamed; pick one from the list.',
        });
      }
      throw error;
    });
    const base = { id, file, modified: info.mtimeMs, name: id, description: '' };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return { ...base, status: 'damaged', problem: `The file is not valid JSON (${(error as Error).message}).` };
    }
    try {
      const { profile, migratedFrom } = codec.decode(json, file);
      return {
        ...base,
        name: codec.nameOf(profile),
        description: codec.describe(profile),
        status: 'ok',
        profile,
        ...(migratedFrom !== undefined && { migratedFrom }),
      };
    } catch (error) {
      const status: ProfileStatus = error instanceof ImagerError && error.code === 'PROFILE_TOO_NEW' ? 'unsupported' : 'damaged';
      const name = typeof (json as { name?: unknown })?.name === 'string' ? (json as { name: string }).name : id;
      return { ...base, name, status, problem: error instanceof Error ? error.message : String(error) };
    }
  };

  const summary = ({ profile: _profile, ...rest }: ProfileSummary & { profile?: P }): ProfileSummary => rest;

  const freeId = async (name: string): Promise<string> => {
    const stem = slugify(name);
    const taken = new Set((await fs.readdir(dir)).filter((f) => f.endsWith(EXT)).map((f) => f.slice(0, -EXT.length)));
    if (!taken.has(stem)) return stem;
    for (let n = 2; ; n++) if (!taken.has(`${stem}-${n}`)) return `${stem}-${n}`;
  };

  const remember = (id: string) => writeFileAtomic(path.join(dir, LAST_OPENED), id + '\n', fsImpl);

  /** The name itself when no saved profile has it (in any case), else the first free "name (n)". */
  const freeName = async (name: string): Promise<string> => {
    const names = new Set((await list()).map((entry) => entry.name.trim().toLowerCase()));
    if (!names.has(name.trim().toLowerCase())) return name;
    for (let n = 2; ; n++) if (!names.has(`${name} (${n})`.trim().toLowerCase())) return `${name} (${n})`;
  };

  const list = async () => {
    const names = (await fs.readdir(dir)).filter((f) => f.endsWith(EXT) && ID.test(f.slice(0, -EXT.length)));
    const entries = await Promise.all(names.map((f) => read(f.slice(0, -EXT.length)).then(summary, () => undefined)));
    return entries.filter((e): e is ProfileSummary => e !== undefined).sort((a, b) => b.modified - a.modified);
  };

  const write = async (id: string, profile: P) => {
    await writeFileAtomic(fileOf(id), JSON.stringify(codec.encode(profile), null, 2) + '\n', fsImpl);
    return summary(await read(id));
  };

  const loadOk = async (id: string): Promise<ProfileSummary & { profile: P }> => {
    const entry = await read(id);
    if (entry.status !== 'ok' || entry.profile === undefined) {
      throw new ImagerError({
        code: entry.status === 'unsupported' ? 'PROFILE_TOO_NEW' : 'PROFILE_DAMAGED',
        subject: entry.file,
        message: `The profile "${entry.name}" cannot be opened: ${entry.problem}`,
        hint:
          entry.status === 'unsupported'
            ? 'It was saved by a newer Xen Pi Imager: update the app to open it. The file is kept as it is.'
            : 'The file is kept as it is: fix it in a text editor, or delete it from the list.',
      });
    }
    return entry as ProfileSummary & { profile: P };
  };

  return {
    dir,
    list,
    async load(id) {
      const entry = await loadOk(id);
      await remember(id);
      return {
        id,
        profile: entry.profile,
        file: entry.file,
        modified: entry.modified,
        ...(entry.migratedFrom !== undefined && { migratedFrom: entry.migratedFrom }),
      };
    },
    async save(profile, id) {
      if (id === undefined) {
        const created = await write(await freeId(codec.nameOf(profile)), profile);
        await remember(created.id);
        return created;
      }
      const existing = await read(id).catch((error: unknown) => {
        if (error instanceof ImagerError && error.code === 'NOT_FOUND') return undefined;
        throw error;
      });
      if (existing && existing.status !== 'ok') {
        throw new ImagerError({
          code: 'PROFILE_DAMAGED',
          subject: existing.file,
          message: `Not saved: "${existing.name}" on disk is ${existing.status === 'unsupported' ? 'from a newer version of the app' : 'damaged'}, and saving would overwrite it.`,
          hint: 'Use "Save as" to keep your changes under a new name.',
        });
      }
      if (existing?.migratedFrom !== undefined) {
        // first save after a migration: keep the old-version file beside it
        await fs.copyFile(existing.file, `${existing.file}.v${existing.migratedFrom}.bak`);
      }
      const saved = await write(id, profile);
      await remember(id);
      return saved;
    },
    async rename(id, name) {
      const entry = await loadOk(id);
      return write(id, codec.withName(entry.profile, name));
    },
    async duplicate(id, name) {
      const entry = await loadOk(id);
      const copyName = name ?? `${entry.name} (copy)`;
      return write(await freeId(copyName), codec.withName(entry.profile, copyName));
    },
    async remove(id) {
      const file = fileOf(id);
      const undoToken = `${id}.${Date.now()}.${randomBytes(3).toString('hex')}`;
      await fs.rename(file, path.join(dir, TRASH, undoToken + EXT)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') throw new ImagerError({ code: 'NOT_FOUND', subject: file, message: `There is no profile "${id}".` });
        throw error;
      });
      return { undoToken };
    },
    async restore(undoToken) {
      if (!/^[a-z0-9-]+\.\d+\.[0-9a-f]{6}$/.test(undoToken)) {
        throw new ImagerError({ code: 'INVALID_ARGUMENT', subject: undoToken, message: 'That undo is not valid any more.' });
      }
      const id = undoToken.split('.')[0]!;
      const target = (await fs.stat(fileOf(id)).then(
        () => true,
        () => false,
      ))
        ? await freeId(id)
        : id;
      await fs.rename(path.join(dir, TRASH, undoToken + EXT), fileOf(target));
      return summary(await read(target));
    },
    async importText(text, sourceName) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new ImagerError({
          code: 'PROFILE_DAMAGED',
          subject: sourceName,
          message: `"${sourceName}" is not a profile: it is not valid JSON (${(error as Error).message}).`,
          hint: 'Pick a profile file exported by Xen Pi Imager (.json).',
        });
      }
      const { profile } = codec.decode(json, sourceName);
      const name = codec.nameOf(profile);
      const unique = await freeName(name);
      const imported = await write(await freeId(unique), codec.withName(profile, unique));
      return unique === name ? imported : { ...imported, renamedFrom: name };
    },
    async lastOpened() {
      const id = (await fs.readFile(path.join(dir, LAST_OPENED), 'utf8').catch(() => '')).trim();
      if (!ID.test(id)) return undefined;
      const entry = await read(id).catch(() => undefined);
      if (entry?.status !== 'ok' || entry.profile === undefined) return undefined;
      return {
        id,
        profile: entry.profile,
        file: entry.file,
        modified: entry.modified,
        ...(entry.migratedFrom !== undefined && { migratedFrom: entry.migratedFrom }),
      };
    },
    async exportText(id) {
      const entry = await loadOk(id);
      return JSON.stringify(codec.encode(entry.profile), null, 2) + '\n';
    },
  };
}
