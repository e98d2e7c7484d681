// The profiles domain behind the contract: the store over the real schema and migrations, plus files opened with the app.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { EmitImagerEvent, ProfileSummary } from '../../../shared/api';
import { boards } from '../../../shared/boards';
import { ImagerError } from '../../../shared/errors';
import { migrateProfile, profileVersionOf } from '../../../shared/profile/migrate';
import { profileSchema, type Profile } from '../../../shared/profile/schema';
import type { DomainService } from '../host';
import { createProfileStore, type ProfileCodec, type ProfileStore } from './store';

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
  | 'profilePendingOpen';

export interface ProfilesService extends DomainService<ProfileMethods> {
  /** Imports a profile file the app was asked to open and tells the UI. */
  openFile(file: string): Promise<ProfileSummary>;
}

export function createProfilesService(profilesDir: string, emit: EmitImagerEvent): ProfilesService {
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
    profileExport: async (id) => (await getStore()).exportText(id),
    profilePendingOpen: async () => pending.splice(0),
    async openFile(file) {
      const text = await fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new ImagerError({
          code: error.code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR',
          subject: file,
          message: `The profile file could not be read: ${error.message}`,
          hint: 'Check the path and that you may read the file.',
        });
      });
      const summary = await (await getStore()).importText(text, path.basename(file));
      pending.push(summary);
      emit('profile:opened', summary);
      return summary;
    },
  };
}
