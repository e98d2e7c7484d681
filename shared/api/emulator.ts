// "Try it in QEMU" as the UI sees it: boot a profile on the emulator, stream its console and milestones, get a verdict.
import { z } from 'zod';
import type { TimelineEntry } from '../console/timeline';
import type { Diagnosis, Dom0Report, Milestone } from '../emulator/milestones';
import { profileSchema } from '../profile/schema';
import { event, method } from './contract';

export type { Diagnosis, Dom0Report, Milestone, MilestoneKind, FailureKind } from '../emulator/milestones';

export const emulatorOptionsSchema = z.object({
  /** Overall limit in seconds; a boot takes 10-30 s. Default 120. */
  timeoutSeconds: z.number().int().min(5).max(3600).optional(),
  /**
   * Where Xen, the Dom0 kernel and its ramdisk come from: the profile's own files, or Debian's
   * arm64 packages (downloaded once and cached) with the imager's test initramfs.
   */
  components: z.enum(['profile', 'debian']).optional(),
  /** With components 'debian': Debian's Dom0 kernel gzip'd (default; Xen decompresses it) or as the plain Image. */
  kernel: z.enum(['gzip', 'image']).optional(),
  /** With components 'debian': the Xen version to fetch (default: the profile's). */
  xenVersion: z
    .string()
    .regex(/^\d+\.\d+$/)
    .optional(),
  /**
   * 'start' runs the imager's own TFTP server on port 69 for the trial; 'external' expects one
   * already listening there (the TFTP step's server, or another) and starts none.
   */
  tftp: z.enum(['start', 'external']).optional(),
  /**
   * The emulated board: 'auto' (default) boots a Raspberry Pi 4 profile on QEMU's raspi4b when this machine's
   * QEMU has it (9.0 or newer) and on virt otherwise; 'raspi4b' insists; 'virt' retargets any profile to virt.
   */
  machine: z.enum(['auto', 'raspi4b', 'virt']).optional(),
});

export type EmulatorOptions = z.infer<typeof emulatorOptionsSchema>;

export interface EmulatorResult {
  runId: number;
  /** True only when Dom0 userspace was reached and nothing failed. */
  ok: boolean;
  /** One sentence for the UI and the CLI. */
  summary: string;
  milestones: Milestone[];
  diagnosis?: Diagnosis;
  /** The "(XEN) Xen version ..." line. */
  xenVersionLine?: string;
  /** What the imager's test Dom0 reported (Xen version from /sys/hypervisor, /proc/xen/capabilities). */
  dom0: Dom0Report;
  /** What the trial changed in the profile to fit the emulator. */
  changes: string[];
  /** The machine that ran the boot: QEMU's raspi4b (the Pi 4 itself) or virt (the profile retargeted). */
  machine?: 'raspi4b' | 'virt';
  /** Files of the user's own that the trial did not boot (replaced by Debian's, or left out): shown beside the verdict. */
  substituted?: string[];
  durationMs: number;
  /** QEMU's exit status (null when it was stopped). */
  exitCode: number | null;
  /** The whole console output, saved under the app's logs folder. */
  consoleLogPath?: string;
}

export interface EmulatorConsoleEvent {
  runId: number;
  /** Console text as it arrived (may end mid-line). */
  text: string;
  timeMs: number;
}

export interface EmulatorMilestoneEvent {
  runId: number;
  milestone: Milestone;
}

/** The trial's boot timeline (the same one a serial console shows): milestones, its TFTP transfers, the failure. */
export interface EmulatorTimelineEvent {
  runId: number;
  entry: TimelineEntry;
}

export interface EmulatorProgressEvent {
  runId: number;
  /** A step before QEMU starts, in words ("Dumping the QEMU virt board's device tree"). */
  message: string;
}

export interface EmulatorStatus {
  available: boolean;
  /** Which packages to install when QEMU or its U-Boot is missing. */
  note: string;
  running: boolean;
  runId?: number;
}

export const emulatorMethods = {
  /** Boots the profile (or the profile file at a path) on QEMU; resolves when the trial ends. */
  emulatorTry: method(
    z.tuple([z.union([profileSchema, z.string().min(1).max(4096)]), emulatorOptionsSchema.optional()]),
  ).returns<EmulatorResult>(),
  /** Stops the running trial; its emulatorTry resolves with a "cancelled" diagnosis. */
  emulatorCancel: method(z.tuple([])).returns<boolean>(),
  emulatorStatus: method(z.tuple([])).returns<EmulatorStatus>(),
};

export const emulatorEvents = {
  'emulator:console': event<EmulatorConsoleEvent>(),
  'emulator:milestone': event<EmulatorMilestoneEvent>(),
  'emulator:progress': event<EmulatorProgressEvent>(),
  'emulator:timeline': event<EmulatorTimelineEvent>(),
  /** A trial ended: passed, failed, timed out or cancelled (problems before QEMU starts reject emulatorTry instead). */
  'emulator:done': event<EmulatorResult>(),
};
