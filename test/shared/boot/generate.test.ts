// From a profile to every boot file: names, destinations, stage 1 -> stage 2 link, config.txt, Xen/Dom0 command lines, memory map.
import { describe, expect, it } from 'vitest';
import { dom0CommandLineFor, generateBootFiles, targetName, xenCommandLineFor, type ComponentFacts } from '../../../shared/boot/generate';
import { readScriptImage } from '../../../shared/boot/script-image';
import { defaultProfile, type Profile } from '../../../shared/profile';
import { arm64Head, cpio, dtb, gzipped, kernel } from './fixtures';

const facts = (c: { size: number; head: Uint8Array }): ComponentFacts => ({ size: c.size, head: c.head });
const components: Record<string, ComponentFacts> = {
  'xen-4.17-arm64': facts(kernel('x', 1_000_000)),
  vmlinuz: facts(kernel('v', 20_000_000)),
  'initrd.cpio.gz': facts(cpio('i', 5_000_000)),
  'bcm2711-rpi-4-b.dtb': facts(dtb('d', 1547)),
  'virt.dtb': facts(dtb('d', 1547)),
};

const byName = (files: ReturnType<typeof generateBootFiles>['files']) => Object.fromEntries(files.map((f) => [f.name, f]));

describe('generateBootFiles', () => {
  it('writes stage 1 to the card and stage 2 to the TFTP root for a network-booting Pi 4', () => {
    const result = generateBootFiles(defaultProfile('rpi4'), components, { timestamp: 1_700_000_000 });
    const files = byName(result.files);
    expect(Object.keys(files).sort()).toEqual(['boot.scr', 'boot.source', 'boot2.scr', 'boot2.source', 'config.txt']);
    expect(files['boot.scr']!.destination).toBe('boot-partition');
    expect(files['boot2.scr']!.destination).toBe('tftp-root');
    expect(files['boot.source']!.preview).toBe(
      'setenv serverip 192.168.1.10\nsetenv ipaddr 192.168.1.50\nsetenv netmask 255.255.255.0\n' +
        'setenv tftpblocksize 1468\nsetenv tftpwindowsize 16\nsetenv tftptimeout 1000\ntftpb 0xC00000 boot2.scr\nsource 0xC00000\n',
    );
    const stage1 = readScriptImage(files['boot.scr']!.bytes);
    expect([stage1.loadAddress, stage1.timestamp]).toEqual([0x2400000, 1_700_000_000]);
    expect(readScriptImage(files['boot2.scr']!.bytes)).toMatchObject({ loadAddress: 0xc00000, source: files['boot2.source']!.preview });
    expect(files['config.txt']!.preview).toContain('kernel=u-boot.bin\nenable_uart=1\n');
    expect(result.memoryMap.map((e) => e.role)).toEqual(['dom0-kernel', 'dom0-ramdisk', 'xen', 'device-tree']);
    expect(result.components).toEqual(
      expect.arrayContaining([
        { role: 'xen', field: '$.xen.binary', source: 'xen-4.17-arm64', target: 'xen-4.17-arm64', destination: 'tftp-root' },
        {
          role: 'u-boot',
          field: '$.ubootBinary',
          source: '/usr/lib/u-boot/rpi_4/u-boot.bin',
          target: 'u-boot.bin',
          destination: 'boot-partition',
        },
      ]),
    );
  });

  it('asks U-Boot for windows of 16 and 1468-byte blocks from the built-in server, lock-step from another one', () => {
    const stage1Of = (tftp: Profile['boot']['tftp']) => {
      const profile = defaultProfile('rpi4');
      if (tftp) profile.boot.tftp = tftp;
      return byName(generateBootFiles(profile, components, { timestamp: 0 }).files)['boot.source']!.preview;
    };
    expect(stage1Of(undefined)).toContain(
      'setenv tftpblocksize 1468\nsetenv tftpwindowsize 16\nsetenv tftptimeout 1000\ntftpb 0xC00000 boot2.scr\n',
    );
    expect(stage1Of({ server: 'built-in', windowsize: 1 })).toContain('setenv tftpwindowsize 1\nsetenv tftptimeout 1000\n');
    // another server: U-Boot's own defaults (1468, lock-step), unless the profile names a value
    expect(stage1Of({ server: 'external' })).not.toMatch(/tftpwindowsize|tftpblocksize|tftptimeout/);
    expect(stage1Of({ server: 'external', windowsize: 8 })).toContain('setenv tftpwindowsize 8\ntftpb');
    const sdOnly = defaultProfile('rpi4');
    sdOnly.boot.mode = 'sd';
    expect(byName(generateBootFiles(sdOnly, components, { timestamp: 0 }).files)['boot.source']!.preview).not.toContain('tftp');
  });

  it("places the files after a gzip'd Dom0 kernel by its compressed size (Xen decompresses it elsewhere)", () => {
    const profile = defaultProfile('rpi4');
    profile.dom0!.kernel = 'vmlinuz.gz';
    const compressed = gzipped('vmlinuz.gz', 9_000_000, arm64Head(40_000_000));
    const map = generateBootFiles(profile, { ...components, 'vmlinuz.gz': compressed }, { timestamp: 0 }).memoryMap;
    const [dom0, ramdisk] = map;
    expect(dom0).toMatchObject({ role: 'dom0-kernel', file: 'vmlinuz.gz', size: 9_000_000, span: 9_000_000 });
    // the next 2 MiB boundary after 9 MB, not after the 40 MB the decompressed Image would need
    expect(ramdisk!.address).toBe(dom0!.address + 10 * 0x100000);
  });

  it('builds the Xen command line from the console and Dom0 settings', () => {
    const p = defaultProfile('rpi4');
    expect(xenCommandLineFor(p)).toBe('console=dtuart dtuart=/soc/serial@7e215040 dom0_mem=1024M dom0_max_vcpus=1 bootscrub=0 vwfi=native');
    expect(xenCommandLineFor(p, { series: '4.19', schedulers: ['credit2', 'null'] })).toBe(
      'console=dtuart dtuart=/soc/serial@7e215040 dom0_mem=1024M dom0_max_vcpus=1 bootscrub=0 vwfi=native sched=null',
    );
    const debug: Profile = {
      ...p,
      console: { ...p.console, uart: 'pl011', syncConsole: true, logLevel: 'all', guestLogLevel: 'all' },
      xen: { ...p.xen, extraArgs: 'iommu=no' },
    };
    expect(xenCommandLineFor(debug)).toBe(
      'console=dtuart dtuart=/soc/serial@7e201000 sync_console dom0_mem=1024M dom0_max_vcpus=1 bootscrub=0 vwfi=native loglvl=all guest_loglvl=all iommu=no',
    );
    expect(byName(generateBootFiles(debug, components, { timestamp: 0 }).files)['config.txt']!.preview).toContain('dtoverlay=disable-bt');
    expect(xenCommandLineFor(defaultProfile('qemu-virt'))).toContain('dtuart=/pl011@9000000');
  });

  it('uses the QEMU board addresses, its broadcast TFTP server and no config.txt', () => {
    const result = generateBootFiles(defaultProfile('qemu-virt'), components, { timestamp: 0 });
    const files = byName(result.files);
    expect(files['config.txt']).toBeUndefined();
    expect(files['boot.source']!.preview).toContain('setenv serverip 255.255.255.255\n');
    expect(files['boot.source']!.preview).toContain('tftpb 0x40C00000 boot2.scr\n');
    expect(readScriptImage(files['boot.scr']!.bytes).loadAddress).toBe(0x40200000);
    expect(files['boot2.source']!.preview.split('\n')[0]).toBe('tftpb 0x40E00000 vmlinuz');
  });

  it('puts everything on the card in SD-only mode, loading from the card U-Boot found boot.scr on', () => {
    const p = defaultProfile('rpi4');
    const sd: Profile = {
      ...p,
      boot: { ...p.boot, mode: 'sd', network: undefined },
      dom0: { ...p.dom0!, ramdisk: undefined, rootOnCard: true },
    };
    const result = generateBootFiles(sd, components, { timestamp: 0 });
    const files = byName(result.files);
    // upstream's tree makes the SD slot U-Boot's mmc 1, Raspberry Pi OS's mmc 0: distro boot's devnum says which
    expect(files['boot.source']!.preview).toBe('load mmc ${devnum}:1 0xC00000 boot2.scr\nsource 0xC00000\n');
    expect(files['boot2.source']!.preview.split('\n')[0]).toBe('load mmc ${devnum}:1 0xE00000 vmlinuz');
    expect(files['boot2.scr']!.destination).toBe('boot-partition');
  });

  it('roots Dom0 on the card as upstream Linux names the Pi 4 SD slot, and waits for it (rootwait)', () => {
    const p = defaultProfile('rpi4');
    const sd: Profile = {
      ...p,
      boot: { ...p.boot, mode: 'sd', network: undefined },
      dom0: { ...p.dom0!, ramdisk: undefined, rootOnCard: true },
    };
    expect(generateBootFiles(sd, components, { timestamp: 0 }).stage2.dom0CommandLine).toMatch(/ root=\/dev\/mmcblk1p2 rootwait$/);
    expect(dom0CommandLineFor(sd)).toMatch(/ root=\/dev\/mmcblk1p2 rootwait$/);
    const tftpRoot = generateBootFiles({ ...p, dom0: { ...p.dom0!, rootOnCard: true } }, components, { timestamp: 0 });
    expect(tftpRoot.stage2.dom0CommandLine).toMatch(/ root=\/dev\/mmcblk1p2 rootwait$/);
    // the user's own root= stays, and still gets rootwait; a rootwait already there is not doubled
    const own = generateBootFiles({ ...sd, dom0: { ...sd.dom0!, commandLine: 'console=hvc0 root=PARTUUID=1234abcd-02' } }, components, {
      timestamp: 0,
    });
    expect(own.stage2.dom0CommandLine).toBe('console=hvc0 root=PARTUUID=1234abcd-02 rootwait');
    const waiting = generateBootFiles(
      { ...sd, dom0: { ...sd.dom0!, commandLine: 'console=hvc0 root=/dev/mmcblk1p2 rootwait=5' } },
      components,
      { timestamp: 0 },
    );
    expect(waiting.stage2.dom0CommandLine).toBe('console=hvc0 root=/dev/mmcblk1p2 rootwait=5');
    // a ramdisk root needs no waiting
    expect(generateBootFiles(p, components, { timestamp: 0 }).stage2.dom0CommandLine).not.toContain('rootwait');
    const q = defaultProfile('qemu-virt');
    expect(
      generateBootFiles({ ...q, dom0: { ...q.dom0!, rootOnCard: true } }, components, { timestamp: 0 }).stage2.dom0CommandLine,
    ).toMatch(/root=\/dev\/vda2 rootwait$/);
  });

  it('names the UART for Xen by its device-tree path, which holds when a tree swaps serial0 and serial1', () => {
    const p = defaultProfile('rpi4');
    const text = generateBootFiles(p, components, { timestamp: 0 }).stage2.text;
    expect(text).toContain('xen,xen-bootargs "console=dtuart dtuart=/soc/serial@7e215040 ');
    expect(text).not.toMatch(/dtuart=serial\d/);
  });

  it('carries the console baud rate into config.txt, the one place that sets it, and nowhere it would mislead', () => {
    const p = defaultProfile('rpi4');
    const fast: Profile = { ...p, console: { ...p.console, baud: 230400 } };
    const files = byName(generateBootFiles(fast, components, { timestamp: 0 }).files);
    expect(files['config.txt']!.preview).toContain('\ninit_uart_baud=230400\n');
    // U-Boot skips the Pi UART's set-up and Xen's drivers ignore dtuart options: a rate there would only warn or mislead
    expect(files['boot.source']!.preview).not.toMatch(/baudrate/);
    expect(files['boot2.source']!.preview).not.toMatch(/dtuart=\S+:|115200|230400/);
    // and the files agree whatever the rate: config.txt names exactly the profile's
    for (const baud of [9600, 115200, 921600]) {
      const preview = byName(generateBootFiles({ ...p, console: { ...p.console, baud } }, components, { timestamp: 0 }).files)[
        'config.txt'
      ]!.preview;
      expect(preview.match(/init_uart_baud=(\d+)/g)).toEqual([`init_uart_baud=${baud}`]);
    }
  });

  it('writes enable_gic=1 into the Pi 4 config.txt: Xen drives only the GIC-400', () => {
    expect(byName(generateBootFiles(defaultProfile('rpi4'), components, { timestamp: 0 }).files)['config.txt']!.preview).toContain(
      '\nenable_gic=1\n',
    );
  });

  it('recognises Xen for arm64 by its Image header, EFI stub or not, and keeps its BSS clear of the device tree', () => {
    // upstream ImageBuilder once took such a Xen for 32-bit ARM (it grepped file(1)'s words); the header decides here
    const p = defaultProfile('rpi4');
    const xenWithBss = { ...components, 'xen-4.17-arm64': facts(kernel('x', 983_048, 3_200_000)) };
    const result = generateBootFiles(p, xenWithBss, { timestamp: 0 });
    const xen = result.memoryMap.find((e) => e.role === 'xen')!;
    expect(xen).toMatchObject({ size: 983_048, span: 3_200_000 });
    expect(result.memoryMap.find((e) => e.role === 'device-tree')!.address).toBe(xen.address + 0x400000); // 3.05 MiB rounds up to 4
  });

  it("boots with the firmware's own device tree when asked: copied from ${fdt_addr} into the last slot, no tree file copied", () => {
    const p: Profile = { ...defaultProfile('rpi4'), deviceTreeSource: 'firmware' };
    const result = generateBootFiles(p, components, { timestamp: 0 });
    const text = result.stage2.text;
    expect(text).not.toContain('bcm2711-rpi-4-b.dtb');
    expect(text).toContain('\nfdt addr ${fdt_addr}\nfdt move ${fdt_addr} 0x2A00000 0x100000\nfdt resize 1024\n');
    expect(text.trimEnd().split('\n').pop()).toBe('booti 0x2800000 - 0x2A00000');
    expect(result.memoryMap.at(-1)).toMatchObject({ role: 'device-tree', file: '${fdt_addr}', address: 0x2a00000, size: 0x100000 });
    expect(result.components.map((c) => c.role)).not.toContain('device-tree');
  });

  it('keeps relative paths as load names and reduces absolute ones to their base name, under the prefix', () => {
    expect(targetName('domU1/Image')).toBe('domU1/Image');
    expect(targetName('/usr/lib/linux-image-6.1/broadcom/bcm2711-rpi-4-b.dtb')).toBe('bcm2711-rpi-4-b.dtb');
    expect(targetName('../up/Image')).toBe('Image');
    const p = defaultProfile('rpi4');
    const result = generateBootFiles({ ...p, boot: { ...p.boot, pathPrefix: 'pi' } }, components, { timestamp: 0 });
    expect(byName(result.files)['boot.source']!.preview).toContain('tftpb 0xC00000 pi/boot2.scr\n');
    expect(result.components.find((c) => c.role === 'xen')!.target).toBe('pi/xen-4.17-arm64');
  });

  it('warns about an old Dom0 kernel read from the Image', () => {
    const result = generateBootFiles(
      defaultProfile('rpi4'),
      { ...components, vmlinuz: { ...components.vmlinuz!, linuxVersion: '5.4.0' } },
      { timestamp: 0 },
    );
    expect(result.warnings[0]).toMatch(/older than 5\.9/);
  });
});
