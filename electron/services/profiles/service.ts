// The profiles domain behind the contract: the store over the real schema and migrations, plus files opened with the app.
import path from 'node:path';
import type { EmitImagerEvent, ProfileSummary } from '../../../shared/api';
import { PROFILE_IMPORT_MAX_BYTES } from '../../../shared/api/profiles';
import { boards } from '../../../shared/boards';
import { ImagerError } from '../../../shared/errors';
import { migrateProfile, profileVersionOf } from '../../../shared/profile/migrate';
import { mapProfileFiles } from '../../../shared/profile/file-paths';
import { profileSchema, type Profile } from '../../../shared/profile/schema';
import { dataPaths } from '../../node/paths';
import type { DomainService } from '../host';
import { readUserTextFile } from '../../node/user-files';
import { createProfileStore, type ProfileCodec, type ProfileStore } from './store';

/** A profile file the user names: a regular file of at most the size the page imports. */
export const PROFILE_FILE = {
  what: 'profile',
  maxBytes: PROFILE_IMPORT_MAX_BYTES,
  hint: 'Give the path of a profile file (JSON), such as one the app saved or `xen-pi-imager profile init` wrote.',
} as const;

/** The text of a user-named profile file; refuses folders, devices, FIFOs and huge files with a sentence. */
export function readProfileText(file: string): string {
  return readUserTextFile(file, PROFILE_FILE);
}

/** Reads and checks a profile file the user names (migrating old versions); throws INVALID_PROFILE naming what is wrong. */
export function loadProfileFile(file: string): Profile {
  const text = readProfileText(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ImagerError({
      code: 'INVALID_PROFILE',
      subject: file,
      message: `${file} is not a profile: it is not valid JSON (${(error as Error).message}).`,
      hint: PROFILE_FILE.hint,
    });
  }
  return profileCodec.decode(json, file).profile;
}

export const profileCodec: ProfileCodec<Profile> = {
  decode(json, file) {
    const { profile, migratedFrom } = migrateProfile(json);
    const parsed = profileSchema.safeParse(profile);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${['$', ...issue.path].join('.')}: ${issue.message}`);
      throw new ImagerError({
        code: 'INVALID_PROFILE',
        subject: file,
        message: problems.join('; '),
        hint: 'Fix these fields in a text editor, or check the file with `xen-pi-imager profile check FILE`.',
        details: { problems },
      });
    }
    return { profile: parsed.data, ...(migratedFrom !== undefined && { migratedFrom }) };
  },
  encode: (profile) => profile,
  nameOf: (profile) => profile.name,
  withName: (profile, name) => ({ ...profile, name }),
  describe: (profile) => boards[profile.board].name,
  schemaVersionOf: profileVersionOf,
};

type ProfileMethods =
  | 'profilesList'
  | 'profileLoad'
  | 'profileSave'
  | 'profileRename'
  | 'profileDuplicate'
  | 'profileDelete'
  | 'profileRestore'
  | 'profileImport'
  | 'profileExport'
  | 'profilePendingOpen'
  | 'profileLastOpened';

export interface ProfilesService extends DomainService<ProfileMethods> {
  /** Imports a profile file the app was asked to open and tells the UI. */
  openFile(file: string): Promise<ProfileSummary>;
}

/**
 * A profile's text with its relative file paths made absolute from `folder` (unless that is the components folder,
 * where the app looks them up anyway). Text that is not a valid profile comes back as it is, for the store to refuse.
 */
function withFilesFrom(text: string, folder: string, componentsDir?: string): string {
  if (componentsDir !== undefined && path.resolve(folder) === path.resolve(componentsDir)) return text;
  let decoded: Profile;
  try {
    decoded = profileCodec.decode(JSON.parse(text), 'profile').profile;
  } catch {
    return text;
  }
  return (
    JSON.stringify(
      mapProfileFiles(decoded, (file) => (path.isAbsolute(file) ? file : path.resolve(folder, file))),
      null,
      2,
    ) + '\n'
  );
}

export function createProfilesService(profilesDir: string, emit: EmitImagerEvent): ProfilesService {
  // relative paths in the app's profiles name files in the data folder's components/, beside profiles/
  const componentsDir = dataPaths(path.dirname(profilesDir)).components;
  let store: Promise<ProfileStore<Profile>> | undefined;
  const pending: ProfileSummary[] = [];
  const getStore = () => (store ??= createProfileStore(profilesDir, profileCodec));
  return {
    profilesList: async () => (await getStore()).list(),
    profileLoad: async (id) => (await getStore()).load(id),
    profileSave: async (profile, id) => (await getStore()).save(profile, id),
    profileRename: async (id, name) => (await getStore()).rename(id, name),
    profileDuplicate: async (id, name) => (await getStore()).duplicate(id, name),
    profileDelete: async (id) => (await getStore()).remove(id),
    profileRestore: async (token) => (await getStore()).restore(token),
    profileImport: async (text, sourceName) => (await getStore()).importText(text, sourceName),
    // an exported profile leaves the data folder: its paths are made absolute so they name the same files anywhere
    profileExport: async (id) => withFilesFrom(await (await getStore()).exportText(id), componentsDir),
    profilePendingOpen: async () => pending.splice(0),
    profileLastOpened: async () => (await (await getStore()).lastOpened()) ?? null,
    async openFile(file) {
      // the app reads a saved profile's relative paths in components/: ones relative to the file's own folder become absolute
      const text = withFilesFrom(readProfileText(file), path.dirname(path.resolve(file)), componentsDir);
      const summary = await (await getStore()).importText(text, path.basename(file));
      pending.push(summary);
      emit('profile:opened', summary);
      return summary;
    },
  };
}
