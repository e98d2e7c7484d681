// Fetches the arm64 parts of an emulated boot from Debian's packages (Xen, Dom0 kernel, busybox) and caches them.
import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import xzDecompress from 'xz-decompress';
import { ImagerError } from '../../../shared/errors';
import { findExecutable } from '../../node/host-tools';
import { dataPaths, userDataDir } from '../../node/paths';
import { privateSourceList, systemAptSources } from './apt-sources';
import { readDebFiles } from './deb-archive';
import { buildDom0Initramfs } from './initramfs';

const execFileAsync = promisify(execFile);

export const DEFAULT_XEN_VERSION = '4.17';
const MANIFEST = 'manifest.json';

export interface DebianPartsOptions {
  /** Xen's major.minor, as in Debian's package name xen-hypervisor-<ver>-arm64. */
  xenVersion?: string;
  /** The cache root; defaults to XEN_PI_IMAGER_CACHE, else the app's cache folder. */
  cacheDir?: string;
  /** Ask Debian again for the newest packages even when a cached set exists. */
  refresh?: boolean;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface PackageVersion {
  name: string;
  version: string;
}

/** A ready set of boot parts: absolute paths plus where they came from. */
export interface DebianParts {
  dir: string;
  xenVersion: string;
  kernelAbi: string;
  xen: string;
  kernel: string;
  initramfs: string;
  packages: { xen: PackageVersion; kernel: PackageVersion; busybox: PackageVersion };
}

interface Manifest {
  xenVersion: string;
  kernelAbi: string;
  files: { xen: string; kernel: string; initramfs: string };
  packages: DebianParts['packages'];
}

/** Where the parts are cached: XEN_PI_IMAGER_CACHE when set (CI), else the per-user cache folder. */
export function partsCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XEN_PI_IMAGER_CACHE) return path.resolve(env.XEN_PI_IMAGER_CACHE);
  return dataPaths(userDataDir(env)).cache;
}

function checkXenVersion(xenVersion: string): void {
  if (!/^\d+\.\d+$/.test(xenVersion)) {
    throw new ImagerError({
      code: 'INVALID_ARGUMENT',
      subject: 'xenVersion',
      message: `"${xenVersion}" is not a Xen version like 4.17.`,
      hint: 'Give the major and minor version only, as in Debian’s package xen-hypervisor-4.17-arm64.',
    });
  }
}

/** The cached parts for `xenVersion`, or undefined when none are complete. */
export async function cachedDebianParts(xenVersion: string, cacheDir: string): Promise<DebianParts | undefined> {
  const dir = path.join(cacheDir, 'debian-arm64', `xen-${xenVersion}`);
  try {
    const manifest = JSON.parse(await fsp.readFile(path.join(dir, MANIFEST), 'utf8')) as Manifest;
    const parts = toParts(dir, manifest);
    for (const file of [parts.xen, parts.kernel, parts.initramfs]) await fsp.access(file);
    return parts;
  } catch {
    return undefined;
  }
}

function toParts(dir: string, manifest: Manifest): DebianParts {
  return {
    dir,
    xenVersion: manifest.xenVersion,
    kernelAbi: manifest.kernelAbi,
    xen: path.join(dir, manifest.files.xen),
    kernel: path.join(dir, manifest.files.kernel),
    initramfs: path.join(dir, manifest.files.initramfs),
    packages: manifest.packages,
  };
}

/** Returns cached parts, or downloads the packages with apt-get (never installing them) and builds the set. */
export async function fetchDebianParts(options: DebianPartsOptions = {}): Promise<DebianParts> {
  const xenVersion = options.xenVersion ?? DEFAULT_XEN_VERSION;
  checkXenVersion(xenVersion);
  const cacheDir = options.cacheDir ?? partsCacheRoot(options.env);
  const progress = options.onProgress ?? (() => {});
  if (!options.refresh) {
    const cached = await cachedDebianParts(xenVersion, cacheDir);
    if (cached) {
      progress(`Using cached Debian parts in ${cached.dir}`);
      return cached;
    }
  }
  return withCacheLock(path.join(cacheDir, 'debian-arm64'), async () => {
    // another process may have finished the same set while we waited
    const ready = options.refresh ? undefined : await cachedDebianParts(xenVersion, cacheDir);
    return ready ?? downloadAndBuild(xenVersion, cacheDir, options);
  });
}

/** One fetch at a time per cache (apt-get locks its lists; two builds would race on the same folder). */
export async function withCacheLock<T>(root: string, work: () => Promise<T>): Promise<T> {
  const lock = path.join(root, '.lock');
  await fsp.mkdir(root, { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      await fsp.mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (await fsp.stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 10 * 60_000)
        await fsp.rm(lock, { recursive: true, force: true }); // left by a killed process
      else if (Date.now() > deadline)
        throw new ImagerError({
          code: 'BUSY',
          subject: lock,
          message: 'Another process has been fetching the Debian parts for 10 minutes.',
          hint: `If none is running, delete ${lock}.`,
        });
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return await work();
  } finally {
    await fsp.rm(lock, { recursive: true, force: true });
  }
}

async function downloadAndBuild(xenVersion: string, cacheDir: string, options: DebianPartsOptions): Promise<DebianParts> {
  const progress = options.onProgress ?? (() => {});
  const apt = privateApt(path.join(cacheDir, 'debian-arm64'), options.signal);
  progress('Reading Debian’s arm64 package lists');
  await apt.update();
  const kernelPackage = await apt.kernelPackage();
  const names = { xen: `xen-hypervisor-${xenVersion}-arm64`, kernel: kernelPackage, busybox: 'busybox-static' };
  progress(`Downloading ${Object.values(names).join(', ')}`);
  const debs = await apt.download(Object.values(names));
  const debOf = (name: string) => debs.find((deb) => deb.name === name)!;
  progress('Unpacking the packages and building the Dom0 initramfs');
  const kernelAbi = kernelPackage.replace(/^linux-image-/, '');
  const dir = path.join(cacheDir, 'debian-arm64', `xen-${xenVersion}`);
  const manifest = await buildParts(dir, xenVersion, kernelAbi, {
    xen: debOf(names.xen),
    kernel: debOf(names.kernel),
    busybox: debOf(names.busybox),
  });
  progress(`Debian parts ready in ${dir}`);
  return toParts(dir, manifest);
}

export interface DownloadedDeb extends PackageVersion {
  file: string;
}

async function buildParts(
  dir: string,
  xenVersion: string,
  kernelAbi: string,
  debs: { xen: DownloadedDeb; kernel: DownloadedDeb; busybox: DownloadedDeb },
): Promise<Manifest> {
  const xenPath = `boot/xen-${xenVersion}-arm64`;
  const kernelPath = `boot/vmlinuz-${kernelAbi}`;
  const xenFiles = await readDebFiles(debs.xen.file, (p) => p === xenPath);
  const moduleRe = /(^|\/)lib\/modules\/[^/]+\/kernel\/drivers\/xen\/(xen-privcmd|xenfs\/xenfs)\.ko(\.xz|\.zst|\.gz)?$/;
  const kernelFiles = await readDebFiles(debs.kernel.file, (p) => p === kernelPath || moduleRe.test(p));
  const busyboxFiles = await readDebFiles(debs.busybox.file, (p) => /^(usr\/)?bin\/busybox$/.test(p));
  const xen = required(xenFiles, xenPath, debs.xen);
  const kernel = required(kernelFiles, kernelPath, debs.kernel);
  const busybox = [...busyboxFiles.values()][0] ?? missingFile('bin/busybox', debs.busybox);
  const moduleFile = (stem: string) => {
    const entry = [...kernelFiles].find(([p]) => p.includes(`/${stem}.ko`));
    if (!entry) missingFile(`lib/modules/${kernelAbi}/…/${stem}.ko`, debs.kernel);
    return decompressModule(entry![0], entry![1]);
  };
  // xenfs uses symbols exported by privcmd, so privcmd goes first
  const modules = [
    { name: 'xen-privcmd.ko', data: await moduleFile('xen-privcmd') },
    { name: 'xenfs.ko', data: await moduleFile('xenfs') },
  ];
  const initramfs = buildDom0Initramfs({ busybox, modules });
  const manifest: Manifest = {
    xenVersion,
    kernelAbi,
    files: { xen: path.basename(xenPath), kernel: path.basename(kernelPath), initramfs: 'dom0-initramfs.cpio.gz' },
    packages: {
      xen: { name: debs.xen.name, version: debs.xen.version },
      kernel: { name: debs.kernel.name, version: debs.kernel.version },
      busybox: { name: debs.busybox.name, version: debs.busybox.version },
    },
  };
  // build beside the final folder, then swap it in, so a half-written set is never used
  const staging = `${dir}.partial-${process.pid}`;
  await fsp.rm(staging, { recursive: true, force: true });
  await fsp.mkdir(staging, { recursive: true });
  await fsp.writeFile(path.join(staging, manifest.files.xen), xen);
  await fsp.writeFile(path.join(staging, manifest.files.kernel), kernel);
  await fsp.writeFile(path.join(staging, manifest.files.initramfs), initramfs);
  await fsp.writeFile(path.join(staging, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rename(staging, dir);
  return manifest;
}

function required(files: Map<string, Uint8Array>, wanted: string, deb: DownloadedDeb): Uint8Array {
  return files.get(wanted) ?? missingFile(wanted, deb);
}

function missingFile(wanted: string, deb: DownloadedDeb): never {
  throw new ImagerError({
    code: 'NOT_FOUND',
    subject: path.basename(deb.file),
    message: `The package ${deb.name} ${deb.version} has no ${wanted}.`,
    hint: 'Debian may have reorganised the package; point the profile at your own files instead.',
  });
}

/** Newer kernels ship modules compressed; busybox's insmod wants them plain. */
export async function decompressModule(name: string, data: Uint8Array): Promise<Uint8Array> {
  if (name.endsWith('.gz')) return new Uint8Array(gunzipSync(data));
  if (name.endsWith('.zst')) return zstdDecompress(data);
  if (name.endsWith('.xz')) {
    const stream = new xzDecompress.XzReadableStream(new Blob([new Uint8Array(data)]).stream());
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return data;
}

/** apt-get and apt-cache on a private arm64 package list, so the machine's own apt state is never touched. */
export function privateApt(root: string, signal?: AbortSignal, config: { arch?: string; backports?: boolean } = {}) {
  const arch = config.arch ?? 'arm64';
  const lists = path.join(root, 'apt', 'lists');
  const cache = path.join(root, 'apt', 'cache');
  const debDir = path.join(root, 'debs');
  // the machine's own mirror and keys, with the components and suites the parts need (non-free-firmware, backports)
  const sourceList = privateSourceList(systemAptSources(), { backports: config.backports ?? false });
  const sourceFile = path.join(root, 'apt', 'sources.list');
  const options = [
    `-oAPT::Architecture=${arch}`,
    `-oAPT::Architectures=${arch}`,
    `-oDir::State::Lists=${lists}`,
    `-oDir::Cache=${cache}`,
    ...(sourceList ? [`-oDir::Etc::SourceList=${sourceFile}`, '-oDir::Etc::SourceParts=/dev/null'] : []),
    // root's private folders are closed to the _apt sandbox user; the download goes to our own folder anyway
    ...(process.getuid?.() === 0 ? ['-oAPT::Sandbox::User=root'] : []),
  ];
  const exec = async (tool: 'apt-get' | 'apt-cache', args: string[], cwd?: string): Promise<{ stdout: string; stderr: string }> => {
    const program = findExecutable(tool);
    if (!program) {
      throw new ImagerError({
        code: 'NOT_AVAILABLE',
        subject: tool,
        message: `${tool} was not found: Debian’s packages can only be fetched on a Debian or Ubuntu machine.`,
        hint: 'Point the profile at your own Xen, Dom0 kernel and initramfs files instead.',
      });
    }
    try {
      const { stdout, stderr } = await execFileAsync(program, [...options, ...args], {
        cwd,
        signal,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' },
      });
      return { stdout, stderr };
    } catch (error) {
      if (signal?.aborted) throw cancelled();
      const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
      throw aptFailure(`${tool} ${args.join(' ')}`, `${tool} failed: ${lastLines(stderr) || (error as Error).message}`);
    }
  };
  const run = async (tool: 'apt-get' | 'apt-cache', args: string[], cwd?: string) => (await exec(tool, args, cwd)).stdout;
  return {
    async update(): Promise<void> {
      await fsp.mkdir(path.join(lists, 'partial'), { recursive: true });
      await fsp.mkdir(cache, { recursive: true });
      if (sourceList) await fsp.writeFile(sourceFile, sourceList);
      const { stderr } = await exec('apt-get', ['-q', 'update']);
      // apt-get update exits 0 when no index could be fetched (offline): only warnings say so. Lists from an earlier
      // update still serve (the cached .debs need no network); without any, nothing can be found, so say why now.
      const failed = stderr.split('\n').filter((line) => /^W: Failed to fetch/.test(line));
      const haveLists = (await fsp.readdir(lists)).some((name) => name.endsWith('_Packages') || name.endsWith('_Packages.lz4'));
      if (failed.length > 0 && !haveLists) {
        throw aptFailure('apt-get update', `apt-get update could not fetch Debian’s package lists: ${lastLines(failed.join('\n'))}`);
      }
    },
    /** The current kernel package, through the linux-image-arm64 metapackage (its ABI changes with each update). */
    async kernelPackage(): Promise<string> {
      const out = await run('apt-cache', ['depends', 'linux-image-arm64']);
      const match = /Depends:\s+(linux-image-[0-9][^\s]*-arm64)/.exec(out);
      if (!match) {
        throw new ImagerError({
          code: 'NOT_FOUND',
          subject: 'linux-image-arm64',
          message: 'Debian’s linux-image-arm64 package names no kernel package.',
          hint: 'Run the command again after a while, or point the profile at your own kernel.',
        });
      }
      return match[1]!;
    },
    /** The version apt would pick, from `apt-cache show` (no dpkg database involved). */
    async candidateVersion(name: string): Promise<string> {
      const out = await run('apt-cache', ['show', '--no-all-versions', name]);
      const match = /^Version:\s*(\S+)/m.exec(out);
      if (!match) {
        throw new ImagerError({
          code: 'NOT_FOUND',
          subject: name,
          message: `Debian has no ${arch} package called ${name}.`,
          hint: 'Check that this Xen version is packaged for arm64 in your Debian release.',
        });
      }
      return match[1]!;
    },
    /** Every version of each package the lists hold, with the suite it comes from (`apt-cache madison`). */
    async madison(names: string[]): Promise<Array<{ name: string; version: string; suite: string }>> {
      const out = await run('apt-cache', ['madison', ...names]);
      return out
        .split('\n')
        .map((line) => line.split('|').map((field) => field.trim()))
        .filter((fields) => fields.length >= 3 && fields[2]!.includes('Packages'))
        .map(([name, version, where]) => ({
          name: name!,
          version: version!,
          suite: /\s(\S+?)\/\S+\s+\S+\s+Packages/.exec(where!)?.[1] ?? '',
        }));
    },
    /** Each package's candidate Version and Section (libs, admin...), from one `apt-cache show`. */
    async show(names: string[]): Promise<Map<string, { version: string; section: string }>> {
      const out = names.length ? await run('apt-cache', ['show', '--no-all-versions', ...names]) : '';
      const result = new Map<string, { version: string; section: string }>();
      for (const stanza of out.split(/\n\n+/)) {
        const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
        const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
        if (name && version) result.set(name, { version, section: /^Section:\s*(\S+)/m.exec(stanza)?.[1] ?? '' });
      }
      return result;
    },
    /** Package names matching an extended regular expression (`apt-cache search --names-only`). */
    async search(pattern: string): Promise<string[]> {
      const out = await run('apt-cache', ['search', '--names-only', pattern]);
      return out
        .split('\n')
        .map((line) => line.split(' - ')[0]!.trim())
        .filter(Boolean);
    },
    /** Each package's Depends and Pre-Depends (the first of each set of alternatives, real packages only). */
    async depends(names: string[]): Promise<Map<string, string[]>> {
      const out = await run('apt-cache', [
        'depends',
        '--no-recommends',
        '--no-suggests',
        '--no-conflicts',
        '--no-breaks',
        '--no-replaces',
        '--no-enhances',
        ...names,
      ]);
      const result = new Map<string, string[]>();
      let current: string[] | undefined;
      let alternative = false;
      for (const line of out.split('\n')) {
        if (/^\S/.test(line)) {
          current = [];
          result.set(line.trim(), current);
          alternative = false;
          continue;
        }
        const match = /^\s+(\|)?(?:Pre)?Depends:\s+(\S+)/.exec(line);
        if (!match || !current) continue;
        // "|Depends: a" starts a set of alternatives: keep its first, skip the rest of the set
        if (!alternative && !match[2]!.startsWith('<')) current.push(match[2]!.replace(/:any$/, ''));
        alternative = Boolean(match[1]);
      }
      return result;
    },
    /** Downloads packages into the cache (apt-get skips files it already has): the candidate, or the version given. */
    async download(names: Array<string | { name: string; version: string }>): Promise<DownloadedDeb[]> {
      await fsp.mkdir(debDir, { recursive: true });
      const wanted = await Promise.all(
        names.map(async (entry) => {
          const name = typeof entry === 'string' ? entry : entry.name;
          const version = typeof entry === 'string' ? await this.candidateVersion(name) : entry.version;
          return { name, version };
        }),
      );
      await run('apt-get', ['-q', 'download', ...wanted.map((deb) => `${deb.name}=${deb.version}`)], debDir);
      const present = await fsp.readdir(debDir);
      return wanted.map((deb) => {
        // apt-get names the file <name>_<version, ':' written %3a>_<arch or all>.deb
        const stem = `${deb.name}_${deb.version.replace(/:/g, '%3a')}_`;
        const found = present.find((file) => file.startsWith(stem) && file.endsWith('.deb'));
        if (!found) {
          throw new ImagerError({
            code: 'NOT_FOUND',
            subject: deb.name,
            message: `apt-get did not leave ${stem}${arch}.deb in ${debDir}.`,
            hint: 'Run the command again; if it keeps failing, delete the cache folder.',
          });
        }
        return { ...deb, file: path.join(debDir, found) };
      });
    },
  };
}

/** apt's failure as the user needs it: OFFLINE when its words say the mirror cannot be reached, else DOWNLOAD_FAILED. */
function aptFailure(subject: string, message: string): ImagerError {
  if (
    /Temporary failure resolving|Could not resolve|Failed to fetch|Unable to connect|Network is unreachable|Connection failed/i.test(
      message,
    )
  ) {
    return new ImagerError({
      code: 'OFFLINE',
      subject,
      message: 'Debian’s package mirror cannot be reached: this computer seems to be offline.',
      hint: 'Connect to the network and try again; parts already fetched stay in the cache and need no network.',
      details: { apt: message },
    });
  }
  return new ImagerError({
    code: 'DOWNLOAD_FAILED',
    subject,
    message,
    hint: 'Check the network connection and that Debian’s package mirror is reachable, then try again.',
  });
}

function lastLines(text: string): string {
  return text.split('\n').filter(Boolean).slice(-3).join(' ');
}

function cancelled(): ImagerError {
  return new ImagerError({
    code: 'CANCELLED',
    message: 'Fetching the Debian parts was cancelled.',
    hint: 'Start it again when you are ready.',
  });
}
