// "Get everything from Debian": the Xen versions the archive offers, and every part of a Pi 4 card fetched into the
// app's components folder with a profile that names them.
import { z } from 'zod';
import type { Profile } from '../profile/schema';
import { event, method } from './contract';

export interface XenVersionOffer {
  /** major.minor, as in xen-hypervisor-<ver>-arm64. */
  version: string;
  package: string;
  packageVersion: string;
  /** The suites that carry it (bookworm, bookworm-security, bookworm-backports...). */
  suites: string[];
}

export interface PartsFile {
  role: string;
  /** Relative to the components folder, as the profile names it. */
  file: string;
  package: string;
  version: string;
  sha256: string;
  size: number;
}

export interface PartsFetchResult {
  /** The profile naming the parts (relative paths: the components folder), ready for the wizard. */
  profile: Profile;
  files: PartsFile[];
  /** The folder they were put in. */
  dir: string;
  /** The QEMU a trial on the emulated Pi 4 will use, or why there is none. */
  qemuNote: string;
}

export interface PartsProgressEvent {
  jobId: number;
  /** One step, in words ("Downloading u-boot-rpi, raspi-firmware…"). */
  message: string;
}

export const partsFetchSchema = z.object({
  board: z.literal('rpi4'),
  xenVersion: z.string().regex(/^\d+\.\d+$/, { message: 'Expected a Xen version such as 4.17.' }),
  /** Ask Debian again even when a cached set exists. */
  refresh: z.boolean().optional(),
});

export const partsMethods = {
  /** The arm64 Xen versions Debian's archive has (reads the package lists: needs the network). */
  partsXenVersions: method(z.tuple([])).returns<XenVersionOffer[]>(),
  /** Fetches and unpacks every part of a Pi 4 card into the components folder; resolves when done. */
  partsFetch: method(z.tuple([partsFetchSchema])).returns<PartsFetchResult>(),
  /** Stops a running fetch; its partsFetch rejects with CANCELLED. */
  partsCancel: method(z.tuple([])).returns<boolean>(),
};

export const partsEvents = {
  'parts:progress': event<PartsProgressEvent>(),
};
