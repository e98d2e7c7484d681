// Choosing files: the native dialog (Electron) and, for browser mode, a listing of host folders the page can browse.
import { z } from 'zod';
import { method } from './contract';

export const pickRequestSchema = z.object({
  /** A file to read, a folder, or a file to create (the save dialog). */
  want: z.enum(['file', 'folder', 'new-file']),
  title: z.string().max(200),
  /** File name endings offered first, without the dot ("img", "img.xz"). */
  extensions: z
    .array(z.string().regex(/^[A-Za-z0-9.]{1,16}$/))
    .max(20)
    .optional(),
  /** Where the dialog opens: the field's current value, when it names something. */
  start: z.string().max(4096).optional(),
});

export type PickRequest = z.input<typeof pickRequestSchema>;

export interface FolderEntry {
  name: string;
  /** The entry's full path, to put in a field or to list next. */
  path: string;
  kind: 'file' | 'folder';
  /** Files only. */
  size?: number;
}

/** A folder the file browser may show, by name: the home folder, the components folder, removable media... */
export interface BrowsePlace {
  label: string;
  path: string;
}

export interface FolderListing {
  path: string;
  /** The folder above, when the browser may show it. */
  parent?: string;
  entries: FolderEntry[];
  /** More entries than a listing carries: the first ones (folders first, by name) were kept. */
  truncated: boolean;
  places: BrowsePlace[];
}

export const filesMethods = {
  /** Electron's native open/save dialog; null when the user cancels. Browser mode has none (the page browses with filesList). */
  filesPick: method(z.tuple([pickRequestSchema])).returns<string | null>(),
  /** One host folder's folders and files, confined to the places listed with it; no path: the home folder. */
  filesList: method(z.tuple([z.string().max(4096).optional()])).returns<FolderListing>(),
};
