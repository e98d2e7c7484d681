// `xen-pi-imager console` on a real pty pair: the built CLI reads a boot from the board's end, prints the timeline as
// JSON lines, exits 0 at Dom0 userspace for a board farm, writes a timestamped log, and on a terminal runs raw until Ctrl-].
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultProfile } from '../../shared/profile';
import { haveSocat, startPtyPair, type PtyPair } from '../helpers/pty-pair';
import { arm64Head, cpioHead, dtbHead } from '../shared/boot/fixtures';
import { fetchFile, freePort, ubootOptions } from '../services/tftp/helpers';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'out', 'cli', 'index.mjs');
const fixture = (name: string) => fs.readFileSync(path.join(root, 'test/shared/emulator/fixtures', `${name}.console.txt`), 'latin1');

function openBoard(pair: PtyPair): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path: pair.board, baudRate: 115200, autoOpen: false, lock: false });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(command: string, args: string[]): Running {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, XEN_PI_IMAGER_HOME: dir } });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { child, out: () => out, err: () => err, exited: new Promise((resolve) => child.on('close', resolve)) };
}

async function until(test: () => boolean, what: string, ms = 10_000): Promise<void> {
  const started = Date.now();
  while (!test()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let dir: string;
let pair: PtyPair;
let board: SerialPort;

beforeAll(() => {
  if (!fs.existsSync(cli)) throw new Error('The CLI is not built: run `node scripts/build.mjs` (npm test does it first).');
});

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-console-'));
  if (!haveSocat) return;
  pair = await startPtyPair(dir);
  board = await openBoard(pair);
});

afterEach(async () => {
  if (haveSocat) {
    await new Promise<void>((resolve) => (board.isOpen ? board.close(() => resolve()) : resolve()));
    await pair.unplug();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveSocat)('xen-pi-imager console', () => {
  it('prints the boot as JSON lines of milestones and exits 0 once Dom0 userspace runs', async () => {
    const log = path.join(dir, 'board.log');
    const cmd = run(process.execPath, [cli, 'console', '--port', pair.adapter, '--json', '--until', 'userspace', '--log', log]);
    // the console is open once its log file exists
    await until(() => fs.existsSync(log), 'the console to open');
    board.write(Buffer.from(fixture('boot-ok'), 'latin1'));
    expect(await cmd.exited).toBe(0);
    const records = cmd
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; entry?: { kind: string; milestone?: { kind: string } } });
    const milestones = records.filter((r) => r.entry?.kind === 'milestone').map((r) => r.entry!.milestone!.kind);
    expect(milestones.slice(0, 4)).toEqual(['uboot', 'boot-script-found', 'card-load', 'stage1']);
    expect(milestones.at(-1)).toBe('dom0-userspace');
    expect(cmd.out()).not.toContain('Hit any key'); // JSON mode leaves the console text out
    const logged = fs.readFileSync(log, 'latin1');
    expect(logged).toMatch(/^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] U-Boot 2023\.01/m);
  });

  it('exits 1 with the diagnosis when the boot fails on the way', async () => {
    const cmd = run(process.execPath, [cli, 'console', '--port', pair.adapter, '--timeline', '--until', 'userspace']);
    await until(() => cmd.err().includes('Connected to'), 'the console to open');
    board.write(Buffer.from(fixture('xenpanic'), 'latin1'));
    expect(await cmd.exited).toBe(1);
    expect(cmd.out()).toContain('(XEN) Xen version'); // the console text itself
    expect(cmd.err()).toMatch(/\[console\] +[\d.]+ s {2}Xen [\d.]+ started/);
    expect(cmd.err()).toMatch(/\[console\] +[\d.]+ s {2}FAIL: Xen panicked/);
  });

  it('sends piped input to the board', async () => {
    const cmd = run(process.execPath, [cli, 'console', '--port', pair.adapter]);
    await until(() => cmd.err().includes('Connected to'), 'the console to open');
    const typed: Buffer[] = [];
    board.on('data', (bytes: Buffer) => typed.push(bytes));
    cmd.child.stdin.write('version\r');
    await until(() => Buffer.concat(typed).toString() === 'version\r', 'the keystrokes at the board');
    cmd.child.kill('SIGINT');
    expect(await cmd.exited).toBe(0);
    expect(cmd.err()).toContain(`Closed ${pair.adapter}.`);
  });

  it('on a terminal: raw keystrokes (Ctrl-C included) go to the board, and Ctrl-] quits', async () => {
    // `script` gives the CLI a real terminal as stdin and stdout
    const cmd = run('script', ['-qfec', `"${process.execPath}" "${cli}" console --port "${pair.adapter}"`, '/dev/null']);
    await until(() => cmd.out().includes('Ctrl-] quits'), 'the console on a terminal');
    const typed: Buffer[] = [];
    board.on('data', (bytes: Buffer) => typed.push(bytes));
    board.write('=> ');
    await until(() => cmd.out().includes('=> '), 'the prompt on the terminal');
    cmd.child.stdin.write('v\x03');
    await until(() => Buffer.concat(typed).equals(Buffer.from('v\x03')), 'raw keystrokes at the board');
    cmd.child.stdin.write('\x1d');
    expect(await cmd.exited).toBe(0);
    expect(cmd.out()).toContain(`Closed ${pair.adapter}.`);
  });

  it('with --serve, serves the profile over TFTP and puts each transfer on the timeline beside the milestones', async () => {
    const profile = defaultProfile('qemu-virt');
    const part = (name: string, head: Uint8Array, size: number) => {
      const bytes = Buffer.alloc(size, 0x5a);
      bytes.set(head);
      fs.writeFileSync(path.join(dir, name), bytes);
      return name;
    };
    profile.xen.binary = part('xen', arm64Head(900_000), 900_000);
    profile.dom0 = {
      ...profile.dom0!,
      kernel: part('Image', arm64Head(2_000_000), 2_000_000),
      ramdisk: part('initrd', cpioHead(), 300_000),
    };
    profile.deviceTree = part('virt.dtb', dtbHead(20_000), 20_000);
    profile.console.baud = 230400;
    fs.writeFileSync(path.join(dir, 'board.json'), JSON.stringify(profile));
    const port = await freePort();
    const profileFile = path.join(dir, 'board.json');
    const args = ['console', '--port', pair.adapter, '--serve', profileFile, '--address', '127.0.0.1', '--tftp-port', String(port)];
    const cmd = run(process.execPath, [cli, ...args, '--json', '--until', 'userspace']);
    await until(() => cmd.err().includes('over TFTP on 127.0.0.1'), 'the server to listen');
    // the board's U-Boot fetches stage 2 and the kernel, then boots
    const stage2 = await fetchFile({ port, file: 'boot2.scr', options: ubootOptions() });
    expect(stage2.data.readUInt32BE(0)).toBe(0x27051956);
    await fetchFile({ port, file: 'Image', options: ubootOptions(16) });
    board.write(Buffer.from(fixture('boot-ok'), 'latin1'));
    expect(await cmd.exited).toBe(0);
    const entries = cmd
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; entry?: { kind: string; file?: string; label?: string } })
      .filter((r) => r.type === 'timeline')
      .map((r) => r.entry!);
    const transfers = entries.filter((e) => e.kind === 'transfer');
    expect(transfers.map((e) => e.file)).toEqual(expect.arrayContaining(['boot2.scr', 'Image']));
    expect(transfers.find((e) => e.file === 'Image')!.label).toMatch(/Image/);
    expect(entries.some((e) => e.kind === 'milestone')).toBe(true);
    expect(cmd.out()).toContain('at 230400 8N1'); // the profile's baud rate, --baud not given
  });

  it('says which port is missing and how to pick one', async () => {
    const cmd = run(process.execPath, [cli, 'console', '--port', path.join(dir, 'ttyUSB7')]);
    expect(await cmd.exited).toBe(1);
    expect(cmd.err()).toContain(`There is no serial port at ${path.join(dir, 'ttyUSB7')}.`);
    const bad = run(process.execPath, [cli, 'console', '--port', pair.adapter, '--until', 'login']);
    expect(await bad.exited).toBe(2);
    expect(bad.err()).toContain('--until takes "userspace"');
    const stray = run(process.execPath, [cli, 'console', '--port', pair.adapter, '--tftp-port', '6969']);
    expect(await stray.exited).toBe(2);
    expect(stray.err()).toContain('--address and --tftp-port go with --serve PROFILE.');
  });
});
