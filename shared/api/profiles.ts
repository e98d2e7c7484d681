// Saved profiles: list, open, save, rename, duplicate, delete with undo, import and export.
import { z } from 'zod';
import { profileSchema, type Profile } from '../profile/schema';
import { event, method } from './contract';

export type ProfileStatus = 'ok' | 'damaged' | 'unsupported';

export interface ProfileSummary {
  id: string;
  name: string;
  /** e.g. the board's name. */
  description: string;
  file: string;
  modified: number;
  status: ProfileStatus;
  /** For damaged or unsupported files: what is wrong. */
  problem?: string;
  migratedFrom?: number;
}

export interface ImportedProfileSummary extends ProfileSummary {
  /** The name in the imported file, when a saved profile already had it and the import got another ("Pi 4 (2)"). */
  renamedFrom?: string;
}

export interface LoadedProfile {
  id: string;
  profile: Profile;
  file: string;
  modified: number;
  migratedFrom?: number;
}

/** The most a profile file may hold when imported: real ones are a few kilobytes. */
export const PROFILE_IMPORT_MAX_BYTES = 1_000_000;

const profileId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'Expected a profile id.' });
const profileName = z.string().trim().min(1, { message: 'A profile needs a name.' }).max(120);

export const profileMethods = {
  profilesList: method(z.tuple([])).returns<ProfileSummary[]>(),
  profileLoad: method(z.tuple([profileId])).returns<LoadedProfile>(),
  /** Saves over `id`, or as a new profile when `id` is absent ("Save as"). */
  profileSave: method(z.tuple([profileSchema, profileId.optional()])).returns<ProfileSummary>(),
  profileRename: method(z.tuple([profileId, profileName])).returns<ProfileSummary>(),
  profileDuplicate: method(z.tuple([profileId, profileName.optional()])).returns<ProfileSummary>(),
  profileDelete: method(z.tuple([profileId])).returns<{ undoToken: string }>(),
  profileRestore: method(z.tuple([z.string().max(200)])).returns<ProfileSummary>(),
  /** Imports a profile file's text (from a file picker or a drop); returns it as saved in the list. */
  profileImport: method(z.tuple([z.string().max(PROFILE_IMPORT_MAX_BYTES), z.string().max(300)])).returns<ImportedProfileSummary>(),
  profileExport: method(z.tuple([profileId])).returns<string>(),
  /** Profiles the app was asked to open (file argument, double-click) that the UI has not shown yet. */
  profilePendingOpen: method(z.tuple([])).returns<ProfileSummary[]>(),
  /** The profile last opened or saved, for the app to reopen on start; null when there is none (or it is gone). */
  profileLastOpened: method(z.tuple([])).returns<LoadedProfile | null>(),
};

export const profileEvents = {
  /** A profile file was opened with the app while it runs (double-click, second instance). */
  'profile:opened': event<ProfileSummary>(),
};

export type { Profile };
