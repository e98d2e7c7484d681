// Finds a QEMU that has the raspi4b machine (QEMU ≥ 9.0), or fetches one from Debian's backports into the cache:
// unpacked, never installed, so the system's own QEMU stays as it is.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ImagerError } from '../../../shared/errors';
import { QEMU_BINARY } from '../../../shared/emulator/machine';
import { findExecutable } from '../../node/host-tools';
import { extractDeb } from './deb-archive';
import { partsCacheRoot, privateApt, withCacheLock } from './debian-parts';
import { hasRaspi4b, qemuVersion } from './raspi4b';

const QEMU_PACKAGES = ['qemu-system-arm', 'qemu-system-common', 'qemu-system-data'];

export interface QemuFound {
  qemu: string;
  /** "10.0.2" */
  version: string;
  /** Where it came from, in words (the system's, the app's cache, XEN_PI_IMAGER_QEMU_RASPI4B). */
  origin: string;
}

/** Debian's name for this machine's architecture (QEMU runs natively here, unlike the arm64 parts). */
function hostArch(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: 'i386', ppc64: 'ppc64el', s390x: 's390x', riscv64: 'riscv64' };
  return map[process.arch] ?? process.arch;
}

export function cachedQemuPath(cacheDir: string): string {
  return path.join(cacheDir, 'qemu-backports', 'root', 'usr', 'bin', QEMU_BINARY);
}

/** The version QEMU reports and whether it lists raspi4b; undefined when it does not run. */
export async function probeQemu(qemu: string): Promise<{ version: string; raspi4b: boolean } | undefined> {
  try {
    const [version, raspi4b] = await Promise.all([qemuVersion(qemu), hasRaspi4b(qemu)]);
    return { version: `${version.major}.${version.minor}.${version.micro}`, raspi4b };
  } catch {
    return undefined;
  }
}

/**
 * The first QEMU with raspi4b among: XEN_PI_IMAGER_QEMU_RASPI4B, XEN_PI_IMAGER_QEMU, the system's, the app's cache.
 * Otherwise `found` is undefined and `why` says what there is (the system's QEMU version, or none).
 */
export async function findRaspi4bQemu(
  env: NodeJS.ProcessEnv = process.env,
  cacheDir = partsCacheRoot(env),
): Promise<{ found?: QemuFound; why: string }> {
  const candidates: Array<[string | undefined, string]> = [
    [env.XEN_PI_IMAGER_QEMU_RASPI4B, 'XEN_PI_IMAGER_QEMU_RASPI4B'],
    [env.XEN_PI_IMAGER_QEMU, 'XEN_PI_IMAGER_QEMU'],
    [findExecutable(QEMU_BINARY, env.PATH ?? ''), 'this machine'],
    [cachedQemuPath(cacheDir), 'Debian’s backports, in the app’s cache'],
  ];
  const seen: string[] = [];
  for (const [qemu, origin] of candidates) {
    if (!qemu || !fs.existsSync(qemu)) continue;
    const probe = await probeQemu(qemu);
    if (probe?.raspi4b) return { found: { qemu, version: probe.version, origin }, why: '' };
    seen.push(probe ? `QEMU ${probe.version} (${origin}) has no raspi4b machine` : `${qemu} does not run`);
  }
  return {
    why: seen.length
      ? `${seen.join('; ')}: the emulated Raspberry Pi 4 needs QEMU 9.0 or newer.`
      : 'QEMU is not installed: the emulated Raspberry Pi 4 needs QEMU 9.0 or newer.',
  };
}

/** Downloads QEMU from <release>-backports into the cache and unpacks it (nothing is installed). */
export async function fetchBackportsQemu(
  options: { cacheDir?: string; signal?: AbortSignal; onProgress?: (message: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<QemuFound> {
  const cacheDir = options.cacheDir ?? partsCacheRoot(options.env);
  const progress = options.onProgress ?? (() => {});
  const root = path.join(cacheDir, 'qemu-backports');
  return withCacheLock(root, async () => {
    const apt = privateApt(root, options.signal, { arch: hostArch(), backports: true });
    progress('Reading Debian’s package lists, backports included, for a QEMU with the raspi4b machine');
    await apt.update();
    const rows = await apt.madison(['qemu-system-arm']);
    const newest = rows.find((row) => row.suite.endsWith('-backports') && Number(/^(?:\d+:)?(\d+)/.exec(row.version)?.[1] ?? 0) >= 9);
    const system = rows.find((row) => !row.suite.endsWith('-backports') && Number(/^(?:\d+:)?(\d+)/.exec(row.version)?.[1] ?? 0) >= 9);
    const pick = system ?? newest;
    if (!pick) {
      throw new ImagerError({
        code: 'NOT_FOUND',
        subject: 'qemu-system-arm',
        message: `Debian’s archive offers no QEMU 9.0 or newer for this machine (${rows.map((r) => `${r.version} in ${r.suite}`).join(', ') || 'none at all'}).`,
        hint: 'Install QEMU 9.0 or newer yourself and set XEN_PI_IMAGER_QEMU_RASPI4B to its qemu-system-aarch64.',
      });
    }
    progress(`Downloading ${QEMU_PACKAGES.join(', ')} ${pick.version} (${pick.suite})`);
    const debs = await apt.download(QEMU_PACKAGES.map((name) => ({ name, version: pick.version })));
    const staging = path.join(root, `root.partial-${process.pid}`);
    await fsp.rm(staging, { recursive: true, force: true });
    for (const deb of debs) {
      progress(`Unpacking ${path.basename(deb.file)}`);
      await extractDeb(deb.file, staging);
    }
    const final = path.join(root, 'root');
    await fsp.rm(final, { recursive: true, force: true });
    await fsp.rename(staging, final);
    const qemu = cachedQemuPath(cacheDir);
    const probe = await probeQemu(qemu);
    if (!probe?.raspi4b) {
      throw new ImagerError({
        code: 'EMULATOR_FAILED',
        subject: qemu,
        message: `QEMU ${pick.version} from ${pick.suite} was unpacked but ${probe ? 'lists no raspi4b machine' : 'does not run on this machine'}.`,
        hint: 'Install QEMU 9.0 or newer from your distribution and set XEN_PI_IMAGER_QEMU_RASPI4B to its qemu-system-aarch64.',
      });
    }
    progress(`QEMU ${probe.version} with raspi4b ready: ${qemu}`);
    return { qemu, version: probe.version, origin: `Debian’s ${pick.suite}, in the app’s cache` };
  });
}
