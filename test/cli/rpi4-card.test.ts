// A Raspberry Pi 4 card from nothing but the app and Debian's archive: fetch-parts --board rpi4, flash a fresh card
// (no base image), and try that very card on QEMU's raspi4b to a Dom0 shell where `xl list` shows Domain-0.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../electron/cli/main';
import { findExecutable } from '../../electron/node/host-tools';
import { readPartitionTable } from '../../shared/drives/partition-table';
import { findNode, getString, parseFdt, walkNodes } from '../../shared/emulator/fdt';
import { captureIO } from '../helpers/cli';
import { fsckFat, mtoolsRead } from '../helpers/disk-images';

const repoRoot = path.resolve(__dirname, '../..');
const cacheDir = process.env.XEN_PI_IMAGER_CACHE ?? path.join(repoRoot, '.cache', 'emulator');
const canFetch =
  process.platform === 'linux' &&
  Boolean(findExecutable('apt-get') && findExecutable('dpkg-deb') && findExecutable('mcopy') && findExecutable('fsck.vfat'));
if (!canFetch) console.warn('Skipping the Pi 4 card tests: they need apt-get, dpkg-deb, mtools and dosfstools (Debian).');

let dir: string;
let profileFile: string;
const io = () =>
  captureIO({ env: { ...process.env, XEN_PI_IMAGER_HOME: path.join(dir, 'home'), XEN_PI_IMAGER_CACHE: cacheDir }, cwd: dir });
const cli = async (...args: string[]) => {
  const captured = io();
  const status = await runCli(args, captured);
  return { status, out: captured.out, err: captured.err };
};

describe.skipIf(!canFetch)('a Pi 4 card from nothing but the app', () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-rpi4-'));
    const fetched = await cli('fetch-parts', '--board', 'rpi4', '--out', path.join(dir, 'parts'));
    expect(fetched.err).toBe('');
    expect(fetched.status).toBe(0);
    profileFile = path.join(dir, 'parts', 'rpi4.json');
  }, 600_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists the Xen versions the archive has for arm64, with their suites', async () => {
    const listed = await cli('fetch-parts', '--list-versions');
    expect(listed.status).toBe(0);
    expect(listed.out).toMatch(/^Xen 4\.\d+ {2}xen-hypervisor-4\.\d+-arm64 \S+ {2}\(.*bookworm.*\)/m);
  });

  it('writes a valid SD-only profile that records each file’s package, version and SHA-256', async () => {
    const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
    expect(profile).toMatchObject({
      board: 'rpi4',
      boot: { mode: 'sd' },
      ubootBinary: 'u-boot.bin',
      deviceTree: 'xen/bcm2711-rpi-4-b.dtb',
    });
    expect(profile.baseImage).toBeUndefined();
    expect(profile.firmware).toEqual(['firmware/start4.elf', 'firmware/fixup4.dat', 'firmware/bcm2711-rpi-4-b.dtb']);
    expect(profile.dom0.kernel).toMatch(/^xen\/vmlinuz-.*-arm64\.gz$/);
    expect(Object.keys(profile.provenance)).toHaveLength(8);
    expect(profile.provenance['u-boot.bin']).toMatchObject({ package: 'u-boot-rpi', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const check = await cli('profile', 'check', profileFile);
    expect(check.out).toContain('valid');
    expect(check.status).toBe(0);
  });

  it('finds no mmc aliases in upstream’s Pi 4 tree, so the SD slot (emmc2) is numbered after the Wi-Fi host: mmc 1, mmcblk1', () => {
    const tree = parseFdt(new Uint8Array(fs.readFileSync(path.join(dir, 'parts', 'xen', 'bcm2711-rpi-4-b.dtb')))).root;
    const aliases = findNode(tree, '/aliases')!.properties.map((p) => p.name);
    expect(aliases.filter((name) => name.startsWith('mmc'))).toEqual([]);
    const hosts = [...walkNodes(tree)]
      .filter((e) => /^mmc@/.test(e.node.name) && getString(e.node, 'status') !== 'disabled')
      .map((e) => e.path);
    expect(hosts).toEqual(['/soc/mmc@7e300000', '/emmc2bus/mmc@7e340000']);
    const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
    expect(profile.boot.mode).toBe('sd'); // so stage 1 loads from distro boot's ${devnum}, not a fixed mmc 0
  });

  it('stores the Dom0 kernel gzip-compressed, the same bytes as the package’s vmlinuz once decompressed', () => {
    const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
    const origin = profile.provenance[profile.dom0.kernel];
    const deb = fs.readdirSync(path.join(cacheDir, 'debian-arm64', 'debs')).find((f) => f.startsWith(`${origin.package}_`))!;
    const unpacked = path.join(dir, 'kernel-deb');
    execFileSync('dpkg-deb', ['-x', path.join(cacheDir, 'debian-arm64', 'debs', deb), unpacked]);
    const vmlinuz = fs.readdirSync(path.join(unpacked, 'boot')).find((f) => f.startsWith('vmlinuz-'))!;
    const gz = fs.readFileSync(path.join(dir, 'parts', profile.dom0.kernel));
    expect(gz.length).toBeLessThan(fs.statSync(path.join(unpacked, 'boot', vmlinuz)).size / 2);
    expect(gunzipSync(gz).equals(fs.readFileSync(path.join(unpacked, 'boot', vmlinuz)))).toBe(true);
  });

  it('flashes a fresh card: fsck-clean FAT32, the firmware byte-identical to raspi-firmware, config.txt with the three lines', async () => {
    const card = path.join(dir, 'card.img');
    const flashed = await cli('flash', '--profile', profileFile, '--target', card);
    expect(flashed.err).toBe('');
    expect(flashed.out).toMatch(/Fresh card: MBR and a \d+ MiB FAT32 image \(no base image\)/);
    expect(flashed.out).toMatch(/card\.img: written and verified/);
    const bytes = new Uint8Array(fs.readFileSync(card));
    const [partition] = readPartitionTable((offset, length) => bytes.subarray(offset, offset + length))!.partitions;
    expect(partition).toMatchObject({ type: '0c', bootable: true });
    const offset = partition!.offset;
    expect(fsckFat(card, offset, partition!.size, dir)).toMatch(/\d+ files/);
    const firmwareDeb = fs.readdirSync(path.join(cacheDir, 'debian-arm64', 'debs')).find((f) => f.startsWith('raspi-firmware_'))!;
    const unpacked = path.join(dir, 'firmware-deb');
    execFileSync('dpkg-deb', ['-x', path.join(cacheDir, 'debian-arm64', 'debs', firmwareDeb), unpacked]);
    for (const name of ['start4.elf', 'fixup4.dat']) {
      expect(mtoolsRead(card, offset, name).equals(fs.readFileSync(path.join(unpacked, 'usr/lib/raspi-firmware', name)))).toBe(true);
    }
    const configTxt = mtoolsRead(card, offset, 'config.txt').toString();
    for (const line of ['arm_64bit=1', 'enable_uart=1', 'kernel=u-boot.bin']) expect(configTxt).toMatch(new RegExp(`^${line}$`, 'm'));
    // the firmware's tree at the root, Xen's in xen/: neither replaces the other
    expect(mtoolsRead(card, offset, 'bcm2711-rpi-4-b.dtb').length).toBeGreaterThan(1000);
    expect(mtoolsRead(card, offset, 'xen/bcm2711-rpi-4-b.dtb').length).toBeGreaterThan(1000);
  }, 120_000);

  it('reports a fetched file whose bytes changed since', async () => {
    const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
    const copy = path.join(dir, 'parts', 'changed.json');
    const xen = path.join(dir, 'parts', profile.xen.binary);
    const original = fs.readFileSync(xen);
    fs.writeFileSync(copy, JSON.stringify(profile));
    try {
      fs.appendFileSync(xen, Buffer.from([0]));
      const check = await cli('profile', 'check', copy);
      expect(check.out).toMatch(/\$\.provenance\["xen\/xen-4\.17-arm64"\].*no longer matches xen-hypervisor-4\.17-arm64/);
    } finally {
      fs.writeFileSync(xen, original);
    }
  });

  it('refuses Dom0 memory that a 1 GB Pi 4 cannot give before any boot', async () => {
    const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
    const tooBig = path.join(dir, 'parts', 'too-big.json');
    fs.writeFileSync(tooBig, JSON.stringify({ ...profile, ramMb: 1024, dom0: { ...profile.dom0, memoryMb: 1024 } }));
    const check = await cli('profile', 'check', tooBig);
    expect(check.status).toBe(1);
    expect(check.out + check.err).toMatch(/\$\.dom0\.memoryMb.*U-Boot declares 960 MiB on a 1 GB Raspberry Pi 4/);
    const tried = await cli('try', '--profile', tooBig, '--timeout', '60');
    expect(tried.status).toBe(1);
    expect(tried.err).toMatch(/dom0\.memoryMb/);
    expect(tried.out).not.toMatch(/Starting .*qemu/);
  });

  it('refuses a trial of Debian’s Xen and kernel swapped, with the reason, before any boot', async () => {
    const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
    const swapped = path.join(dir, 'parts', 'swapped.json');
    fs.writeFileSync(
      swapped,
      JSON.stringify({
        ...profile,
        xen: { ...profile.xen, binary: profile.dom0.kernel },
        dom0: { ...profile.dom0, kernel: profile.xen.binary },
      }),
    );
    const tried = await cli('try', '--profile', swapped, '--timeout', '60');
    expect(tried.status).toBe(1);
    expect(tried.err).toMatch(
      /\$\.xen\.binary: vmlinuz-[^ ]+ is a Linux kernel \(Linux 6\.\d+\.\d+-\d+-arm64\), not Xen.*look swapped: exchange them/,
    );
    expect(tried.err).toMatch(/\$\.dom0\.kernel: xen-4\.17-arm64 is Xen 4\.17, not a Linux kernel/);
    expect(tried.out).not.toMatch(/Starting .*qemu/);
  });

  describe('on the emulated Pi 4', () => {
    it('boots the flashed card to a Dom0 shell where xl list shows Domain-0', async () => {
      // from the folder above the profile's: its relative paths still name the files beside it
      const tried = await cli('try', '--profile', path.relative(dir, profileFile), '--timeout', '180');
      expect(tried.err).toBe('');
      expect(tried.out).toMatch(/QEMU \d+\.\d+\.\d+ with raspi4b/);
      expect(tried.out).toMatch(/with 1\d blocks QEMU does not model disabled \(hvs@7e400000/);
      expect(tried.out).toMatch(/Loaded 1\d\.\d MiB from the SD card/);
      expect(tried.out).toMatch(/xl list shows Domain-0 \(512 MB, 1 vCPU\)/);
      expect(tried.out).toMatch(/^PASS: /m);
      expect(tried.out).toMatch(/^Ran on: QEMU raspi4b, the emulated Raspberry Pi 4$/m);
      expect(tried.out).toMatch(
        /^Not booted from your files:\n {2}- the Raspberry Pi firmware \(start4\.elf, fixup4\.dat\) and config\.txt/m,
      );
      expect(tried.status).toBe(0);
    }, 300_000);

    it('boots Xen with the tree the firmware handed U-Boot when the profile asks for it', async () => {
      const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
      const firmwareTree = path.join(dir, 'parts', 'firmware-tree.json');
      fs.writeFileSync(firmwareTree, JSON.stringify({ ...profile, deviceTreeSource: 'firmware' }));
      const tried = await cli('try', '--profile', firmwareTree, '--timeout', '180', '--json');
      const result = JSON.parse(tried.out);
      expect(result.machine).toBe('raspi4b');
      expect(result.milestones.map((m: { kind: string }) => m.kind)).toContain('xl-list');
      expect(result.ok).toBe(true);
    }, 300_000);

    it('boots a TFTP profile as its SD-only twin, and says so', async () => {
      const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
      const tftp = path.join(dir, 'parts', 'tftp.json');
      fs.writeFileSync(
        tftp,
        JSON.stringify({
          ...profile,
          boot: {
            ...profile.boot,
            mode: 'tftp',
            network: { method: 'static', serverIp: '192.168.1.10', boardIp: '192.168.1.50', netmask: '255.255.255.0' },
          },
        }),
      );
      const tried = await cli('try', '--profile', tftp, '--timeout', '180', '--json');
      const result = JSON.parse(tried.out);
      expect(result.machine).toBe('raspi4b');
      expect(result.changes.join('\n')).toMatch(/SD-only twin/);
      expect(result.milestones.map((m: { kind: string }) => m.kind)).toContain('xl-list');
      expect(result.dom0.failures).toEqual([]); // every module (Xen's, GENET's) loaded, the toolstack started
      expect(result.ok).toBe(true);
    }, 300_000);
  });
});
