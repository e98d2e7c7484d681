// Every command against bad input (missing, empty, folder, FIFO, device, huge, wrong type, out of range), as a real process:
// each one ends with exit 1 or 2 and a sentence that names the input and what to do, never a stack trace or a hang.
import { execFileSync, spawn } from 'node:child_process';
import { build as esbuild } from 'esbuild';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultProfile } from '../../shared/profile/defaults';
import { arm64Head } from '../shared/boot/fixtures';

const appRoot = path.resolve(import.meta.dirname, '../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-bad-input-'));
const at = (name: string) => path.join(work, name);

/** A guard, not a measure: a case that hangs (a FIFO opened for reading) is killed, and then fails on its exit status. */
const KILL_AFTER_MS = 60_000;

/** The CLI bundled from the source as `npm run build` does (tsx would cost a second per case); removed afterwards. */
const bundleDir = path.join(appRoot, 'out', `.bad-input-${process.pid}`);
const cli = path.join(bundleDir, 'index.mjs');

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: work,
      // the writer from the source, as the bundle sits outside out/cli
      env: {
        ...process.env,
        XEN_PI_IMAGER_HOME: at('home'),
        XEN_PI_IMAGER_WRITER: path.join(appRoot, 'electron/writer/index.ts'),
        CI: '1',
        XEN_PI_IMAGER_DEBUG: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.on('close', (status, signal) => {
      clearTimeout(guard);
      resolve({ status, signal, output });
    });
  });
}

/** Runs cases two at a time (the machine is shared), in order of the list. */
async function runAll(cases: Case[]): Promise<Array<{ case: Case; run: Run }>> {
  const results: Array<{ case: Case; run: Run }> = [];
  const queue = [...cases];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) results.push({ case: next, run: await runCli(next.args) });
  };
  await Promise.all([worker(), worker()]);
  return cases.map((c) => results.find((r) => r.case === c)!);
}

interface Case {
  what: string;
  args: string[];
  /** Text the answer must contain: the input it names (a path, an option), or the reason. */
  names: string | RegExp;
}

/** What is wrong with the answer to bad input, if anything: it must exit 1 or 2, name the input, give a next step, show no stack trace. */
function faultOf({ case: c, run }: { case: Case; run: Run }): string | undefined {
  const faults = [
    ![1, 2].includes(run.status ?? -1) && `exit status ${run.status ?? `none (${run.signal})`}`,
    !(typeof c.names === 'string' ? run.output.includes(c.names) : c.names.test(run.output)) && `does not name ${String(c.names)}`,
    /^\s+at /m.test(run.output) && 'prints a stack trace',
    /unexpected error/.test(run.output) && 'calls it an unexpected error',
    // the fix: a hint on its own indented line, or the command's usage after a usage error
    !/\n {2}\S|Usage: xen-pi-imager|\(with warnings\)|error\(s\)|exiting/.test(run.output) && 'says nothing about what to do',
  ].filter(Boolean);
  return faults.length
    ? `${c.what} (${c.args.join(' ')}): ${faults.join(', ')}\n${run.output.trim().split('\n').slice(0, 6).join('\n')}`
    : undefined;
}

/** Runs every case; the test fails listing each case whose answer falls short. */
async function expectAll(cases: Case[]): Promise<void> {
  const results = await runAll(cases);
  expect(results.map(faultOf).filter(Boolean)).toEqual([]);
}

/** The whole disk this machine runs from (its / mount), when that is a block device here. */
function findSystemDisk(): string | undefined {
  const root = fs
    .readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((parts) => parts[1] === '/')?.[0];
  if (!root?.startsWith('/dev/') || !fs.statSync(root, { throwIfNoEntry: false })?.isBlockDevice()) return undefined;
  const name = path.basename(fs.realpathSync(root));
  // a partition's sysfs entry sits inside its disk's: /sys/class/block/vda1 -> .../block/vda/vda1
  const disk = fs.existsSync(`/sys/class/block/${name}/partition`)
    ? path.basename(path.dirname(fs.realpathSync(`/sys/class/block/${name}`)))
    : name;
  return `/dev/${disk}`;
}
const systemDisk = findSystemDisk();

const missing = at('missing.json');
const empty = at('empty.json');
const folder = at('folder');
const fifo = at('fifo');
const huge = at('huge.json');
const png = at('picture.png');
const random = at('random.bin');
const existing = at('existing.txt');
const good = at('good.json');
const bootFiles = at('boot-files');

/** Wrong types and shapes for a file that should hold a profile or a config. */
const badReadables: Array<[string, string, string | RegExp]> = [
  ['missing', missing, missing],
  ['empty', empty, empty],
  ['a folder', folder, `${folder} is a folder`],
  ['a FIFO', fifo, `${fifo} is a named pipe (FIFO)`],
  ['/dev/zero', '/dev/zero', '/dev/zero is a character device'],
  ['/dev/null', '/dev/null', '/dev/null is a character device'],
  ['huge', huge, `${huge} is 3.0 GB`],
  ['a PNG', png, png],
  ['random bytes', random, random],
];

beforeAll(async () => {
  await esbuild({
    absWorkingDir: appRoot,
    entryPoints: ['electron/cli/index.ts'],
    outfile: cli,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    external: ['electron'],
    logLevel: 'warning',
  });
  fs.mkdirSync(at('home'));
  fs.writeFileSync(empty, '');
  fs.mkdirSync(folder);
  execFileSync('mkfifo', [fifo]);
  fs.writeFileSync(huge, '');
  fs.truncateSync(huge, 3e9); // sparse: costs nothing on disk
  fs.writeFileSync(png, Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), randomBytes(2000)]));
  fs.writeFileSync(random, randomBytes(64 * 1024));
  fs.writeFileSync(existing, 'not a folder\n');
  fs.writeFileSync(at('array.json'), '[1, 2, 3]');
  fs.writeFileSync(at('null.json'), 'null');
  fs.writeFileSync(at('deep.json'), '['.repeat(100_000) + ']'.repeat(100_000));
  // A complete rpi4 profile whose files all exist (generate gets as far as writing)
  const kernel = new Uint8Array(1_000_000);
  kernel.set(arm64Head(1_200_000));
  fs.writeFileSync(at('vmlinuz'), kernel);
  fs.writeFileSync(at('xen-4.17-arm64'), kernel.subarray(0, 900_000));
  execFileSync('sh', ['-c', `cd ${work} && echo hello > hello && echo hello | cpio -o -H newc 2>/dev/null | gzip > initrd.cpio.gz`]);
  fs.writeFileSync(at('t.dts'), '/dts-v1/;\n/ { chosen { }; };\n');
  execFileSync('dtc', ['-I', 'dts', '-O', 'dtb', '-o', at('bcm2711-rpi-4-b.dtb'), at('t.dts')], { stdio: 'pipe' });
  const { ubootBinary: _noUboot, ...profile } = defaultProfile('rpi4');
  fs.writeFileSync(good, JSON.stringify(profile));
  for (const [name, kernelPath] of [
    ['fifo-kernel.json', fifo],
    ['zero-kernel.json', '/dev/zero'],
    ['folder-kernel.json', folder],
  ] as const) {
    fs.writeFileSync(at(name), JSON.stringify({ ...profile, dom0: { ...profile.dom0!, kernel: kernelPath } }));
  }
  fs.mkdirSync(bootFiles);
  fs.writeFileSync(path.join(bootFiles, 'boot.scr'), 'stage 1');
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(bundleDir, { recursive: true, force: true });
});

describe('the command line against bad input (real processes)', () => {
  it('profile check: names what it was given instead of a profile', { timeout: 300_000 }, async () => {
    await expectAll([
      ...badReadables.map(([what, file, names]) => ({ what: `check ${what}`, args: ['profile', 'check', file], names })),
      { what: 'check a JSON array', args: ['profile', 'check', at('array.json')], names: 'array.json' },
      { what: 'check JSON null', args: ['profile', 'check', at('null.json')], names: 'null.json' },
      { what: 'check deeply nested JSON', args: ['profile', 'check', at('deep.json')], names: 'deep.json' },
      {
        what: 'check a profile whose kernel is a FIFO',
        args: ['profile', 'check', at('fifo-kernel.json')],
        names: `${fifo} is a named pipe (FIFO)`,
      },
      {
        what: 'check a profile whose kernel is /dev/zero',
        args: ['profile', 'check', at('zero-kernel.json')],
        names: '/dev/zero is a character device',
      },
      {
        what: 'check a profile whose kernel is a folder',
        args: ['profile', 'check', at('folder-kernel.json')],
        names: `${folder} is a folder`,
      },
      { what: 'check two files', args: ['profile', 'check', good, good], names: 'exactly one profile file' },
    ]);
  });

  it('profile init: says why it cannot write --out', { timeout: 300_000 }, async () => {
    const init = (out: string, ...more: string[]) => ['profile', 'init', '--board', 'rpi4', '--out', out, ...more];
    await expectAll([
      { what: 'a folder that does not exist', args: init('/nonexistent-dir/x.json'), names: 'The folder /nonexistent-dir does not exist' },
      { what: 'a folder that takes no files', args: init('/proc/nope.json'), names: '/proc/nope.json cannot be created' },
      { what: 'a folder', args: init(folder, '--force'), names: `${folder} is a folder` },
      { what: '/dev/null', args: init('/dev/null'), names: '/dev/null is a character device' },
      { what: '/dev/null with --force', args: init('/dev/null', '--force'), names: '/dev/null is a character device' },
      { what: 'a FIFO', args: init(fifo, '--force'), names: `${fifo} is a named pipe (FIFO)` },
      { what: 'under a file', args: init(path.join(existing, 'x.json')), names: `${existing} is a file, not a folder` },
      { what: 'an existing file', args: init(existing), names: `${existing} exists already` },
      { what: 'an unknown board', args: ['profile', 'init', '--board', 'pi5', '--out', at('x.json')], names: '--board must be one of' },
      { what: 'no --out', args: ['profile', 'init', '--board', 'rpi4'], names: '--out FILE is required' },
      { what: 'an unknown subcommand', args: ['profile', 'frobnicate'], names: 'Unknown subcommand "frobnicate"' },
    ]);
  });

  it('generate: names a bad profile and a bad --out, without hanging or looping', { timeout: 300_000 }, async () => {
    const out = at('generated');
    await expectAll([
      ...badReadables.map(([what, file, names]) => ({
        what: `profile ${what}`,
        args: ['generate', '--profile', file, '--out', out],
        names,
      })),
      {
        what: '--out /dev/null',
        args: ['generate', '--profile', good, '--out', '/dev/null'],
        names: '/dev/null is a character device, not a folder',
      },
      { what: '--out a file', args: ['generate', '--profile', good, '--out', existing], names: `${existing} is a file, not a folder` },
      {
        what: '--out under a file',
        args: ['generate', '--profile', good, '--out', path.join(existing, 'sub')],
        names: `${existing} is a file, not a folder`,
      },
      { what: '--out a FIFO', args: ['generate', '--profile', good, '--out', fifo], names: `${fifo} is a named pipe (FIFO), not a folder` },
      { what: '--out in /proc/sys', args: ['generate', '--profile', good, '--out', '/proc/sys/x'], names: '/proc/sys/x cannot be created' },
      {
        what: 'a kernel that is a FIFO',
        args: ['generate', '--profile', at('fifo-kernel.json'), '--out', out],
        names: `${fifo} is a named pipe (FIFO)`,
      },
      {
        what: 'a kernel that is /dev/zero',
        args: ['generate', '--profile', at('zero-kernel.json'), '--out', out],
        names: '/dev/zero is a character device',
      },
      { what: 'no --out', args: ['generate', '--profile', good], names: '--out DIR' },
    ]);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('flash: names a bad profile, boot folder, base image or target before writing anything', { timeout: 300_000 }, async () => {
    const card = at('card.img');
    const flash = (...args: string[]) => ['flash', ...args];
    await expectAll([
      ...badReadables
        .filter(([what]) => what !== 'huge')
        .map(([what, file, names]) => ({ what: `profile ${what}`, args: flash('--profile', file, '--target', card), names })),
      {
        what: 'boot files missing',
        args: flash('--boot-files', at('nope'), '--base', png, '--target', card),
        names: `${at('nope')} does not exist`,
      },
      {
        what: 'boot files a file',
        args: flash('--boot-files', existing, '--base', png, '--target', card),
        names: `${existing} is a file, not a folder`,
      },
      {
        what: 'boot files a FIFO',
        args: flash('--boot-files', fifo, '--base', png, '--target', card),
        names: `${fifo} is a named pipe (FIFO)`,
      },
      {
        what: 'base missing',
        args: flash('--boot-files', bootFiles, '--base', missing, '--target', card),
        names: `${missing} does not exist`,
      },
      {
        what: 'base a folder',
        args: flash('--boot-files', bootFiles, '--base', folder, '--target', card),
        names: `${folder} is a folder, not an image file`,
      },
      {
        what: 'base a FIFO',
        args: flash('--boot-files', bootFiles, '--base', fifo, '--target', card),
        names: `${fifo} is a named pipe (FIFO), not an image file`,
      },
      {
        what: 'base /dev/zero',
        args: flash('--boot-files', bootFiles, '--base', '/dev/zero', '--target', card),
        names: '/dev/zero is a character device, not an image file',
      },
      { what: 'base a PNG', args: flash('--boot-files', bootFiles, '--base', png, '--target', card), names: 'picture.png' },
      { what: 'base random bytes', args: flash('--boot-files', bootFiles, '--base', random, '--target', card), names: 'random.bin' },
      {
        what: 'target /dev/null',
        args: flash('--boot-files', bootFiles, '--base', png, '--target', '/dev/null'),
        names: '/dev/null is a character device, neither a drive nor an image file',
      },
      {
        what: 'target a folder',
        args: flash('--boot-files', bootFiles, '--base', png, '--target', folder),
        names: `${folder} is a folder, neither a drive nor an image file`,
      },
      {
        what: 'target a FIFO',
        args: flash('--boot-files', bootFiles, '--base', png, '--target', fifo),
        names: `${fifo} is a named pipe (FIFO), neither a drive nor an image file`,
      },
      {
        what: 'a bad --sha256',
        args: flash('--boot-files', bootFiles, '--base', png, '--target', card, '--sha256', 'xyz'),
        names: '--sha256 must be 64 hexadecimal digits',
      },
      { what: 'no target', args: flash('--boot-files', bootFiles), names: '--target' },
      // Refused before anything is read or written; the first thing said is that it is the system drive.
      ...(systemDisk
        ? [
            {
              what: 'the system disk without --yes',
              args: flash('--boot-files', bootFiles, '--base', png, '--target', systemDisk),
              names: /^xen-pi-imager flash: Refusing to write \S+: \S+ is a system drive/,
            },
          ]
        : []),
    ]);
    expect(fs.existsSync(card)).toBe(false);
  });

  it('serve, try, fetch-parts, ui and drives: bad files, folders and numbers out of range', { timeout: 300_000 }, async () => {
    await expectAll([
      { what: 'serve --root missing', args: ['serve', '--root', at('nope')], names: `${at('nope')} is not a folder` },
      { what: 'serve --root a file', args: ['serve', '--root', existing], names: `${existing} is not a folder` },
      { what: 'serve --root a FIFO', args: ['serve', '--root', fifo], names: `${fifo} is not a folder` },
      ...badReadables
        .filter(([what]) => ['a FIFO', '/dev/zero', 'a folder', 'missing', 'a PNG'].includes(what))
        .map(([what, file, names]) => ({ what: `serve --profile ${what}`, args: ['serve', '--profile', file, '--port', '6969'], names })),
      {
        what: 'serve --port -1',
        args: ['serve', '--root', folder, '--port', '-1'],
        names: '--port must be a number from 1 to 65535, not "-1"',
      },
      {
        what: 'serve --port=-1',
        args: ['serve', '--root', folder, '--port=-1'],
        names: '--port must be a number from 1 to 65535, not "-1"',
      },
      {
        what: 'serve --port 70000',
        args: ['serve', '--root', folder, '--port', '70000'],
        names: '--port must be a number from 1 to 65535',
      },
      ...badReadables
        .filter(([what]) => ['a FIFO', '/dev/zero', 'a folder', 'missing', 'a PNG'].includes(what))
        .map(([what, file, names]) => ({ what: `try --profile ${what}`, args: ['try', '--profile', file], names })),
      {
        what: 'try --timeout -5',
        args: ['try', '--profile', good, '--timeout', '-5'],
        names: '--timeout must be a whole number of seconds from 5 to 3600, not "-5"',
      },
      { what: 'try --timeout 0', args: ['try', '--profile', good, '--timeout', '0'], names: '--timeout must be a whole number of seconds' },
      { what: 'try --xen abc', args: ['try', '--profile', good, '--xen', 'abc'], names: '--xen must be a version like 4.17' },
      { what: 'fetch-parts --xen abc', args: ['fetch-parts', '--xen', 'abc'], names: '--xen must be a version like 4.17' },
      {
        what: 'fetch-parts --out /dev/null',
        args: ['fetch-parts', '--out', '/dev/null'],
        names: '/dev/null is a character device, not a folder',
      },
      { what: 'fetch-parts --out a file', args: ['fetch-parts', '--out', existing], names: `${existing} is a file, not a folder` },
      ...badReadables
        .filter(([what]) => what !== 'huge' && what !== '/dev/null')
        .map(([what, file, names]) => ({
          what: `ui ${what}`,
          args: ['ui', '--no-open', file],
          names: typeof names === 'string' && names.startsWith(work) ? path.basename(names) : names,
        })),
      { what: 'ui --port -1', args: ['ui', '--port', '-1'], names: '--port must be a number from 0 to 65535, not "-1"' },
      { what: 'ui --port 70000', args: ['ui', '--port', '70000'], names: '--port must be a number from 0 to 65535' },
      { what: 'drives with an argument', args: ['drives', 'sdb'], names: 'sdb' },
      { what: 'drives with an unknown option', args: ['drives', '--bogus'], names: '--bogus' },
    ]);
  });

  it('imagebuilder: names a bad config or folder, in its own words and ours', { timeout: 300_000 }, async () => {
    await expectAll([
      ...badReadables.map(([what, file, names]) => ({
        what: `config ${what}`,
        args: ['imagebuilder', '-c', file, '-d', work, '-t', 'tftp'],
        names:
          what === 'empty'
            ? `${empty}: XEN is not set`
            : what === 'a PNG' || what === 'random bytes'
              ? `${file} is not a text file`
              : names,
      })),
      { what: '-d missing', args: ['imagebuilder', '-c', existing, '-d', at('nope'), '-t', 'tftp'], names: `${at('nope')} does not exist` },
      {
        what: '-d a file',
        args: ['imagebuilder', '-c', existing, '-d', existing, '-t', 'tftp'],
        names: `${existing} is a file, not a folder`,
      },
      {
        what: '-d /dev/null',
        args: ['imagebuilder', '-c', existing, '-d', '/dev/null', '-t', 'tftp'],
        names: '/dev/null is a character device, not a folder',
      },
    ]);
  });
});
