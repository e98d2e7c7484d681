// `xen-pi-imager imagebuilder` behaves like uboot-script-gen: same outputs (mkimage-identical), same two lines, same exit statuses.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../electron/cli/command';
import { runCli } from '../../electron/cli/main';
import { arm64Head } from '../shared/boot/fixtures';

const root = path.resolve(__dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'imagebuilder-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let dir = '';
let counter = 0;

function captureIO(env: Record<string, string> = { SOURCE_DATE_EPOCH: '1700000000' }): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    isTTY: false,
    env,
    cwd: work,
    signal: new AbortController().signal,
  };
  return io;
}

function image(name: string, size: number, imageSize = size): void {
  const bytes = new Uint8Array(size);
  bytes.set(arm64Head(imageSize));
  mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  writeFileSync(path.join(dir, name), bytes);
}

function cpio(name: string): Buffer {
  writeFileSync(path.join(dir, 'init'), '#!/bin/sh\n');
  const archive = execFileSync('sh', ['-c', `cd ${dir} && echo init | cpio -o -H newc 2>/dev/null`]);
  const padded = Buffer.alloc(5_000_000); // the spec's worked-example size; cpio readers stop at the trailer
  archive.copy(padded);
  writeFileSync(path.join(dir, name), padded);
  return padded;
}

function dtb(name: string): void {
  writeFileSync(path.join(dir, 't.dts'), '/dts-v1/;\n/ { chosen { }; };\n');
  execFileSync('dtc', ['-I', 'dts', '-O', 'dtb', '-o', path.join(dir, name), path.join(dir, 't.dts')], { stdio: 'pipe' });
}

const baseConfig = `MEMORY_START="0x0"
MEMORY_END="0x3c000000"
DEVICE_TREE="board.dtb"
XEN="xen"
XEN_CMD="console=dtuart dtuart=serial1 sync_console dom0_mem=1024M"
DOM0_KERNEL="Image"
DOM0_RAMDISK="initrd.cpio"
NUM_DOMUS=0
UBOOT_SOURCE="boot.source"
UBOOT_SCRIPT="boot.scr"
`;

let configs = 0;
function config(text = baseConfig): string {
  const file = path.join(dir, `config${configs++}`);
  writeFileSync(file, text);
  return file;
}

beforeEach(() => {
  dir = path.join(work, `case${counter++}`);
  mkdirSync(dir);
  image('xen', 1_000_000);
  image('Image', 20_000_000);
  cpio('initrd.cpio');
  dtb('board.dtb');
});

async function imagebuilder(args: string[], env?: Record<string, string>) {
  const io = captureIO(env);
  const status = await runCli(['imagebuilder', ...args], io);
  return { status, out: io.out, err: io.err };
}

function mkimageOf(source: string, address: string): Buffer {
  const out = path.join(dir, 'reference.scr');
  execFileSync('mkimage', ['-A', 'arm64', '-T', 'script', '-C', 'none', '-a', address, '-e', address, '-d', source, out], {
    env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' },
    stdio: 'pipe',
  });
  return readFileSync(out);
}

/** A Xen with bytes in it (so the data CRC means something): an arm64 Image header, or a 32-bit arm zImage's magic. */
function xenBinary(name: string, size: number, arch: 'arm64' | 'arm', imageSize = size): string {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7919 + (i >> 8)) & 0xff;
  if (arch === 'arm64') bytes.set(arm64Head(imageSize));
  else bytes.writeUInt32LE(0x016f2818, 0x24); // what `file` calls "Linux kernel ARM boot executable zImage"
  mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  writeFileSync(path.join(dir, name), bytes);
  return path.join(dir, name);
}

/** What the real mkimage writes and prints for ImageBuilder's bootm call, at SOURCE_DATE_EPOCH=1700000000 in UTC. */
function mkimageKernel(arch: string, address: string, xen: string): { image: Buffer; listing: string } {
  const out = path.join(dir, 'reference.ub');
  const listing = execFileSync('mkimage', ['-A', arch, '-T', 'kernel', '-C', 'none', '-a', address, '-e', address, '-d', xen, out], {
    env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000', TZ: 'UTC' },
    encoding: 'utf8',
  });
  return { image: readFileSync(out), listing };
}

describe('imagebuilder command with BOOT_CMD=bootm', () => {
  it('writes xen.ub as mkimage -A arm64 -T kernel does, loads it where Xen goes and boots it with bootm', async () => {
    const xen = xenBinary('xen', 1_000_000, 'arm64');
    const result = await imagebuilder(['-c', config(baseConfig + 'BOOT_CMD="bootm"\n'), '-d', dir, '-t', 'tftp']);
    expect(result.status).toBe(0);
    const reference = mkimageKernel('arm64', '0x2800000', xen);
    expect(result.out).toBe(
      reference.listing + 'Generated uboot script boot.scr, to be loaded at address 0xC00000:\ntftpb 0xC00000 boot.scr; source 0xC00000\n',
    );
    const source = readFileSync(path.join(dir, 'boot.source'), 'utf8').split('\n');
    expect(source.slice(0, 4)).toEqual([
      'tftpb 0xE00000 Image',
      'tftpb 0x2200000 initrd.cpio',
      'tftpb 0x2800000 xen.ub',
      'tftpb 0x2A00000 board.dtb',
    ]);
    expect(source.at(-2)).toBe('bootm 0x2800000 - 0x2A00000');
    const written = readFileSync(path.join(dir, 'xen.ub'));
    expect(written.equals(reference.image)).toBe(true);
    expect(result.err).toBe('');
    const listed = execFileSync('mkimage', ['-l', path.join(dir, 'xen.ub')], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    expect(listed).toContain('Image Type:   AArch64 Linux Kernel Image (uncompressed)\n');
    expect(listed).toContain('Load Address: 02800000\nEntry Point:  02800000\n');
    expect(listed).toContain('Data Size:    1000000 Bytes');
    // the script still tells U-Boot's source the truth
    expect(readFileSync(path.join(dir, 'boot.scr')).equals(mkimageOf(path.join(dir, 'boot.source'), '0xC00000'))).toBe(true);
  });

  it('gives a 32-bit arm Xen arch arm (upstream fixed test), writes <XEN>.ub next to XEN, and keeps room for Xen’s BSS', async () => {
    const xen = xenBinary('real/xen32', 1_000_000, 'arm');
    const text = baseConfig.replace('XEN="xen"', 'XEN="real/xen32"') + 'BOOT_CMD=bootm\n';
    const result = await imagebuilder(['-c', config(text), '-d', dir, '-t', 'sd', '-p', 'boot']);
    expect(result.status).toBe(0);
    const reference = mkimageKernel('arm', '0x2800000', xen);
    expect(readFileSync(path.join(dir, 'real/xen32.ub')).equals(reference.image)).toBe(true);
    expect(result.out).toContain('Image Type:   ARM Linux Kernel Image (uncompressed)\n');
    expect(result.err).toMatch(/warning: real\/xen32 has no arm64 Image header .* a 64-bit U-Boot will not boot it/);
    const source = readFileSync(path.join(dir, 'boot.source'), 'utf8');
    expect(source).toContain('load mmc 0:1 0x2800000 boot/real/xen32.ub\n');
    expect(source).toMatch(/\nbootm 0x2800000 - 0x2A00000\n$/);
    const listed = execFileSync('mkimage', ['-l', path.join(dir, 'real/xen32.ub')], { encoding: 'utf8' });
    expect(listed).toContain('Image Type:   ARM Linux Kernel Image (uncompressed)\n');

    // an arm64 Xen whose image_size passes the 2 MiB step: the tree goes after Xen's BSS, as with booti
    xenBinary('xen', 1_000_000, 'arm64', 3_000_000);
    const big = await imagebuilder(['-c', config(baseConfig + 'BOOT_CMD=bootm\n'), '-d', dir, '-t', 'tftp']);
    expect(big.status).toBe(0);
    expect(readFileSync(path.join(dir, 'boot.source'), 'utf8')).toMatch(
      /\ntftpb 0x2800000 xen.ub\ntftpb 0x2C00000 board.dtb\n[^]*\nbootm 0x2800000 - 0x2C00000\n$/,
    );
  });

  it('still refuses BOOT_CMD=bootefi, naming it', async () => {
    const result = await imagebuilder(['-c', config(baseConfig + 'BOOT_CMD=bootefi\n'), '-d', dir, '-t', 'tftp']);
    expect(result.status).toBe(1);
    expect(result.err).toMatch(/BOOT_CMD="bootefi" is not supported/);
    expect(existsSync(path.join(dir, 'xen.ub'))).toBe(false);
  });
});

describe('imagebuilder command', () => {
  it("writes boot.source and a boot.scr identical to mkimage's, and prints the two lines", async () => {
    const result = await imagebuilder(['-c', config(), '-d', dir, '-t', 'tftp']);
    expect(result.status).toBe(0);
    expect(result.out).toBe(
      'Generated uboot script boot.scr, to be loaded at address 0xC00000:\ntftpb 0xC00000 boot.scr; source 0xC00000\n',
    );
    const source = readFileSync(path.join(dir, 'boot.source'), 'utf8');
    expect(source.split('\n').slice(0, 4)).toEqual([
      'tftpb 0xE00000 Image',
      `tftpb 0x2200000 initrd.cpio`,
      'tftpb 0x2800000 xen',
      'tftpb 0x2A00000 board.dtb',
    ]);
    expect(readFileSync(path.join(dir, 'boot.scr')).equals(mkimageOf(path.join(dir, 'boot.source'), '0xC00000'))).toBe(true);
  });

  it('honours -o, -p and an sd load command, and reads paths through symlinks like realpath', async () => {
    mkdirSync(path.join(dir, 'real'));
    image('real/xen-4.17', 1_000_000);
    rmSync(path.join(dir, 'xen'));
    symlinkSync(path.join(dir, 'real/xen-4.17'), path.join(dir, 'xen'));
    const result = await imagebuilder(['-c', config(), '-d', dir, '-t', 'sd', '-o', 'xen-boot', '-p', 'boot']);
    expect(result.status).toBe(0);
    expect(result.out).toContain('load mmc 0:1 0xC00000 xen-boot.scr; source 0xC00000\n');
    const source = readFileSync(path.join(dir, 'xen-boot.source'), 'utf8');
    expect(source).toContain('load mmc 0:1 0x2800000 boot/real/xen-4.17\n');
    expect(existsSync(path.join(dir, 'xen-boot.scr'))).toBe(true);
  });

  it('counts a gzip ramdisk compressed and checks the cpio inside', async () => {
    const archive = readFileSync(path.join(dir, 'initrd.cpio'));
    writeFileSync(path.join(dir, 'initrd.cpio.gz'), gzipSync(archive));
    const size = readFileSync(path.join(dir, 'initrd.cpio.gz')).length;
    const result = await imagebuilder(['-c', config(baseConfig.replace('initrd.cpio"', 'initrd.cpio.gz"')), '-d', dir, '-t', 'tftp']);
    expect(result.status).toBe(0);
    expect(readFileSync(path.join(dir, 'boot.source'), 'utf8')).toContain(`reg <0x0 0x2200000 0x0 0x${size.toString(16).toUpperCase()} >`);
    writeFileSync(path.join(dir, 'bad.gz'), gzipSync(Buffer.from('just text\n')));
    const wrong = await imagebuilder(['-c', config(baseConfig.replace('initrd.cpio"', 'bad.gz"')), '-d', dir, '-t', 'tftp']);
    expect(wrong).toMatchObject({ status: 1, out: 'Wrong file type bad.gz. It should be cpio archive, exiting.\n' });
  });

  it('appends APPEND_EXTRA_CMDS before booti and generates DomUs', async () => {
    writeFileSync(path.join(dir, 'extra.txt'), 'setenv bootdelay 0\n');
    image('domU/Image', 3_000_000);
    const text = baseConfig + 'APPEND_EXTRA_CMDS="extra.txt"\nNUM_DOMUS=1\nDOMU_KERNEL[0]="domU/Image"\nDOMU_MEM[0]=256\n';
    const result = await imagebuilder(['-c', config(text), '-d', dir, '-t', 'tftp']);
    expect(result.status).toBe(0);
    const source = readFileSync(path.join(dir, 'boot.source'), 'utf8');
    expect(source).toContain('tftpb 0x2800000 domU/Image\n');
    expect(source).toContain('fdt set /chosen/domU0 memory <0 262144>\n');
    expect(source.endsWith('setenv fdt_high 0xffffffffffffffff\nsetenv bootdelay 0\nbooti 0x2C00000 - 0x2E00000\n')).toBe(true);
  });

  it('creates boot-time CPU pools as upstream does: phandles counted down from 0xfffffffe for CPUs without one', async () => {
    // cpu@1 has no phandle (it gets one), cpu@2 has 0xa (kept, written with its 0x); pool 1 has no scheduler
    writeFileSync(
      path.join(dir, 'cpus.dts'),
      `/dts-v1/;
/ { chosen { }; cpus { #address-cells = <1>; #size-cells = <0>;
  cpu@0 { reg = <0>; }; cpu@1 { reg = <1>; }; cpu@2 { reg = <2>; phandle = <0xa>; }; cpu@3 { reg = <3>; }; }; };
`,
    );
    execFileSync('dtc', ['-I', 'dts', '-O', 'dtb', '-o', path.join(dir, 'board.dtb'), path.join(dir, 'cpus.dts')], { stdio: 'pipe' });
    image('domU/Image', 3_000_000);
    const pools = 'NUM_CPUPOOLS=2\nCPUPOOL[0]="cpu@1,cpu@2 null"\nCPUPOOL[1]="cpu@3"\n';
    const domUs = 'NUM_DOMUS=2\nDOMU_KERNEL[0]="domU/Image"\nDOMU_CPUPOOL[0]=0\nDOMU_KERNEL[1]="domU/Image"\nDOMU_CPUPOOL[1]=1\n';
    const result = await imagebuilder(['-c', config(baseConfig + pools + domUs), '-d', dir, '-t', 'tftp']);
    expect(result.err).toBe('');
    expect(result.status).toBe(0);
    const source = readFileSync(path.join(dir, 'boot.source'), 'utf8');
    const poolLines = source.slice(source.indexOf('fdt set /cpus/'), source.indexOf('setenv fdt_high'));
    expect(poolLines).toBe(
      [
        'fdt set /cpus/cpu@1 phandle <0xfffffffe>',
        'fdt mknod /chosen cpupool_0',
        'fdt set /chosen/cpupool_0 phandle <0xfffffffd>',
        'fdt set /chosen/cpupool_0 compatible "xen,cpupool"',
        'fdt set /chosen/cpupool_0 cpupool-cpus < 0xfffffffe 0xa>',
        'fdt set /chosen/cpupool_0 cpupool-sched "null"',
        'fdt set /chosen/domU0 domain-cpupool <0xfffffffd>',
        'fdt set /cpus/cpu@3 phandle <0xfffffffc>',
        'fdt mknod /chosen cpupool_1',
        'fdt set /chosen/cpupool_1 phandle <0xfffffffb>',
        'fdt set /chosen/cpupool_1 compatible "xen,cpupool"',
        'fdt set /chosen/cpupool_1 cpupool-cpus < 0xfffffffc>',
        'fdt set /chosen/domU1 domain-cpupool <0xfffffffb>',
        '',
      ].join('\n'),
    );
    // after every DomU node, so domain-cpupool lands on a node that exists
    expect(source.indexOf('fdt mknod /chosen domU1')).toBeLessThan(source.indexOf('fdt set /cpus/cpu@1'));

    const missing = await imagebuilder([
      '-c',
      config(baseConfig + 'NUM_CPUPOOLS=1\nCPUPOOL[0]="cpu@7 credit2"\n'),
      '-d',
      dir,
      '-t',
      'tftp',
    ]);
    expect({ status: missing.status, out: missing.out }).toEqual({ status: 1, out: '/cpus/cpu@7 does not exist\n' });
    const twice = await imagebuilder([
      '-c',
      config(baseConfig + 'NUM_CPUPOOLS=2\nCPUPOOL[0]="cpu@1"\nCPUPOOL[1]="cpu@1 null"\n'),
      '-d',
      dir,
      '-t',
      'tftp',
    ]);
    expect({ status: twice.status, out: twice.out }).toEqual({ status: 1, out: '/cpus/cpu@1 already assigned to another cpupool\n' });
    expect(existsSync(path.join(dir, 'boot.scr'))).toBe(false);
  });

  it('writes the newer DomU and Xen options, and stops on an invalid DOMU_CAPS as upstream does', async () => {
    image('domU/Image', 3_000_000);
    const domU =
      'NUM_DOMUS=1\nDOMU_KERNEL[0]="domU/Image"\nDOMU_VPL011[0]=0\nDOMU_NR_SPIS[0]=0\nDOMU_GRANT_FRAMES[0]=16\nDOMU_MAPTRACK_FRAMES[0]=256\n' +
      'DOMU_CAPS[0]="hardware|xenstore"\nDOMU_SHARED_MEM[0]="shm0 0x30000000 0x6000000 0x1000000"\nXEN_STATIC_HEAP="0x38000000 0x4000000"\n';
    const result = await imagebuilder(['-c', config(baseConfig + domU), '-d', dir, '-t', 'tftp']);
    expect(result).toMatchObject({ status: 0, err: '' });
    const source = readFileSync(path.join(dir, 'boot.source'), 'utf8');
    const node = source.slice(source.indexOf('fdt set /chosen/domU0 cpus'), source.indexOf('fdt mknod /chosen/domU0 module'));
    expect(node.split('\n')).toEqual([
      'fdt set /chosen/domU0 cpus <1>',
      'fdt set /chosen/domU0 nr_spis <0>',
      'fdt set /chosen/domU0 xen,enhanced "enabled"',
      'fdt set /chosen/domU0 max_grant_frames <16>',
      'fdt set /chosen/domU0 max_maptrack_frames <256>',
      'fdt set /chosen/domU0 capabilities <6>',
      'fdt mknod /chosen/domU0 shared-mem@0x30000000',
      'fdt set /chosen/domU0/shared-mem@0x30000000 compatible "xen,domain-shared-memory-v1"',
      'fdt set /chosen/domU0/shared-mem@0x30000000 xen,shm-id "shm0"',
      'fdt set /chosen/domU0/shared-mem@0x30000000 xen,shared-mem <0x0 0x30000000 0x0 0x6000000 0x0 0x1000000>',
      '',
    ]);
    expect(source).toMatch(/bootargs ""\n/);
    expect(source).toContain('fdt set /chosen xen,static-heap <0x0 0x38000000 0x0 0x4000000>\nsetenv fdt_high');
    expect(readFileSync(path.join(dir, 'boot.scr')).equals(mkimageOf(path.join(dir, 'boot.source'), '0xC00000'))).toBe(true);

    const invalid = await imagebuilder([
      '-c',
      config(baseConfig + domU.replace('hardware|xenstore', 'hardware|root')),
      '-d',
      dir,
      '-t',
      'tftp',
    ]);
    expect({ status: invalid.status, out: invalid.out }).toEqual({ status: 1, out: 'Invalid DOMU_CAPS[0] "hardware|root"\n' });
    expect(invalid.err).toMatch(/Join control, hardware, xenstore, dom0 or none/);
    expect(existsSync(path.join(dir, 'boot.scr'))).toBe(false);
    expect(existsSync(path.join(dir, 'boot.source'))).toBe(false);
    // upstream writes the DomU's node only after every file is checked: a missing file is reported first
    const missing = await imagebuilder([
      '-c',
      config(baseConfig.replace('"xen"', '"nope"') + domU.replace('hardware|xenstore', 'root')),
      '-d',
      dir,
      '-t',
      'tftp',
    ]);
    expect(missing.out).toBe("File nope doesn't exist, exiting\n");
  });

  it('loads XEN_POLICY after Xen and describes it under /chosen as a xen,xsm-policy module', async () => {
    const policy = new Uint8Array(5000);
    const view = new DataView(policy.buffer);
    view.setUint32(0, 0xf97cff8c, true); // SELinux's policy magic, which Xen's FLASK policy carries
    view.setUint32(4, 8, true);
    policy.set(new TextEncoder().encode('XenFlask'), 8);
    writeFileSync(path.join(dir, 'xenpolicy-4.17'), policy);
    const result = await imagebuilder(['-c', config(baseConfig + 'XEN_POLICY="xenpolicy-4.17"\n'), '-d', dir, '-t', 'tftp']);
    expect(result).toMatchObject({ status: 0, err: '' });
    const source = readFileSync(path.join(dir, 'boot.source'), 'utf8').split('\n');
    expect(source.slice(2, 5)).toEqual(['tftpb 0x2800000 xen', 'tftpb 0x2A00000 xenpolicy-4.17', 'tftpb 0x2C00000 board.dtb']);
    const bootargs = source.findIndex((line) => line.startsWith('fdt set /chosen xen,xen-bootargs'));
    expect(source.slice(bootargs + 1, bootargs + 5)).toEqual([
      'fdt mknod /chosen xen-policy@2A00000',
      'fdt set /chosen/xen-policy@2A00000 compatible  "xen,xsm-policy" "xen,multiboot-module" "multiboot,module"',
      'fdt set /chosen/xen-policy@2A00000 reg <0x0 0x2A00000 0x0 0x1388 >',
      'fdt mknod /chosen dom0',
    ]);
    expect(source.at(-2)).toBe('booti 0x2800000 - 0x2C00000');

    const wrong = await imagebuilder(['-c', config(baseConfig + 'XEN_POLICY="initrd.cpio"\n'), '-d', dir, '-t', 'tftp']);
    expect({ status: wrong.status, out: wrong.out }).toEqual({
      status: 1,
      out: 'Wrong file type initrd.cpio. It should be SE Linux policy, exiting.\n',
    });
    const missing = await imagebuilder(['-c', config(baseConfig + 'XEN_POLICY="xenpolicy"\n'), '-d', dir, '-t', 'tftp']);
    expect(missing.out).toBe("File xenpolicy doesn't exist, exiting\n");
  });

  it('loads Xen, Dom0 and each DomU with XEN_LOAD, DOM0_LOAD and DOMU_LOAD[n], and LOAD_CMD (or -t) the rest', async () => {
    image('domU/Image', 3_000_000);
    writeFileSync(path.join(dir, 't.dts'), '/dts-v1/;\n/ { };\n');
    execFileSync('dtc', ['-I', 'dts', '-O', 'dtb', '-o', path.join(dir, 'overlay.dtbo'), path.join(dir, 't.dts')], { stdio: 'pipe' });
    const loads =
      'XEN_LOAD="load mmc 0:1"\nDOM0_LOAD="load mmc 0:2"\nDOM0_ROOTFS="/dev/mmcblk0p3"\nNUM_DT_OVERLAY=1\nDT_OVERLAY[0]="overlay.dtbo"\n' +
      'NUM_DOMUS=2\nDOMU_KERNEL[0]="domU/Image"\nDOMU_LOAD[0]="load usb 0:1"\nDOMU_KERNEL[1]="domU/Image"\n';
    const result = await imagebuilder(['-c', config(baseConfig.replace(/^XEN_CMD=.*\n/m, '') + loads), '-d', dir, '-t', 'tftp']);
    expect(result).toMatchObject({ status: 0, err: '' });
    const source = readFileSync(path.join(dir, 'boot.source'), 'utf8').split('\n');
    expect(source.slice(0, 7)).toEqual([
      'load mmc 0:2 0xE00000 Image',
      'load mmc 0:2 0x2200000 initrd.cpio',
      'load usb 0:1 0x2800000 domU/Image',
      'tftpb 0x2C00000 domU/Image',
      'load mmc 0:1 0x3000000 xen',
      'tftpb 0x3200000 overlay.dtbo',
      'load mmc 0:1 0x3400000 board.dtb',
    ]);
    // Dom0's root partition comes from DOM0_LOAD: the one after the partition it loads from
    expect(source).toContain(
      'fdt set /chosen xen,dom0-bootargs "console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused root=/dev/mmcblk0p3"',
    );
    expect(result.out).toContain('tftpb 0xC00000 boot.scr; source 0xC00000\n');
  });

  it('writes static event channels as upstream’s example shows, numbering phandles before the CPU pools’', async () => {
    writeFileSync(
      path.join(dir, 'cpus.dts'),
      '/dts-v1/;\n/ { chosen { }; cpus { #address-cells = <1>; #size-cells = <0>; cpu@0 { reg = <0>; }; cpu@1 { reg = <1>; }; }; };\n',
    );
    execFileSync('dtc', ['-I', 'dts', '-O', 'dtb', '-o', path.join(dir, 'board.dtb'), path.join(dir, 'cpus.dts')], { stdio: 'pipe' });
    image('domU/Image', 3_000_000);
    const channels =
      'NUM_DOMUS=2\nDOMU_KERNEL[0]="domU/Image"\nDOMU_STATIC_EVTCHNS[0]="10 1 11; 12 1 13"\n' +
      'DOMU_KERNEL[1]="domU/Image"\nDOMU_STATIC_EVTCHNS[1]="11 0 10; 13 0 12"\nNUM_CPUPOOLS=1\nCPUPOOL[0]="cpu@1"\n';
    const result = await imagebuilder(['-c', config(baseConfig + channels), '-d', dir, '-t', 'tftp']);
    expect(result).toMatchObject({ status: 0, err: '' });
    expect(result.out.split('\n').slice(0, 4)).toEqual([
      "Local endpoint '0,10' is assigned phandle '0xfffffffe'",
      "Remote endpoint '1,11' is assigned phandle '0xfffffffd'",
      "Local endpoint '0,12' is assigned phandle '0xfffffffc'",
      "Remote endpoint '1,13' is assigned phandle '0xfffffffb'",
    ]);
    const source = readFileSync(path.join(dir, 'boot.source'), 'utf8');
    const evtchnLines = source.split('\n').filter((line) => line.includes('evtchn'));
    // the example of upstream's commit message, line for line
    expect(evtchnLines).toEqual([
      'fdt mknod /chosen/domU0 evtchn@10',
      'fdt set /chosen/domU0/evtchn@10 phandle <0xfffffffe>',
      'fdt set /chosen/domU0/evtchn@10 compatible "xen,evtchn-v1"',
      'fdt set /chosen/domU0/evtchn@10 xen,evtchn <10 0xfffffffd>',
      'fdt mknod /chosen/domU0 evtchn@12',
      'fdt set /chosen/domU0/evtchn@12 phandle <0xfffffffc>',
      'fdt set /chosen/domU0/evtchn@12 compatible "xen,evtchn-v1"',
      'fdt set /chosen/domU0/evtchn@12 xen,evtchn <12 0xfffffffb>',
      'fdt mknod /chosen/domU1 evtchn@11',
      'fdt set /chosen/domU1/evtchn@11 phandle <0xfffffffd>',
      'fdt set /chosen/domU1/evtchn@11 compatible "xen,evtchn-v1"',
      'fdt set /chosen/domU1/evtchn@11 xen,evtchn <11 0xfffffffe>',
      'fdt mknod /chosen/domU1 evtchn@13',
      'fdt set /chosen/domU1/evtchn@13 phandle <0xfffffffb>',
      'fdt set /chosen/domU1/evtchn@13 compatible "xen,evtchn-v1"',
      'fdt set /chosen/domU1/evtchn@13 xen,evtchn <13 0xfffffffc>',
    ]);
    // the nodes come right before the DomU's kernel module; the pools count on from the channels
    expect(source).toMatch(/xen,evtchn <12 0xfffffffb>\nfdt mknod \/chosen\/domU0 module0x/);
    expect(source).toContain('fdt set /cpus/cpu@1 phandle <0xfffffffa>\n');
    expect(readFileSync(path.join(dir, 'boot.scr')).equals(mkimageOf(path.join(dir, 'boot.source'), '0xC00000'))).toBe(true);

    const malformed = await imagebuilder([
      '-c',
      config(baseConfig + channels.replace('"10 1 11; 12 1 13"', '"10 1 11; 12"')),
      '-d',
      dir,
      '-t',
      'tftp',
    ]);
    expect({ status: malformed.status, out: malformed.out }).toEqual({
      status: 1,
      out: "Local endpoint '0,10' is assigned phandle '0xfffffffe'\nRemote endpoint '1,11' is assigned phandle '0xfffffffd'\nMalformed evtchn definition: ' 12' in DOMU_STATIC_EVTCHNS[0]\n",
    });
    const itself = await imagebuilder(['-c', config(baseConfig + channels.replace('"10 1 11;', '"10 0 10;')), '-d', dir, '-t', 'tftp']);
    expect(itself.out.split('\n').at(-2)).toBe("Invalid evtchn definition: '10 0 10' in DOMU_STATIC_EVTCHNS[0]");
    expect(existsSync(path.join(dir, 'boot.scr'))).toBe(false);
  });

  it('exits 1 on the errors uboot-script-gen exits 1 on, and leaves no outputs behind', async () => {
    const cases: Array<[string, string[], string]> = [
      [
        'missing file',
        ['-c', config(baseConfig.replace('"xen"', '"nope"')), '-d', dir, '-t', 'tftp'],
        "File nope doesn't exist, exiting\n",
      ],
      [
        'wrong type',
        ['-c', config(baseConfig.replace('"board.dtb"', '"initrd.cpio"')), '-d', dir, '-t', 'tftp'],
        'Wrong file type initrd.cpio. It should be Device Tree Blob\\|data, exiting.\n',
      ],
      [
        'not enough memory',
        ['-c', config(baseConfig.replace('0x3c000000', '0x2000000')), '-d', dir, '-t', 'tftp'],
        'Error, not enough memory to load all binaries\n',
      ],
      ['no load command', ['-c', config(), '-d', dir], 'LOAD_CMD not set, either specify it in the config or set it with the -t option\n'],
      ['unknown option', ['-x'], 'Unknown option, see "xen-pi-imager imagebuilder -h"\n'],
      ['missing arguments', ['-c', config()], 'Undefined arguments, see "xen-pi-imager imagebuilder -h"\n'],
    ];
    writeFileSync(path.join(dir, 'boot.scr'), 'stale');
    for (const [what, args, line] of cases) {
      const result = await imagebuilder(args);
      expect({ what, status: result.status, out: result.out }).toEqual({ what, status: 1, out: line });
    }
    expect(existsSync(path.join(dir, 'boot.scr'))).toBe(false);
    const fit = await imagebuilder(['-c', config(baseConfig + 'FIT="boot.fit"\n'), '-d', dir, '-t', 'tftp']);
    expect(fit.status).toBe(1);
    expect(fit.err).toMatch(/FIT images are not supported/);
  });

  it('runs as a real process with the same result', async () => {
    const run = promisify(execFile);
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'electron/cli/index.ts'), 'imagebuilder', '-c', config(), '-d', dir, '-t', 'tftp'],
      {
        cwd: root,
        env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' },
      },
    );
    expect(stdout).toBe('Generated uboot script boot.scr, to be loaded at address 0xC00000:\ntftpb 0xC00000 boot.scr; source 0xC00000\n');
    expect(readFileSync(path.join(dir, 'boot.scr')).equals(mkimageOf(path.join(dir, 'boot.source'), '0xC00000'))).toBe(true);
    const failed = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(root, 'electron/cli/index.ts'),
        'imagebuilder',
        '-c',
        config(baseConfig.replace('"xen"', '"nope"')),
        '-d',
        dir,
        '-t',
        'tftp',
      ],
      { cwd: root },
    ).catch((e) => e);
    expect(failed.code).toBe(1);
  });
});
