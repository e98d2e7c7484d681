// Every part of a Raspberry Pi 4 card from Debian's packages: U-Boot, the firmware, Xen, a gzip'd Dom0 kernel, the
// upstream bcm2711 tree and a Dom0 initramfs with busybox, the Xen and GENET modules and Xen's toolstack (xl).
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImagerError } from '../../../shared/errors';
import { readDebFiles } from './deb-archive';
import { decompressModule, partsCacheRoot, privateApt, withCacheLock, type DownloadedDeb, type PackageVersion } from './debian-parts';
import { EM_AARCH64, libraryClosure, moduleDepends, readElfDynamic } from './elf';
import { buildBoardDom0Initramfs } from './initramfs';

/** The Xen modules Dom0 needs for the toolstack and backends, and the Pi 4's Ethernet (GENET, its MDIO bus and PHY). */
export const RPI4_DOM0_MODULES = [
  'xen-privcmd',
  'xenfs',
  'xen-evtchn',
  'xen-gntdev',
  'xen-gntalloc',
  'xen-netback',
  'xen-blkback',
  'genet',
  'mdio-bcm-unimac',
  'broadcom',
];
/** The toolstack programs: xl, and what `xl list` needs running first. */
const TOOLSTACK = ['xl', 'xenstored', 'xen-init-dom0'];
/** The Pi 4 firmware that starts U-Boot from a bare FAT partition (the Pi 4 boot loader itself is in its EEPROM). */
const FIRMWARE = ['start4.elf', 'fixup4.dat'];
const TREE = 'bcm2711-rpi-4-b.dtb';
const MANIFEST = 'manifest.json';

/** One file of the set: where it goes (relative to the parts folder), where it came from, and its hash. */
export interface Rpi4Part {
  role: 'u-boot' | 'firmware' | 'firmware-tree' | 'xen' | 'dom0-kernel' | 'dom0-ramdisk' | 'device-tree';
  /** Relative path inside the set (and in a profile written next to it). */
  file: string;
  package: string;
  version: string;
  sha256: string;
  size: number;
}

export interface Rpi4Parts {
  dir: string;
  xenVersion: string;
  kernelAbi: string;
  parts: Rpi4Part[];
  /** Every package used, the toolstack's libraries included. */
  packages: PackageVersion[];
}

export interface Rpi4PartsOptions {
  xenVersion: string;
  cacheDir?: string;
  refresh?: boolean;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface XenVersionOffer {
  /** major.minor, as in xen-hypervisor-<ver>-arm64. */
  version: string;
  package: string;
  packageVersion: string;
  /** The suites that carry it (bookworm, bookworm-backports...). */
  suites: string[];
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The Xen versions Debian's archive has for arm64, newest first, with the suites that carry each. */
export async function availableXenVersions(
  options: { cacheDir?: string; signal?: AbortSignal; env?: NodeJS.ProcessEnv } = {},
): Promise<XenVersionOffer[]> {
  const root = path.join(options.cacheDir ?? partsCacheRoot(options.env), 'debian-arm64');
  return withCacheLock(root, async () => {
    const apt = privateApt(root, options.signal, { backports: true });
    await apt.update();
    const names = await apt.search('^xen-hypervisor-[0-9]+\\.[0-9]+-arm64$');
    if (names.length === 0) return [];
    const rows = await apt.madison(names);
    const offers = new Map<string, XenVersionOffer>();
    for (const row of rows) {
      const version = /^xen-hypervisor-(\d+\.\d+)-arm64$/.exec(row.name)?.[1];
      if (!version) continue;
      const offer = offers.get(version) ?? { version, package: row.name, packageVersion: row.version, suites: [] };
      if (row.suite && !offer.suites.includes(row.suite)) offer.suites.push(row.suite);
      offers.set(version, offer);
    }
    return [...offers.values()].sort((a, b) => compareVersions(b.version, a.version));
  });
}

function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am! - bm! || an! - bn!;
}

/** The cached set for `xenVersion`, when complete. */
export async function cachedRpi4Parts(xenVersion: string, cacheDir: string): Promise<Rpi4Parts | undefined> {
  const dir = rpi4Dir(cacheDir, xenVersion);
  try {
    const manifest = JSON.parse(await fsp.readFile(path.join(dir, MANIFEST), 'utf8')) as Omit<Rpi4Parts, 'dir'>;
    for (const part of manifest.parts) await fsp.access(path.join(dir, part.file));
    return { dir, ...manifest };
  } catch {
    return undefined;
  }
}

function rpi4Dir(cacheDir: string, xenVersion: string): string {
  return path.join(cacheDir, 'debian-arm64', `rpi4-xen-${xenVersion}`);
}

/** Returns the cached set, or downloads Debian's packages (never installing them) and builds it. */
export async function fetchRpi4Parts(options: Rpi4PartsOptions): Promise<Rpi4Parts> {
  const cacheDir = options.cacheDir ?? partsCacheRoot(options.env);
  const progress = options.onProgress ?? (() => {});
  if (!options.refresh) {
    const cached = await cachedRpi4Parts(options.xenVersion, cacheDir);
    if (cached) {
      progress(`Using the cached Raspberry Pi 4 parts in ${cached.dir}`);
      return cached;
    }
  }
  return withCacheLock(path.join(cacheDir, 'debian-arm64'), async () => {
    const ready = options.refresh ? undefined : await cachedRpi4Parts(options.xenVersion, cacheDir);
    return ready ?? downloadAndBuild(cacheDir, options);
  });
}

function missing(what: string, deb: PackageVersion): never {
  throw new ImagerError({
    code: 'NOT_FOUND',
    subject: deb.name,
    message: `The package ${deb.name} ${deb.version} has no ${what}.`,
    hint: 'Debian may have reorganised the package; point the profile at your own files instead.',
  });
}

async function downloadAndBuild(cacheDir: string, options: Rpi4PartsOptions): Promise<Rpi4Parts> {
  const progress = options.onProgress ?? (() => {});
  const { xenVersion, signal } = options;
  const apt = privateApt(path.join(cacheDir, 'debian-arm64'), signal);
  progress('Reading Debian’s arm64 package lists (main and non-free-firmware)');
  await apt.update();
  const kernelPackage = await apt.kernelPackage();
  const kernelAbi = kernelPackage.replace(/^linux-image-/, '');
  const names = {
    uboot: 'u-boot-rpi',
    firmware: 'raspi-firmware',
    kernel: kernelPackage,
    xen: `xen-hypervisor-${xenVersion}-arm64`,
    utils: `xen-utils-${xenVersion}`,
    busybox: 'busybox-static',
  };
  progress(`Downloading ${Object.values(names).join(', ')}`);
  const debs = await apt.download(Object.values(names));
  const deb = (name: string) => debs.find((d) => d.name === name)!;
  if (signal?.aborted) throw cancelled();

  progress('Unpacking U-Boot, the firmware, Xen and the kernel');
  const ubootPath = 'usr/lib/u-boot/rpi_4/u-boot.bin';
  const uboot = (await readDebFiles(deb(names.uboot).file, (p) => p === ubootPath)).get(ubootPath) ?? missing(ubootPath, deb(names.uboot));
  const firmwareFiles = await readDebFiles(deb(names.firmware).file, (p) => FIRMWARE.some((f) => p === `usr/lib/raspi-firmware/${f}`));
  const xenPath = `boot/xen-${xenVersion}-arm64`;
  const xen = (await readDebFiles(deb(names.xen).file, (p) => p === xenPath)).get(xenPath) ?? missing(xenPath, deb(names.xen));
  const kernelPath = `boot/vmlinuz-${kernelAbi}`;
  const treePath = `usr/lib/linux-image-${kernelAbi}/broadcom/${TREE}`;
  const moduleRe = /^lib\/modules\/[^/]+\/kernel\/.+\.ko(\.xz|\.zst|\.gz)?$/;
  const kernelFiles = await readDebFiles(
    deb(names.kernel).file,
    (p) => p === kernelPath || p === treePath || moduleRe.test(p) || /^lib\/modules\/[^/]+\/modules\.builtin$/.test(p),
  );
  const kernel = kernelFiles.get(kernelPath) ?? missing(kernelPath, deb(names.kernel));
  const tree = kernelFiles.get(treePath) ?? missing(treePath, deb(names.kernel));
  if (signal?.aborted) throw cancelled();

  progress('Resolving the Dom0 modules and Xen’s toolstack with its libraries');
  const modules = await dom0Modules(kernelFiles, deb(names.kernel));
  const toolstack = await toolstackFiles(apt, deb(names.utils), xenVersion, progress, signal);
  const busyboxFiles = await readDebFiles(deb(names.busybox).file, (p) => /^(usr\/)?bin\/busybox$/.test(p));
  const busybox = [...busyboxFiles.values()][0] ?? missing('bin/busybox', deb(names.busybox));
  progress('Building the Dom0 initramfs and compressing the kernel');
  const initramfs = buildBoardDom0Initramfs({ busybox, modules, xenVersion, ...toolstack });
  // Xen decompresses a gzip'd Dom0 kernel itself: a third of the bytes to read from the card or over TFTP
  const kernelGz = new Uint8Array(gzipSync(kernel, { level: 9 }));

  const pv = (d: DownloadedDeb) => ({ package: d.name, version: d.version });
  const files: Array<{ part: Omit<Rpi4Part, 'sha256' | 'size'>; bytes: Uint8Array }> = [
    { part: { role: 'u-boot', file: 'u-boot.bin', ...pv(deb(names.uboot)) }, bytes: uboot },
    ...FIRMWARE.map((name) => ({
      part: { role: 'firmware' as const, file: `firmware/${name}`, ...pv(deb(names.firmware)) },
      bytes: firmwareFiles.get(`usr/lib/raspi-firmware/${name}`) ?? missing(`usr/lib/raspi-firmware/${name}`, deb(names.firmware)),
    })),
    // the tree start4.elf hands to U-Boot, at the card's root where the firmware looks for it
    { part: { role: 'firmware-tree', file: `firmware/${TREE}`, ...pv(deb(names.kernel)) }, bytes: tree },
    { part: { role: 'xen', file: `xen/xen-${xenVersion}-arm64`, ...pv(deb(names.xen)) }, bytes: xen },
    { part: { role: 'dom0-kernel', file: `xen/vmlinuz-${kernelAbi}.gz`, ...pv(deb(names.kernel)) }, bytes: kernelGz },
    {
      part: {
        role: 'dom0-ramdisk',
        file: 'xen/dom0-initramfs.cpio.gz',
        package: `built by xen-pi-imager from ${names.busybox}, ${names.kernel} and ${names.utils}`,
        version: `busybox ${deb(names.busybox).version}, xen-utils ${deb(names.utils).version}`,
      },
      bytes: initramfs,
    },
    // the tree Xen boots with, kept apart (xen/) from the firmware's so neither replaces the other
    { part: { role: 'device-tree', file: `xen/${TREE}`, ...pv(deb(names.kernel)) }, bytes: tree },
  ];
  const manifest: Omit<Rpi4Parts, 'dir'> = {
    xenVersion,
    kernelAbi,
    parts: files.map(({ part, bytes }) => ({ ...part, sha256: sha256(bytes), size: bytes.length })),
    packages: [...debs.map((d) => ({ name: d.name, version: d.version })), ...toolstack.packages],
  };
  const dir = rpi4Dir(cacheDir, xenVersion);
  const staging = `${dir}.partial-${process.pid}`;
  await fsp.rm(staging, { recursive: true, force: true });
  for (const { part, bytes } of files) {
    await fsp.mkdir(path.dirname(path.join(staging, part.file)), { recursive: true });
    await fsp.writeFile(path.join(staging, part.file), bytes);
  }
  await fsp.writeFile(path.join(staging, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rename(staging, dir);
  progress(`Raspberry Pi 4 parts ready in ${dir}`);
  return { dir, ...manifest };
}

/** The wanted modules and what they depend on (their .modinfo `depends=`), dependencies first; built-in ones skipped. */
async function dom0Modules(
  kernelFiles: Map<string, Uint8Array>,
  kernelDeb: PackageVersion,
): Promise<Array<{ name: string; data: Uint8Array }>> {
  const byName = new Map<string, [string, Uint8Array]>();
  for (const [file, data] of kernelFiles) {
    const match = /\/([^/]+)\.ko(\.xz|\.zst|\.gz)?$/.exec(file);
    // modinfo names use '_' where file names may use '-'
    if (match) byName.set(match[1]!.replace(/-/g, '_'), [file, data]);
  }
  const builtin = new Set(
    [...kernelFiles]
      .filter(([file]) => file.endsWith('modules.builtin'))
      .flatMap(([, data]) => new TextDecoder().decode(data).split('\n'))
      .map((line) => /\/([^/]+)\.ko$/.exec(line)?.[1]?.replace(/-/g, '_'))
      .filter((name): name is string => Boolean(name)),
  );
  const ordered: Array<{ name: string; data: Uint8Array }> = [];
  const done = new Set<string>();
  const visit = async (wanted: string, chain: string[]) => {
    const key = wanted.replace(/-/g, '_');
    if (done.has(key) || builtin.has(key)) return;
    if (chain.includes(key)) return; // a cycle: modinfo never has one, but never loop
    const entry = byName.get(key);
    if (!entry) missing(`kernel module ${wanted}.ko`, kernelDeb);
    const data = await decompressModule(entry[0], entry[1]);
    for (const dependency of moduleDepends(data)) await visit(dependency, [...chain, key]);
    done.add(key);
    ordered.push({ name: path.basename(entry[0]).replace(/\.(xz|zst|gz)$/, ''), data });
  };
  for (const name of RPI4_DOM0_MODULES) await visit(name, []);
  return ordered;
}

/**
 * xl, xenstored and xen-init-dom0 from xen-utils-<ver>, with every shared library they load: the candidates come from
 * the packages' own dependencies (library packages, followed further only while a library is still missing), the
 * choice from the programs' DT_NEEDED entries.
 */
async function toolstackFiles(
  apt: ReturnType<typeof privateApt>,
  utils: DownloadedDeb,
  xenVersion: string,
  progress: (m: string) => void,
  signal?: AbortSignal,
) {
  const bin = `usr/lib/xen-${xenVersion}/bin/`;
  const found = await readDebFiles(utils.file, (p) => TOOLSTACK.some((name) => p === bin + name));
  const programs = TOOLSTACK.map((name) => ({ name, data: found.get(bin + name) ?? missing(bin + name, utils) }));
  const interpreter = readElfDynamic(programs[0]!.data)?.interpreter;
  if (!interpreter || readElfDynamic(programs[0]!.data)?.machine !== EM_AARCH64) missing('arm64 dynamically linked xl', utils);
  const candidates = new Map<string, Uint8Array>();
  const packages: PackageVersion[] = [];
  const seen = new Set<string>([utils.name]);
  let frontier = [utils.name];
  for (let round = 0; round < 6; round++) {
    const depends = await apt.depends(frontier);
    const unseen = [...new Set([...depends.values()].flat())].filter((name) => !seen.has(name));
    // only shared-library packages (Section libs): not python3, perl or adduser that the package scripts want
    const shown = await apt.show(unseen);
    const next = unseen.filter((name) => /(^|\/)libs$/.test(shown.get(name)?.section ?? ''));
    if (next.length === 0) break;
    next.forEach((name) => seen.add(name));
    progress(`Libraries for xl: ${next.join(', ')}`);
    const debs = await apt.download(next.map((name) => ({ name, version: shown.get(name)!.version })));
    for (const deb of debs) {
      packages.push({ name: deb.name, version: deb.version });
      const libs = await readDebFiles(deb.file, (p) => /^(usr\/)?lib\/aarch64-linux-gnu\/[^/]+\.so(\.[0-9.]+)?$/.test(p));
      for (const [file, data] of libs) candidates.set(file, data);
    }
    if (signal?.aborted) throw cancelled();
    if (
      libraryClosure(
        programs.map((p) => p.data),
        candidates,
      ).missing.length === 0
    )
      break;
    frontier = next;
  }
  const closure = libraryClosure(
    programs.map((p) => p.data),
    candidates,
  );
  if (closure.missing.length > 0) {
    throw new ImagerError({
      code: 'NOT_FOUND',
      subject: utils.name,
      message: `No package that ${utils.name} depends on provides ${closure.missing.join(', ')}.`,
      hint: 'Debian may have reorganised the libraries; report this, or build the Dom0 root file system yourself.',
    });
  }
  const libraries = [...closure.libraries].map(([soname, lib]) => ({ soname, data: lib.bytes }));
  return { programs, libraries, interpreter: interpreter!, packages };
}

function cancelled(): ImagerError {
  return new ImagerError({
    code: 'CANCELLED',
    message: 'Fetching the Raspberry Pi 4 parts was cancelled.',
    hint: 'Start it again when you are ready.',
  });
}
