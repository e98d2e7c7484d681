// `xen-pi-imager serve`: serves a folder or a profile's boot files over TFTP, logs transfers, stops cleanly on Ctrl-C.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CliIO } from '../../electron/cli/command';
import { runCli } from '../../electron/cli/main';
import { defaultProfile } from '../../shared/profile';
import { arm64Head, cpioHead, dtbHead } from '../shared/boot/fixtures';
import { fetchFile, freePort, tempRoot, ubootOptions } from '../services/tftp/helpers';

const appRoot = path.resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = tempRoot('xpi-serve-');
  fs.mkdirSync(path.join(dir, 'root'));
  fs.writeFileSync(path.join(dir, 'root', 'boot2.scr'), 'stage two');
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function captureIO(signal: AbortSignal): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
    isTTY: false,
    env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'config') },
    cwd: dir,
    signal,
  };
  return io;
}

/** A file that starts with `head` and is `size` bytes long. */
function component(name: string, head: Uint8Array, size: number): string {
  const bytes = Buffer.alloc(size, 0x5a);
  bytes.set(head);
  fs.writeFileSync(path.join(dir, name), bytes);
  return path.join(dir, name);
}

describe('xen-pi-imager serve', () => {
  it('serves --root until the signal fires, logging requests, transfers and errors', async () => {
    const port = await freePort();
    const controller = new AbortController();
    const io = captureIO(controller.signal);
    const status = runCli(['serve', '--root', 'root', '--port', String(port)], io);
    await vi.waitFor(() => expect(io.out).toContain(`over TFTP on 127.0.0.1:${port}`));
    expect((await fetchFile({ port, file: '/boot2.scr', options: ubootOptions() })).data.toString()).toBe('stage two');
    await expect(fetchFile({ port, file: 'xen' })).rejects.toMatchObject({ code: 1 });
    await vi.waitFor(() => expect(io.err).toMatch(/cannot have xen: not in the TFTP root/));
    controller.abort();
    expect(await status).toBe(0);
    expect(io.out).toMatch(/127\.0\.0\.1:\d+ asks for \/boot2\.scr \(timeout 5, tsize 0, blksize 1468\)/);
    expect(io.out).toMatch(/got \/boot2\.scr: 9 bytes in/);
    expect(io.out).toContain('TFTP server stopped.');
  });

  it('serves a TFTP-mode profile: the generated stage 2 from memory and the files it names', async () => {
    const profile = defaultProfile('qemu-virt');
    profile.xen.binary = component('xen', arm64Head(900_000), 900_000);
    profile.dom0 = {
      ...profile.dom0!,
      kernel: component('vmlinuz', arm64Head(2_000_000), 2_000_000),
      ramdisk: component('initrd.cpio', cpioHead(), 300_000),
    };
    profile.deviceTree = component('virt.dtb', dtbHead(20_000), 20_000);
    fs.writeFileSync(path.join(dir, 'qemu.json'), JSON.stringify(profile));
    const port = await freePort();
    const controller = new AbortController();
    const io = captureIO(controller.signal);
    const status = runCli(['serve', '--profile', 'qemu.json', '--port', String(port)], io);
    await vi.waitFor(() => expect(io.out + io.err).toContain('over TFTP on'));
    const stage2 = await fetchFile({ port, file: 'boot2.scr', options: ubootOptions() });
    expect(stage2.data.readUInt32BE(0)).toBe(0x27051956); // a U-Boot script image
    expect(stage2.data.toString('latin1')).toContain('xen');
    const kernel = await fetchFile({ port, file: 'vmlinuz', options: ubootOptions(8) });
    expect(kernel.data.equals(fs.readFileSync(path.join(dir, 'vmlinuz')))).toBe(true);
    controller.abort();
    expect(await status).toBe(0);
  });

  it('reads a profile file’s relative paths next to the profile, as generate and try do', async () => {
    // the profile sits in its own folder with its parts; serve runs from elsewhere, with an empty components folder
    const folder = path.join(dir, 'kit');
    fs.mkdirSync(path.join(folder, 'parts'), { recursive: true });
    const part = (name: string, head: Uint8Array, size: number) => {
      const bytes = Buffer.alloc(size, 0x3c);
      bytes.set(head);
      fs.writeFileSync(path.join(folder, 'parts', name), bytes);
      return `parts/${name}`;
    };
    const profile = defaultProfile('qemu-virt');
    profile.xen.binary = part('xen', arm64Head(700_000), 700_000);
    profile.dom0 = {
      ...profile.dom0!,
      kernel: part('Image', arm64Head(1_500_000), 1_500_000),
      ramdisk: part('rootfs.cpio', cpioHead(), 100_000),
    };
    profile.deviceTree = part('board.dtb', dtbHead(10_000), 10_000);
    fs.writeFileSync(path.join(folder, 'relative.json'), JSON.stringify(profile));
    const port = await freePort();
    const controller = new AbortController();
    const io = captureIO(controller.signal);
    const status = runCli(['serve', '--profile', 'kit/relative.json', '--port', String(port)], io);
    await vi.waitFor(() => expect(io.out + io.err).toMatch(/over TFTP on|error/i));
    expect(io.err).toBe('');
    expect(io.out).toContain('parts/Image'); // a relative name keeps its folder in the TFTP namespace
    const kernel = await fetchFile({ port, file: 'parts/Image', options: ubootOptions() });
    expect(kernel.data.equals(fs.readFileSync(path.join(folder, 'parts', 'Image')))).toBe(true);
    controller.abort();
    expect(await status).toBe(0);

    // a part that is not next to the profile is named before anything is served
    fs.rmSync(path.join(folder, 'parts', 'rootfs.cpio'));
    const failing = captureIO(new AbortController().signal);
    expect(await runCli(['serve', '--profile', 'kit/relative.json', '--port', String(await freePort())], failing)).toBe(1);
    expect(failing.err).toContain(`parts/rootfs.cpio (${path.join(folder, 'parts', 'rootfs.cpio')})`);
  });

  it('refuses bad usage with exit 2', async () => {
    const io = captureIO(new AbortController().signal);
    expect(await runCli(['serve'], io)).toBe(2);
    expect(io.err).toContain('Give exactly one of --root DIR or --profile FILE.');
    expect(await runCli(['serve', '--root', 'root', '--port', '70000'], io)).toBe(2);
    expect(await runCli(['serve', '--root', 'root', '--address', 'eth0'], io)).toBe(2);
    expect(await runCli(['serve', '--root', 'nowhere'], io)).toBe(1);
    expect(io.err).toContain('is not a folder.');
  });

  it('says what to do when the port is taken (exit 1)', async () => {
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(0, '127.0.0.1', () => resolve()));
    const io = captureIO(new AbortController().signal);
    expect(await runCli(['serve', '--root', 'root', '--port', String(squatter.address().port)], io)).toBe(1);
    squatter.close();
    expect(io.err).toMatch(/another TFTP server .*\n\s+Stop it first/);
  });

  it('runs as a real process and exits 0 on Ctrl-C (SIGINT)', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'electron/cli/index.ts', 'serve', '--root', path.join(dir, 'root'), '--port', String(port)],
      {
        cwd: appRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await vi.waitFor(() => expect(out).toContain('Press Ctrl-C to stop.'), { timeout: 20_000 });
      expect((await fetchFile({ port, file: 'boot2.scr' })).data.toString()).toBe('stage two');
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toContain('TFTP server stopped.');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
