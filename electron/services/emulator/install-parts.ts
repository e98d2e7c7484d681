// Puts a whole Raspberry Pi 4 card's parts into a folder with a profile that names them (package, version, SHA-256),
// and makes sure a QEMU with raspi4b is at hand to try it: the one door for `fetch-parts --board rpi4` and the app.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { defaultProfile } from '../../../shared/profile/defaults';
import type { Profile } from '../../../shared/profile/schema';
import { writeFileAtomic } from '../../node/atomic-file';
import { gunzipKernelFile, type KernelFormat } from '../boot-files/gzip-kernel';
import { partsCacheRoot } from './debian-parts';
import { fetchBackportsQemu, findRaspi4bQemu, type QemuFound } from './qemu-raspi4b';
import { fetchRpi4Parts, type Rpi4Parts } from './rpi4-parts';

export const RPI4_PROFILE_FILE = 'rpi4.json';

export interface InstallRpi4Options {
  /** Where the parts and rpi4.json go (the app: its components folder). */
  out: string;
  xenVersion: string;
  /** The Dom0 kernel gzip'd (the default, as Debian's parts are cached) or as the plain Image. */
  kernel?: KernelFormat;
  refresh?: boolean;
  /** Also fetch QEMU with raspi4b from Debian's backports when this machine has none (default true). */
  qemu?: boolean;
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface InstalledRpi4 {
  dir: string;
  profileFile: string;
  profile: Profile;
  parts: Rpi4Parts;
  /** Absolute paths written, by the path the profile uses. */
  files: Record<string, string>;
  /** The QEMU a trial will use, or why there is none. */
  qemu: { found?: QemuFound; note: string };
}

/** The profile for a fetched set: SD-only (everything on a fresh card), Dom0 sized to fit every Pi 4 and the emulator. */
export function rpi4ProfileFor(parts: Rpi4Parts): Profile {
  const profile = defaultProfile('rpi4');
  const file = (role: string) => parts.parts.find((p) => p.role === role)!.file;
  profile.name = `Xen ${parts.xenVersion} on Raspberry Pi 4 (Debian)`;
  profile.xen.version = parts.xenVersion;
  profile.xen.binary = file('xen');
  profile.boot.mode = 'sd';
  delete profile.boot.network;
  // 512 MB fits a 1 GB Pi 4 (960 MiB declared) and the emulated one; raise it in the wizard for a bigger board
  profile.dom0 = { ...profile.dom0!, kernel: file('dom0-kernel'), ramdisk: file('dom0-ramdisk'), memoryMb: 512 };
  profile.deviceTree = file('device-tree');
  profile.ubootBinary = file('u-boot');
  profile.firmware = parts.parts.filter((p) => p.role === 'firmware' || p.role === 'firmware-tree').map((p) => p.file);
  profile.provenance = Object.fromEntries(parts.parts.map((p) => [p.file, { package: p.package, version: p.version, sha256: p.sha256 }]));
  return profile;
}

/** Swaps the gzip'd Dom0 kernel for the plain Image beside it, provenance included (same package, the Image's own SHA-256). */
async function useKernelImage(profile: Profile, out: string, files: Record<string, string>): Promise<void> {
  const gzipped = profile.dom0!.kernel;
  const image = gzipped.replace(/\.gz$/, '');
  const target = path.join(out, image);
  await gunzipKernelFile(path.join(out, gzipped), target);
  const origin = profile.provenance?.[gzipped];
  if (origin) {
    const sha256 = createHash('sha256').update(fs.readFileSync(target)).digest('hex');
    profile.provenance![image] = { ...origin, sha256 };
    delete profile.provenance![gzipped];
  }
  profile.dom0!.kernel = image;
  files[image] = target;
}

export async function installRpi4Parts(options: InstallRpi4Options): Promise<InstalledRpi4> {
  const progress = options.onProgress ?? (() => {});
  const cacheDir = options.cacheDir ?? partsCacheRoot(options.env);
  const parts = await fetchRpi4Parts({
    xenVersion: options.xenVersion,
    cacheDir,
    ...(options.refresh && { refresh: true }),
    ...(options.signal && { signal: options.signal }),
    onProgress: progress,
    ...(options.env && { env: options.env }),
  });
  fs.mkdirSync(options.out, { recursive: true });
  const files: Record<string, string> = {};
  for (const part of parts.parts) {
    const target = path.join(options.out, part.file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(parts.dir, part.file), target);
    files[part.file] = target;
  }
  const profile = rpi4ProfileFor(parts);
  if (options.kernel === 'image') await useKernelImage(profile, options.out, files);
  const profileFile = path.join(options.out, RPI4_PROFILE_FILE);
  const text = JSON.stringify(profile, null, 2) + '\n';
  // a profile the user edited is kept beside the new one, never lost
  if (fs.existsSync(profileFile) && fs.readFileSync(profileFile, 'utf8') !== text) fs.copyFileSync(profileFile, `${profileFile}.bak`);
  await writeFileAtomic(profileFile, text);
  let qemu = await findRaspi4bQemu(options.env ?? process.env, cacheDir).then((r) => ({
    ...(r.found && { found: r.found }),
    note: r.found ? `QEMU ${r.found.version} with raspi4b (${r.found.origin}): ${r.found.qemu}` : r.why,
  }));
  if (!qemu.found && options.qemu !== false) {
    try {
      const found = await fetchBackportsQemu({
        cacheDir,
        ...(options.signal && { signal: options.signal }),
        onProgress: progress,
        ...(options.env && { env: options.env }),
      });
      qemu = { found, note: `QEMU ${found.version} with raspi4b (${found.origin}): ${found.qemu}` };
    } catch (error) {
      qemu = { note: `${qemu.note} Fetching one from Debian’s backports failed: ${(error as Error).message}` };
    }
  }
  return { dir: options.out, profileFile, profile, parts, files, qemu };
}
