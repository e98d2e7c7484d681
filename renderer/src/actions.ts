// What the UI asks of the host, named for what the user does: the one module between the views and the api client
// (GitHub Desktop's dispatcher habit), so a step never builds a request for a transport or talks to one itself.
import type { LoadedProfile, ProfileSummary } from '../../shared/api';
import { PROFILE_IMPORT_MAX_BYTES, type ImportedProfileSummary } from '../../shared/api/profiles';
import type { FlashStartRequest } from '../../shared/api/drives';
import type { PickRequest } from '../../shared/api/files';
import { ImagerError } from '../../shared/errors';
import { validateProfile } from '../../shared/profile/check';
import { fieldLabel } from '../../shared/profile/field-words';
import type { Profile } from '../../shared/profile/schema';
import { api, droppedFilePath, hasNativeDialogs } from './api/client';
import type { TargetChoice, WizardState } from './wizard/store';
import { sourceOf } from './wizard/write-source';

/** Listens to one of the host's events; returns the function that stops listening. */
export const onHostEvent: typeof api.on = (name, listener) => api.on(name, listener);

export const appInfo = () => api.appInfo();

/**
 * The draft, when it has the profile's shape; otherwise an error naming the first field to fix. The host parses every
 * profile it is sent, and its refusal ("Invalid arguments for bootPreview: 0.boot.network.serverIp …") is no sentence
 * for a user, so a draft the host would refuse never leaves the page.
 */
export function draftForHost(draft: Profile, doing: string): Profile {
  const { profile, problems } = validateProfile(draft);
  if (profile) return draft;
  const errors = problems.filter((p) => p.severity === 'error');
  const first = errors[0] ?? { path: '$', message: 'The profile is not complete.' };
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more field${errors.length > 2 ? 's' : ''})` : '';
  throw new ImagerError({
    code: 'INVALID_PROFILE',
    subject: fieldLabel(first.path),
    message: `${doing} needs ${fieldLabel(first.path)} fixed first${more}: ${first.message}`,
    hint: 'The step list marks the steps with problems, and each field says what to change.',
  });
}

// --- profiles -----------------------------------------------------------------------------------------------------

export const listProfiles = () => api.profilesList();
export const loadProfile = (id: string): Promise<LoadedProfile> => api.profileLoad(id);
/** Saves over the open profile, or as a new one when `savedId` is absent ("Save as"). */
export const saveProfile = async (draft: Profile, savedId?: string) => api.profileSave(draftForHost(draft, 'Saving'), savedId);
export const renameProfile = (id: string, name: string) => api.profileRename(id, name);
export const duplicateProfile = (id: string) => api.profileDuplicate(id);
export const deleteProfile = (id: string) => api.profileDelete(id);
export const restoreProfile = (undoToken: string) => api.profileRestore(undoToken);
/** Profiles the app was asked to open (file argument, double-click) before the UI was ready. */
export const pendingProfileOpens = () => api.profilePendingOpen();
/** The profile last opened or saved (null on first start), for the wizard to reopen. */
export const lastOpenedProfile = () => api.profileLastOpened();

/** Adds a profile file the user picked or dropped to the saved profiles. */
export async function importProfileFile(file: File): Promise<ImportedProfileSummary> {
  // refused here, before reading: a large file would not fit one message to the app
  if (file.size > PROFILE_IMPORT_MAX_BYTES) {
    throw new ImagerError({
      code: 'FILE_TOO_LARGE',
      subject: file.name,
      message: `${file.name} is ${(file.size / 1e6).toFixed(1)} MB; a profile file is at most ${PROFILE_IMPORT_MAX_BYTES / 1e6} MB.`,
      hint: 'Choose a profile file (.json) the app exported or saved, or fetch-parts wrote; it is a few kilobytes.',
    });
  }
  return api.profileImport(await file.text(), file.name);
}

/** Hands a saved profile to the browser's downloads as `<id>.json`. */
export async function downloadProfile(summary: ProfileSummary): Promise<void> {
  const text = await api.profileExport(summary.id);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  link.download = `${summary.id}.json`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// --- boot files -------------------------------------------------------------------------------------------------

export const inspectComponent = (file: string) => api.componentInspect(file);
/** Stores a plain Dom0 kernel Image gzip'd beside it (Xen decompresses it). */
export const gzipKernel = (file: string) => api.componentGzip(file);
export const previewBoot = async (draft: Profile) => api.bootPreview(draftForHost(draft, 'The review'));
export const exportBootFiles = async (draft: Profile, folder: string) => api.bootExport(draftForHost(draft, 'Exporting'), folder.trim());

// --- drives and writing -----------------------------------------------------------------------------------------

export const listDrives = (query: { all: boolean; sourcePath?: string }) => api.drivesList(query);
export const cancelWrite = (jobId: string) => api.flashCancel(jobId);

/** The flash request for a confirmed write: the ready-made image, the base image, or (neither) a fresh card. */
export function flashRequestFor(state: WizardState, target: TargetChoice): FlashStartRequest {
  const source = sourceOf(state);
  const common = {
    ...(source && { source }),
    verify: target.verify,
    eject: target.eject,
    ...(state.path === 'image' && state.readyImage.sha256 && { sha256: state.readyImage.sha256 }),
    ...(state.path === 'xen' && { profile: draftForHost(state.draft, 'Writing') }),
  };
  if (target.kind === 'file') return { ...common, targets: [], saveAs: target.file.trim() };
  return {
    ...common,
    targets: target.devices.map((device) => ({ kind: 'drive' as const, device })),
    ...(target.systemDriveName.trim() && { systemDriveName: target.systemDriveName.trim() }),
    ...(target.confirmLargeDrive && { confirmLargeDrive: true }),
  };
}

/** Starts a write; `overwrite` once the user agreed to replace an image file that exists (the service answers EXISTS first). */
export const startFlash = async (state: WizardState, target: TargetChoice, overwrite = false) =>
  api.flashStart({ ...flashRequestFor(state, target), ...(overwrite && { overwrite }) });

// --- TFTP server ----------------------------------------------------------------------------------------------

export const localAddresses = () => api.localAddresses();
export const tftpStatus = () => api.tftpStatus();
export const startTftpServer = async (draft: Profile, address: string) =>
  api.tftpStart({ profile: draftForHost(draft, 'Serving'), address, port: 69 });
export const stopTftpServer = () => api.tftpStop();

// --- choosing files -------------------------------------------------------------------------------------------

export { droppedFilePath, hasNativeDialogs };
/** The native open/save dialog (desktop app only); null when the user cancels. */
export const pickWithNativeDialog = (request: PickRequest) => api.filesPick(request);
/** A host folder's entries for the page's own file browser (browser mode). */
export const listHostFolder = (folder?: string) => api.filesList(folder);

// --- trial on an emulator, and Debian's parts -----------------------------------------------------------------

export const tryOnEmulator = async (draft: Profile, options: Parameters<typeof api.emulatorTry>[1]) =>
  api.emulatorTry(draftForHost(draft, 'The trial'), options);
export const stopEmulator = () => api.emulatorCancel();
export const fetchDebianParts = (request: Parameters<typeof api.partsFetch>[0]) => api.partsFetch(request);
export const cancelDebianParts = () => api.partsCancel();
export const xenVersionsInDebian = () => api.partsXenVersions();

// --- serial console -------------------------------------------------------------------------------------------

export const listSerialPorts = () => api.serialPorts();
/** Opens a port at a baud rate, 8N1; bytes then arrive as serial:data events. */
export const openSerialPort = (path: string, baud: number) => api.serialOpen({ path: path.trim(), baud });
export const typeOnSerial = (sessionId: number, text: string) => api.serialWrite(sessionId, text);
export const closeSerialPort = (sessionId: number) => api.serialClose(sessionId);
/** The consoles the host holds open (a page loaded again finds its own). */
export const openSerialSessions = () => api.serialSessions();
export const serialTimeline = (sessionId: number) => api.serialTimeline(sessionId);
export const saveSerialLog = (sessionId: number) => api.serialSaveLog(sessionId);
