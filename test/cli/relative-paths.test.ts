// One meaning of a profile: its relative paths name files in its own folder for check, generate, serve, flash and the
// app alike, whatever folder the command runs from (try is run the same way in rpi4-card.test.ts, on a real boot).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../electron/cli/main';
import { createServices } from '../../electron/services';
import { readPartitionTable } from '../../shared/drives/partition-table';
import { defaultProfile, type Profile } from '../../shared/profile';
import { captureIO } from '../helpers/cli';
import { mtoolsRead } from '../helpers/disk-images';
import { fetchFile, freePort, ubootOptions } from '../services/tftp/helpers';
import { arm64Head, cpioHead, dtbHead } from '../shared/boot/fixtures';

let dir: string;
let elsewhere: string;
let kit: string;
/** The profile as the commands are given it: relative to the folder they run from, not to the profile's own. */
const profileArg = path.join('..', 'kit', 'pi4.json');
const home = () => path.join(dir, 'home');
const cli = async (args: string[], signal?: AbortSignal) => {
  const io = captureIO({ env: { ...process.env, XEN_PI_IMAGER_HOME: home() }, cwd: elsewhere, ...(signal && { signal }) });
  const status = runCli(args, io);
  return { status, io };
};

function part(name: string, head: Uint8Array, size: number): string {
  const bytes = Buffer.alloc(size, 0x42);
  bytes.set(head);
  fs.mkdirSync(path.dirname(path.join(kit, name)), { recursive: true });
  fs.writeFileSync(path.join(kit, name), bytes);
  return name;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-relative-'));
  kit = path.join(dir, 'kit');
  elsewhere = path.join(dir, 'elsewhere');
  fs.mkdirSync(elsewhere, { recursive: true });
  // decoys where a wrong rule would look: the working folder and the app's components folder hold other bytes
  for (const wrong of [elsewhere, path.join(home(), 'components')]) {
    fs.mkdirSync(path.join(wrong, 'parts'), { recursive: true });
    fs.writeFileSync(path.join(wrong, 'parts', 'u-boot.bin'), 'not this U-Boot');
  }
  const base = defaultProfile('rpi4');
  const profile: Profile = {
    ...base,
    name: 'Relative kit',
    xen: { ...base.xen, binary: part('parts/xen-4.17-arm64', arm64Head(900_000), 900_000) },
    dom0: {
      ...base.dom0!,
      kernel: part('parts/Image', arm64Head(3_000_000), 3_000_000),
      ramdisk: part('parts/initrd.cpio', cpioHead(), 200_000),
    },
    deviceTree: part('parts/bcm2711-rpi-4-b.dtb', dtbHead(30_000), 30_000),
    ubootBinary: part('parts/u-boot.bin', Uint8Array.from([0x55, 0x42]), 600_000),
    firmware: [part('firmware/start4.elf', Uint8Array.from([1]), 100_000), part('firmware/fixup4.dat', Uint8Array.from([2]), 5_000)],
  };
  fs.writeFileSync(path.join(kit, 'pi4.json'), JSON.stringify(profile, null, 2));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a profile of relative paths, used from another folder', () => {
  it('profile check reads the files next to the profile (their types and sizes checked, none missing)', async () => {
    const { status, io } = await cli(['profile', 'check', profileArg, '--json']);
    expect(io.err).toBe('');
    expect(await status).toBe(0);
    expect(JSON.parse(io.out).problems).toEqual([]);
  });

  it('generate copies the files next to the profile, and its stage 2 loads them', async () => {
    const { status, io } = await cli(['generate', '--profile', profileArg, '--out', 'out']);
    expect(io.err).toBe('');
    expect(await status).toBe(0);
    const out = path.join(elsewhere, 'out');
    expect(fs.readFileSync(path.join(out, 'boot', 'u-boot.bin')).equals(fs.readFileSync(path.join(kit, 'parts', 'u-boot.bin')))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'tftp', 'parts', 'Image')).equals(fs.readFileSync(path.join(kit, 'parts', 'Image')))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'tftp', 'boot2.source'), 'utf8')).toContain('tftpb 0xE00000 parts/Image\n');
  });

  it('serve hands out the files next to the profile', async () => {
    const port = await freePort();
    const controller = new AbortController();
    const { status, io } = await cli(['serve', '--profile', profileArg, '--port', String(port)], controller.signal);
    await vi.waitFor(() => expect(io.out + io.err).toContain('over TFTP on'));
    const xen = await fetchFile({ port, file: 'parts/xen-4.17-arm64', options: ubootOptions(8) });
    expect(xen.data.equals(fs.readFileSync(path.join(kit, 'parts', 'xen-4.17-arm64')))).toBe(true);
    controller.abort();
    expect(await status).toBe(0);
  });

  it('flash puts the U-Boot and firmware next to the profile on the card, not the ones in the working folder', async () => {
    const { status, io } = await cli(['flash', '--profile', profileArg, '--target', 'card.img']);
    expect(io.err).toBe('');
    expect(await status).toBe(0);
    const card = path.join(elsewhere, 'card.img');
    const bytes = new Uint8Array(fs.readFileSync(card));
    const [partition] = readPartitionTable((offset, length) => bytes.subarray(offset, offset + length))!.partitions;
    expect(mtoolsRead(card, partition!.offset, 'u-boot.bin').equals(fs.readFileSync(path.join(kit, 'parts', 'u-boot.bin')))).toBe(true);
    expect(mtoolsRead(card, partition!.offset, 'start4.elf').equals(fs.readFileSync(path.join(kit, 'firmware', 'start4.elf')))).toBe(true);
  });

  it('the app opens the file with the same meaning: its preview loads the very stage 2 generate wrote', async () => {
    const services = createServices({
      transport: 'browser',
      emit: () => undefined,
      openExternal: async () => undefined,
      userDataDir: home(),
    });
    try {
      const opened = await services.openProfileFile(path.join(kit, 'pi4.json'));
      const loaded = await services.profileLoad(opened.id);
      expect(loaded.profile.ubootBinary).toBe(path.join(kit, 'parts', 'u-boot.bin'));
      const preview = await services.bootPreview(loaded.profile);
      expect(preview.problems.filter((p) => p.severity === 'error')).toEqual([]);
      const stage2 = preview.files.find((f) => f.name === 'boot2.source')!;
      // absolute in the app, so the load names are base names: the same files, at the same addresses
      expect((stage2.preview ?? '').replace(/ parts\//g, ' ')).toBe(
        fs.readFileSync(path.join(elsewhere, 'out', 'tftp', 'boot2.source'), 'utf8').replace(/ parts\//g, ' '),
      );
      // and an export names the same files from anywhere
      const exported = JSON.parse(await services.profileExport(opened.id));
      expect(exported.xen.binary).toBe(path.join(kit, 'parts', 'xen-4.17-arm64'));
    } finally {
      await services.dispose();
    }
  });
});
