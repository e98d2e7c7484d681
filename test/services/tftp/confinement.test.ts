// The TFTP server stays inside its root: no `..`, no absolute escapes, no symlinks out, no devices, FIFOs or directories.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseName, openConfined, type TftpRefusal } from '../../../electron/services/tftp/files';
import { fetchFile, isRoot, startServer, tempRoot, TftpClientError, type RunningServer } from './helpers';

let base: string;
let root: string;
let running: RunningServer;

beforeAll(async () => {
  base = tempRoot();
  root = path.join(base, 'tftp');
  fs.mkdirSync(path.join(root, 'dtbs'), { recursive: true });
  fs.writeFileSync(path.join(base, 'secret.txt'), 'outside the root');
  fs.mkdirSync(path.join(base, 'private'));
  fs.writeFileSync(path.join(base, 'private', 'key'), 'outside too');
  fs.writeFileSync(path.join(root, 'xen'), 'the hypervisor');
  fs.writeFileSync(path.join(root, 'dtbs', 'bcm2711-rpi-4-b.dtb'), 'a device tree');
  fs.symlinkSync('../secret.txt', path.join(root, 'escape'));
  fs.symlinkSync('/etc/passwd', path.join(root, 'passwd'));
  fs.symlinkSync(path.join(base, 'private'), path.join(root, 'private-dir'));
  fs.symlinkSync('dtbs/bcm2711-rpi-4-b.dtb', path.join(root, 'board.dtb'));
  fs.symlinkSync('/dev/zero', path.join(root, 'zero-link'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  running = await startServer({ root });
});

afterAll(async () => {
  await running.server.close();
  fs.rmSync(base, { recursive: true, force: true });
});

async function refusal(file: string): Promise<number> {
  const error = await fetchFile({ port: running.port, file }).then(
    () => undefined,
    (caught: { code?: number }) => caught,
  );
  expect(error, `${file} was served`).toBeDefined();
  return error!.code ?? -1;
}

describe('names', () => {
  it.each(['../secret.txt', 'dtbs/../../secret.txt', '..\\secret.txt', 'dtbs\\..\\..\\secret.txt', '/../secret.txt', '..'])(
    'refuses %s with error 2',
    async (name) => {
      expect(await refusal(name)).toBe(2);
    },
  );

  it('treats absolute paths as relative to the root (no escape)', async () => {
    expect(await refusal('/etc/passwd')).toBe(1);
    expect(await refusal(path.join(base, 'secret.txt'))).toBe(1);
    expect((await fetchFile({ port: running.port, file: '/xen' })).data.toString()).toBe('the hypervisor');
  });

  it('normalises slashes, backslashes and dots, and refuses parent segments', () => {
    expect(normaliseName('/dtbs//./bcm2711-rpi-4-b.dtb')).toBe('dtbs/bcm2711-rpi-4-b.dtb');
    expect(normaliseName('\\dtbs\\bcm2711-rpi-4-b.dtb')).toBe('dtbs/bcm2711-rpi-4-b.dtb');
    const why = (name: string) => {
      try {
        return normaliseName(name);
      } catch (error) {
        return (error as TftpRefusal).why;
      }
    };
    expect(why('a/../b')).toBe('the name tries to leave the TFTP root (..)');
    expect(why('/')).toBe('the name names no file');
    expect(why('a\nb')).toMatch(/control characters/);
  });
});

describe('what a name may lead to', () => {
  it.each(['escape', 'passwd', 'private-dir/key', 'zero-link'])('refuses the symlink %s that points outside the root', async (name) => {
    expect(await refusal(name)).toBe(2);
  });

  it('follows a symlink that stays inside the root', async () => {
    expect((await fetchFile({ port: running.port, file: 'board.dtb' })).data.toString()).toBe('a device tree');
  });

  it('refuses a FIFO without hanging, and a directory', async () => {
    expect(await refusal('fifo')).toBe(2);
    expect(await refusal('dtbs')).toBe(2);
    expect((await fetchFile({ port: running.port, file: 'xen' })).data.toString()).toBe('the hypervisor');
  });

  it.skipIf(!isRoot)('refuses a device node inside the root (needs root for mknod)', async () => {
    execFileSync('mknod', [path.join(root, 'zero'), 'c', '1', '5']);
    expect(await refusal('zero')).toBe(2);
  });

  it('says which file and why in the error event, without sending local paths to the client', async () => {
    const why = new Promise<string>((resolve) => running.server.once('error', (event) => resolve(event.why)));
    const error = (await fetchFile({ port: running.port, file: 'passwd' }).catch((caught: Error) => caught)) as Error;
    expect(error.message).toBe('Access violation');
    expect(await why).toBe('it leads outside the TFTP root');
  });
});

describe('without /proc (macOS, Windows): the name resolved again after the open', () => {
  it('refuses what leads out, and opens what stays in', async () => {
    const open = (name: string) => openConfined(root, name, { askKernel: false });
    for (const name of ['escape', 'passwd', 'private-dir/key', 'zero-link'])
      await expect(open(name), name).rejects.toMatchObject({ code: 2 });
    await expect(open('fifo')).rejects.toMatchObject({ why: 'not a regular file (a folder, device, FIFO or socket)' });
    const inside = await open('board.dtb');
    expect(inside.size).toBe('a device tree'.length);
    await inside.handle.close();
  });
});

/**
 * Swaps root/race (a real folder) and root/race.swap (a symlink to a folder outside) with
 * renameat2(RENAME_EXCHANGE) in a tight loop, until killed; prints "swapping" once it runs.
 */
const exchanger = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = (os.fsencode(p) for p in sys.argv[1:3])
print("swapping", flush=True)
while True:
    if libc.renameat2(-100, a, -100, b, 2) != 0:
        sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
`;

describe('a folder swapped for a symlink out of the root while requests run', () => {
  it('serves no outside file in 5,000 requests raced by renameat2(RENAME_EXCHANGE)', async () => {
    fs.mkdirSync(path.join(root, 'race'));
    fs.writeFileSync(path.join(root, 'race', 'file'), 'inside');
    fs.mkdirSync(path.join(base, 'outside'));
    fs.writeFileSync(path.join(base, 'outside', 'file'), 'SECRET');
    fs.symlinkSync(path.join(base, 'outside'), path.join(root, 'race.swap'));
    const swapper = spawn('python3', ['-c', exchanger, path.join(root, 'race'), path.join(root, 'race.swap')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const outcomes = { inside: 0, leaked: 0, refused: 0 };
    try {
      await new Promise<void>((resolve, reject) => {
        swapper.stdout.once('data', () => resolve());
        swapper.once('exit', (code) => reject(new Error(`the swapper exited (${code})`)));
      });
      let left = 5_000;
      const worker = async () => {
        while (left-- > 0) {
          const result = await fetchFile({ port: running.port, file: 'race/file' }).then(
            (fetched) => fetched.data.toString(),
            (error: unknown) => {
              if (error instanceof TftpClientError) return 'refused';
              throw error;
            },
          );
          if (result === 'inside') outcomes.inside++;
          else if (result === 'refused') outcomes.refused++;
          else outcomes.leaked++;
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      expect(swapper.exitCode, 'the swapper kept swapping to the end').toBeNull();
    } finally {
      swapper.kill('SIGKILL');
    }
    expect(outcomes.leaked, JSON.stringify(outcomes)).toBe(0);
    // both sides of the race were seen: the swap really happened under the requests
    expect(outcomes.inside).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.inside + outcomes.refused).toBe(5_000);
  }, 120_000);
});
