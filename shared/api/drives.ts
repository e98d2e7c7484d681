// Drives and writing: list drives with their safety statuses, compose and flash a card, save the image, edit a card in place.
import { z } from 'zod';
import type { DriveStatus } from '../drives/safety';
import type { FlashProgress, FlashResult } from '../drives/flash';
import type { DriveInfo } from '../drives/types';
import type { ImagerErrorData } from '../errors';
import { profileSchema } from '../profile/schema';
import { event, method } from './contract';

export interface DriveRow extends DriveInfo {
  /** Statuses for the current image (severity, reason, what unlocks it), most severe first. */
  statuses: DriveStatus[];
  /** Hidden unless "show all" (system drives). */
  hiddenByDefault: boolean;
}

const devicePath = z.string().min(1).max(4096);

const bootFile = z.object({
  name: z.string().min(1).max(255),
  /** A local file to copy into the boot partition. */
  path: z.string().min(1).max(4096),
});

const flashTarget = z.union([
  z.object({ kind: z.literal('drive'), device: devicePath }),
  z.object({ kind: z.literal('file'), path: devicePath }),
]);

export const flashStartSchema = z
  .object({
    /** A local .img/.img.xz/.img.gz/.zip, or an http(s) URL; absent or empty: the profile's baseImage, and without one a fresh card. */
    source: z.string().max(8192).optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/)
      .optional(),
    /** Cards and image files; may be empty when the image is only saved (`saveAs`). */
    targets: z.array(flashTarget).max(16),
    /** The whole recipe: the boot partition gets its config.txt rules, U-Boot, scripts and (SD-only) components. */
    profile: profileSchema.optional(),
    /** Extra boot files (on top of the profile's; same name wins) and the config.txt console when there is no profile. */
    compose: z.object({ consoleUart: z.enum(['mini', 'pl011']), bootFiles: z.array(bootFile).max(512) }).optional(),
    /** Only update the boot partition of cards that already hold Raspberry Pi OS, then read the files back and compare. */
    editInPlace: z.boolean().default(false),
    verify: z.boolean().default(true),
    eject: z.boolean().default(false),
    /** Write only what the partition table and file systems use (faster; free space keeps old bytes). */
    onlyUsed: z.boolean().default(true),
    systemDriveName: z.string().max(256).optional(),
    confirmLargeDrive: z.boolean().optional(),
    /** Also keep the composed image here (.img or .img.xz); its folder must exist. */
    saveAs: z.string().max(4096).optional(),
    /** Replace image files that exist (without it, flashStart refuses with EXISTS naming the file, so the UI can ask). */
    overwrite: z.boolean().default(false),
  })
  .refine((r) => r.targets.length > 0 || (r.saveAs && !r.editInPlace), {
    message: 'Choose at least one card or image file to write, or a file to save the image as.',
    path: ['targets'],
  })
  .refine((r) => r.editInPlace || r.source || r.profile || r.compose, {
    message: 'Choose a base image, or a profile for a fresh card.',
    path: ['source'],
  })
  .refine((r) => !r.editInPlace || r.profile || r.compose, {
    message: 'Editing in place needs a profile or boot files.',
    path: ['editInPlace'],
  });

export type FlashStartRequest = z.input<typeof flashStartSchema>;

/** One card (or image file) whose boot partition was edited in place. */
export interface EditedTarget {
  target: string;
  ok: boolean;
  /** Files written (config.txt included when it changed); all read back identical. */
  written: string[];
  /** config.txt before → after on this card (each card had its own). */
  configTxtDiff?: string;
  error?: ImagerErrorData;
}

export interface FlashDone {
  jobId: string;
  ok: boolean;
  result?: FlashResult;
  /** Edit in place: each target's outcome (no `result` then). */
  edited?: EditedTarget[];
  error?: ImagerErrorData;
  /** config.txt before → after, for the summary screen. */
  configTxtDiff?: string;
  sourceSha256?: string;
  /** Files put on the boot partition (config.txt merged, U-Boot, scripts...). */
  bootFiles?: string[];
  /** Files the base image already had that the profile's replaced (its device tree, in SD-only mode). */
  replacedFiles?: string[];
  /** Size of the composed image. */
  imageBytes?: number;
  /** The card was built from nothing (no base image): the size of its image, in MiB. */
  freshCardMiB?: number;
  /** Where the composed image was saved, when asked. */
  savedAs?: string;
  /** The saved image file was read back and matched the image (false: not verified, as asked). */
  savedVerified?: boolean;
}

export const drivesMethods = {
  /** Drives with statuses; `all` includes system drives. `imageSize` and `sourcePath` sharpen the statuses. */
  drivesList: method(
    z.tuple([
      z
        .object({
          all: z.boolean().optional(),
          imageSize: z.number().int().nonnegative().optional(),
          sourcePath: z.string().max(4096).optional(),
        })
        .optional(),
    ]),
  ).returns<DriveRow[]>(),
  /** Starts a flash job (or, with `editInPlace`, a boot-partition edit); progress arrives as flash:progress, the end as flash:done. */
  flashStart: method(z.tuple([flashStartSchema])).returns<{ jobId: string }>(),
  flashCancel: method(z.tuple([z.string().max(100)])).returns<{ cancelled: boolean }>(),
};

export const drivesEvents = {
  'drives:changed': event<{ drives: DriveRow[]; attached: string[]; detached: string[] }>(),
  'flash:progress': event<FlashProgress>(),
  'flash:done': event<FlashDone>(),
};
