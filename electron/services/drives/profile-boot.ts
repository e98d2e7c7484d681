// From a profile to the boot partition edit: generated scripts, component copies, and the config.txt rules.
import fs from 'node:fs';
import path from 'node:path';
import { boards } from '../../../shared/boards';
import { configTxtWantedFor } from '../../../shared/boot/config-txt';
import { ImagerError } from '../../../shared/errors';
import { PI4_FIRMWARE_FILES } from '../../../shared/profile/check';
import type { Profile } from '../../../shared/profile/schema';
import { generateProfileBootFiles, resolveComponent } from '../boot-files/service';
import type { BootEdit, BootFileInput } from '../fat/boot-edit';
import { PROFILE_FILE, profileCodec, readProfileText } from '../profiles/service';

/** Reads and checks a profile file (migrating old versions). */
export function loadProfileFile(file: string): Profile {
  const text = readProfileText(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ImagerError({ code: 'INVALID_PROFILE', subject: file, message: `${file} is not a profile: it is not valid JSON (${(error as Error).message}).`, hint: PROFILE_FILE.hint });
  }
  return profileCodec.decode(json, file).profile;
}

/** Everything a profile puts on the card's boot partition; throws INVALID_PROFILE listing the problems. */
export function bootEditForProfile(profile: Profile, componentsDir: string, env: NodeJS.ProcessEnv = process.env): BootEdit {
  const { generated } = generateProfileBootFiles(profile, componentsDir, env);
  const files: BootFileInput[] = [
    // config.txt is merged into the card's own, not replaced.
    ...generated.files.filter((f) => f.destination === 'boot-partition' && f.name !== 'config.txt').map((f) => ({ name: f.name, bytes: f.bytes })),
    ...generated.components.filter((c) => c.destination === 'boot-partition').map((c) => ({ name: c.target, path: resolveComponent(componentsDir, c.source) })),
  ];
  const usesConfigTxt = boards[profile.board].usesConfigTxt && profile.output.writeConfigTxt;
  // on a base image the Pi's own firmware starts U-Boot (a fresh card gets the profile's firmware instead)
  const requiredFiles = boards[profile.board].usesConfigTxt ? PI4_FIRMWARE_FILES : undefined;
  return { ...(usesConfigTxt && { configTxt: configTxtWantedFor(profile) }), files, ...(requiredFiles && { requiredFiles }) };
}

/** Every regular file of a folder (recursively), as boot files named by their relative path. */
export function bootFilesFromFolder(folder: string): BootFileInput[] {
  const out: BootFileInput[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push({ name: path.relative(folder, full).split(path.sep).join('/'), path: full });
    }
  };
  walk(folder);
  return out;
}
