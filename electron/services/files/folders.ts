// Host folders for the page's file browser (browser mode has no native dialog): one folder's entries, confined to
// named places — the home folder, the components folder, the temporary folder and removable media — with symlinks
// followed only where they stay inside one, and at most MAX_ENTRIES names per listing.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowsePlace, FolderEntry, FolderListing } from '../../../shared/api/files';
import { ImagerError } from '../../../shared/errors';
import { cleanTypedPath } from '../../../shared/text/typed-path';

/** More names than this in one folder are cut (folders first, by name): a page need not carry a whole /usr/lib. */
export const MAX_ENTRIES = 2000;
/** Names looked at in one folder at the most (each costs a stat): beyond it a listing says it was cut. */
const MAX_SCANNED = 4 * MAX_ENTRIES;

/** The places the browser may show: each an existing folder, by its real path. */
export async function browsePlaces(componentsDir: string, home = os.homedir()): Promise<BrowsePlace[]> {
  const candidates: BrowsePlace[] = [
    { label: 'Home', path: home },
    { label: 'Components folder', path: componentsDir },
    { label: 'Temporary files', path: os.tmpdir() },
    { label: 'Removable media', path: '/media' },
    { label: 'Removable media', path: '/run/media' },
    { label: 'Mounted drives', path: '/mnt' },
  ];
  const places: BrowsePlace[] = [];
  for (const place of candidates) {
    const real = await fs.realpath(place.path).catch(() => undefined);
    if (
      !real ||
      !(await fs.stat(real).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      continue;
    if (places.some((p) => p.path === real)) continue;
    places.push({ label: place.label, path: real });
  }
  return places;
}

function isInside(file: string, folder: string): boolean {
  const relative = path.relative(folder, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function outside(requested: string, places: BrowsePlace[]): ImagerError {
  return new ImagerError({
    code: 'PERMISSION_DENIED',
    subject: requested,
    message: `The file browser does not show ${requested}: it shows only ${places.map((p) => p.path).join(', ')} and what lies inside them.`,
    hint: 'Choose a file inside one of those folders, or type its full path into the field.',
  });
}

/** Lists one folder inside the places; no path: the first place (home). Refuses anything that resolves outside them. */
export async function listFolder(requested: string | undefined, places: BrowsePlace[], home = os.homedir()): Promise<FolderListing> {
  const first = places[0];
  if (!first)
    throw new ImagerError({
      code: 'NOT_AVAILABLE',
      message: 'There is no folder the file browser can show.',
      hint: 'Type the file’s full path into the field.',
    });
  const typed = requested === undefined || requested.trim() === '' ? first.path : cleanTypedPath(requested, home);
  if (typed.includes('\0')) throw outside(JSON.stringify(typed), places);
  const absolute = path.resolve(home, typed);
  const real = await fs.realpath(absolute).catch((error: NodeJS.ErrnoException) => {
    throw new ImagerError({
      code: error.code === 'ENOENT' ? 'NOT_FOUND' : 'PERMISSION_DENIED',
      subject: absolute,
      message: error.code === 'ENOENT' ? `There is no folder ${absolute}.` : `${absolute} cannot be read (${error.code ?? error.message}).`,
      hint: 'Choose a folder from the places on the left.',
    });
  });
  const within = (file: string) => places.some((place) => isInside(file, place.path));
  if (!within(real)) throw outside(absolute, places);
  const info = await fs.stat(real);
  if (!info.isDirectory()) {
    throw new ImagerError({
      code: 'NOT_A_FOLDER',
      subject: absolute,
      message: `${absolute} is a file, not a folder.`,
      hint: 'Choose the folder that holds it.',
    });
  }
  const dirents = await fs.readdir(real, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new ImagerError({
      code: 'PERMISSION_DENIED',
      subject: real,
      message: `${real} cannot be read (${error.code ?? error.message}).`,
      hint: 'Choose another folder.',
    });
  });
  // hidden files stay hidden, as in a desktop file dialog; a huge folder is described only as far as a listing goes
  const shown = dirents.filter((dirent) => !dirent.name.startsWith('.')).slice(0, MAX_SCANNED);
  const described = await Promise.all(shown.map((dirent) => describeEntry(path.join(real, dirent.name), dirent.name, within)));
  const entries = described.filter((entry): entry is FolderEntry => entry !== undefined);
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'folder' ? -1 : 1));
  const parent = path.dirname(real);
  return {
    path: real,
    ...(parent !== real && within(parent) && { parent }),
    entries: entries.slice(0, MAX_ENTRIES),
    truncated: entries.length > MAX_ENTRIES || dirents.length > MAX_SCANNED,
    places,
  };
}

/** A folder or a regular file the user may read, after following a symlink that stays inside the places; else nothing. */
async function describeEntry(entryPath: string, name: string, within: (file: string) => boolean): Promise<FolderEntry | undefined> {
  const real = await fs.realpath(entryPath).catch(() => undefined);
  if (!real || !within(real)) return undefined;
  const info = await fs.stat(real).catch(() => undefined);
  if (!info || !(info.isDirectory() || info.isFile())) return undefined; // devices, sockets and FIFOs are no component
  const readable = await fs.access(real, fs.constants.R_OK).then(
    () => true,
    () => false,
  );
  if (!readable) return undefined;
  return info.isDirectory() ? { name, path: entryPath, kind: 'folder' } : { name, path: entryPath, kind: 'file', size: info.size };
}
