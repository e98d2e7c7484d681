// The drives and flash commands: list drives, compose and write image files and loop-device cards, edit a card in place.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../electron/cli/main';
import type { CliIO } from '../../../electron/cli/command';
import {
  attachLoop,
  buildRpiLikeImage,
  detachAllLoops,
  fsckExt4,
  fsckFat,
  isRoot,
  MiB,
  mtoolsRead,
  RPI_OS_CONFIG_TXT,
  tempDir,
  type TestImageLayout,
} from '../../helpers/disk-images';

const dir = tempDir('xpi-flash-cli-');
const home = path.join(dir, 'home');
const bootDir = path.join(dir, 'boot-files');
let base: TestImageLayout;
let baseXz: string;

beforeAll(() => {
  base = buildRpiLikeImage(dir, 'base.img');
  baseXz = `${base.path}.xz`;
  fs.writeFileSync(baseXz, '');
  const out = fs.openSync(baseXz, 'w');
  execFileSync('xz', ['-1', '-T0', '-c', base.path], { stdio: ['ignore', out, 'inherit'] });
  fs.closeSync(out);
  fs.mkdirSync(path.join(bootDir, 'xen'), { recursive: true });
  fs.writeFileSync(path.join(bootDir, 'u-boot.bin'), Buffer.alloc(100_000, 7));
  fs.writeFileSync(path.join(bootDir, 'boot.scr'), 'stage 1');
  fs.writeFileSync(path.join(bootDir, 'xen', 'boot2.scr'), 'stage 2');
});
afterEach(detachAllLoops);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function capture(): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const io: CliIO = {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    isTTY: false,
    env: { ...process.env, XEN_PI_IMAGER_HOME: home },
    cwd: dir,
    signal: new AbortController().signal,
  };
  return { io, out: () => out, err: () => err };
}

function expectBootFiles(image: string, offset: number): void {
  expect(mtoolsRead(image, offset, 'u-boot.bin').equals(Buffer.alloc(100_000, 7))).toBe(true);
  expect(mtoolsRead(image, offset, 'xen/boot2.scr').toString()).toBe('stage 2');
  const config = mtoolsRead(image, offset, 'config.txt').toString();
  expect(config.startsWith(RPI_OS_CONFIG_TXT)).toBe(true);
  expect(config).toMatch(/^kernel=u-boot\.bin$/m);
}

describe('xen-pi-imager drives', () => {
  it('lists drives as JSON, with system drives only under --all', async () => {
    const plain = capture();
    expect(await runCli(['drives', '--json'], plain.io)).toBe(0);
    const rows = JSON.parse(plain.out()) as { isSystem: boolean; statuses: { code: string }[] }[];
    expect(rows.every((r) => !r.isSystem)).toBe(true);
    const all = capture();
    expect(await runCli(['drives', '--all', '--json'], all.io)).toBe(0);
    const allRows = JSON.parse(all.out()) as { isSystem: boolean; statuses: { code: string }[] }[];
    for (const row of allRows.filter((r) => r.isSystem)) expect(row.statuses.map((s) => s.code)).toContain('system');
  });
});

describe('xen-pi-imager flash', () => {
  it('composes from an .img.xz and writes an image file, printing JSON lines', async () => {
    const out = path.join(dir, 'card.img');
    const cli = capture();
    const status = await runCli(['flash', '--boot-files', bootDir, '--base', baseXz, '--target', out, '--json'], cli.io);
    expect(cli.err()).toBe('');
    expect(status).toBe(0);
    const lines = cli
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; phase?: string; ok?: boolean });
    expect(lines.at(-1)).toMatchObject({ type: 'result', ok: true, flash: { targets: [{ ok: true, verified: true }] } });
    expect(lines.some((l) => l.type === 'progress' && l.phase === 'flashing')).toBe(true);
    expectBootFiles(out, base.boot.offset);
    fsckFat(out, base.boot.offset, base.boot.size, dir);
  });

  it('refuses an image file in a folder that does not exist, and replaces one that exists only with --yes', async () => {
    const missing = capture();
    const nowhere = path.join(dir, 'no-such-folder', 'card.img');
    expect(await runCli(['flash', '--boot-files', bootDir, '--base', base.path, '--target', nowhere], missing.io)).toBe(1);
    expect(missing.err()).toContain(`The folder ${path.dirname(nowhere)} does not exist, so card.img cannot be saved there.`);
    expect(fs.existsSync(path.dirname(nowhere))).toBe(false);
    const existing = path.join(dir, 'mine.img.xz');
    fs.writeFileSync(existing, 'keep me');
    const asked = capture();
    expect(await runCli(['flash', '--boot-files', bootDir, '--base', base.path, '--target', existing], asked.io)).toBe(1);
    expect(asked.err()).toMatch(/mine\.img\.xz already exists \(0 MiB\)\..*\n\s+Add --yes to replace it, or give another file name\./);
    expect(fs.readFileSync(existing, 'utf8')).toBe('keep me');
    const replaced = capture();
    expect(await runCli(['flash', '--boot-files', bootDir, '--base', base.path, '--target', existing, '--yes'], replaced.io)).toBe(0);
    expect(replaced.out()).toContain(`Saved ${existing}, read back and verified`);
  });

  it('asks for --yes before erasing a drive, and explains usage mistakes', async () => {
    const cli = capture();
    expect(await runCli(['flash', '--boot-files', bootDir, '--base', base.path, '--target', '/dev/loop-nonexistent'], cli.io)).toBe(1);
    expect(cli.err()).toMatch(/--yes/);
    const usage = capture();
    expect(await runCli(['flash', '--boot-files', bootDir], usage.io)).toBe(2);
    expect(usage.err()).toMatch(/--target/);
  });

  it.skipIf(!isRoot)('writes a loop-device card as a real child process, then edits it in place', async () => {
    const backing = path.join(dir, 'card-loop.img');
    fs.writeFileSync(backing, '');
    fs.truncateSync(backing, 96 * MiB);
    const loop = attachLoop(backing);
    const cliPath = path.join(process.cwd(), 'electron', 'cli', 'index.ts');
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', cliPath, ...args], {
        env: { ...process.env, XEN_PI_IMAGER_HOME: home },
        cwd: process.cwd(),
      });
    const flashed = await run(['flash', '--boot-files', bootDir, '--base', base.path, '--target', loop.device, '--yes']);
    expect(flashed.stdout).toContain(`${loop.device}: written and verified`);
    expect(flashed.stdout).toContain('+kernel=u-boot.bin');
    expectBootFiles(loop.device, base.boot.offset);
    fsckFat(loop.device, base.boot.offset, base.boot.size, dir);
    fsckExt4(loop.device, base.root.offset, base.root.size, dir);

    fs.writeFileSync(path.join(bootDir, 'boot.scr'), 'stage 1, edited');
    const edited = await run(['flash', '--boot-files', bootDir, '--target', loop.device, '--yes', '--edit-in-place']);
    expect(edited.stdout).toMatch(/boot partition updated .*read back and compared/);
    expect(mtoolsRead(loop.device, base.boot.offset, 'boot.scr').toString()).toBe('stage 1, edited');
    fs.writeFileSync(path.join(bootDir, 'boot.scr'), 'stage 1');
  });
});
