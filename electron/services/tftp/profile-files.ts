// What a profile serves over TFTP: its generated stage 2 in memory, and its components (Xen, kernels, device tree) from disk.
import { ImagerError } from '../../../shared/errors';
import type { Profile } from '../../../shared/profile/schema';
import { generateProfileBootFiles, resolveComponent } from '../boot-files/service';

export interface ProfileTftpFiles {
  /** Generated files (boot2.scr and its source), by the name the scripts fetch them. */
  files: Map<string, Uint8Array>;
  /** Components, by the name the scripts fetch them → the file on disk. */
  diskFiles: Map<string, string>;
  warnings: string[];
}

/**
 * Generates a TFTP-mode profile's boot files; throws INVALID_PROFILE (with every problem) or NOTHING_TO_SERVE.
 * `componentsDir` resolves the profile's relative paths: the app's components folder for a profile from the
 * wizard, the profile file's own folder for a profile file (as `generate` and `try` read it).
 */
export function tftpFilesForProfile(profile: Profile, componentsDir: string, env: NodeJS.ProcessEnv = process.env): ProfileTftpFiles {
  if (profile.boot.mode !== 'tftp') {
    throw new ImagerError({
      code: 'NOTHING_TO_SERVE',
      subject: profile.name,
      message: `The profile "${profile.name}" boots from the SD card (boot mode "${profile.boot.mode}"), so it has nothing to serve over TFTP.`,
      hint: 'Switch the profile’s boot mode to TFTP, or serve a folder with --root DIR.',
    });
  }
  const { generated, warnings } = generateProfileBootFiles(profile, componentsDir, env);
  const files = new Map(generated.files.filter((file) => file.destination === 'tftp-root').map((file) => [file.name, file.bytes] as const));
  const diskFiles = new Map(
    generated.components.filter((copy) => copy.destination === 'tftp-root').map((copy) => [copy.target, resolveComponent(componentsDir, copy.source)] as const),
  );
  return { files, diskFiles, warnings };
}
