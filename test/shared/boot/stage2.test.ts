// Stage 2 as ImageBuilder 2023.2 writes it: addresses, text quirks, DomUs, dom0less, overlays, and every refusal.
import { describe, expect, it } from 'vitest';
import { generateStage2, removeDom0Words, type Stage2Input } from '../../../shared/boot/stage2';
import { ImagerError } from '../../../shared/errors';
import { cpio, cpioHead, data, dtb, gzipped, kernel, text } from './fixtures';

const MiB = 1024 * 1024;

const workedExample = (): Stage2Input => ({
  memoryStart: 0,
  memoryEnd: 0x3c000000,
  loadCommand: 'tftpb',
  xen: kernel('xen', 1_000_000),
  xenCommandLine: 'console=dtuart dtuart=serial1 sync_console dom0_mem=1024M',
  dom0: { kernel: kernel('Image', 20_000_000), ramdisk: cpio('initrd.cpio', 5_000_000) },
  deviceTree: dtb('bcm2711-rpi-4-b.dtb', 1547),
});

function failure(input: Stage2Input): ImagerError {
  try {
    generateStage2(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ImagerError);
    return error as ImagerError;
  }
  throw new Error('expected generateStage2 to refuse');
}

describe('stage 2 (ImageBuilder 2023.2, non-FIT)', () => {
  it('reproduces the worked example of the spec line for line', () => {
    const result = generateStage2(workedExample());
    expect(result.text).toBe(
      [
        'tftpb 0xE00000 Image',
        'tftpb 0x2200000 initrd.cpio',
        'tftpb 0x2800000 xen',
        'tftpb 0x2A00000 bcm2711-rpi-4-b.dtb',
        'fdt addr 0x2A00000',
        'fdt resize 1024',
        'fdt set /chosen \\#address-cells <0x2>',
        'fdt set /chosen \\#size-cells <0x2>',
        'fdt set /chosen xen,xen-bootargs "console=dtuart dtuart=serial1 sync_console dom0_mem=1024M"',
        'fdt mknod /chosen dom0',
        'fdt set /chosen/dom0 compatible  "xen,linux-zimage" "xen,multiboot-module" "multiboot,module"',
        'fdt set /chosen/dom0 reg <0x0 0xE00000 0x0 0x1312D00 >',
        'fdt set /chosen xen,dom0-bootargs "console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused root=/dev/ram0"',
        'fdt mknod /chosen dom0-ramdisk',
        'fdt set /chosen/dom0-ramdisk compatible  "xen,linux-initrd" "xen,multiboot-module" "multiboot,module"',
        'fdt set /chosen/dom0-ramdisk reg <0x0 0x2200000 0x0 0x4C4B40 >',
        'setenv fdt_high 0xffffffffffffffff',
        'booti 0x2800000 - 0x2A00000',
        '',
      ].join('\n'),
    );
    expect(result.scriptAddress).toBe(0xc00000);
    expect(result.memoryMap.map((e) => [e.role, e.address, e.size, e.end])).toEqual([
      ['dom0-kernel', 0xe00000, 20_000_000, 0xe00000 + 20_000_000],
      ['dom0-ramdisk', 0x2200000, 5_000_000, 0x2200000 + 5_000_000],
      ['xen', 0x2800000, 1_000_000, 0x2800000 + 1_000_000],
      ['device-tree', 0x2a00000, 1547, 0x2a00000 + 1547],
    ]);
  });

  it('puts the script 2 MiB above the start of RAM but never below 12 MiB, unless the board says where', () => {
    expect(generateStage2({ ...workedExample(), memoryStart: 0x40000000, memoryEnd: 0xc0000000 }).scriptAddress).toBe(0x40200000);
    expect(generateStage2({ ...workedExample(), memoryStart: 0x1000000 }).scriptAddress).toBe(0x1200000);
    const qemu = generateStage2({ ...workedExample(), memoryStart: 0x40000000, memoryEnd: 0xc0000000, scriptAddress: 0x40c00000 });
    expect(qemu.scriptAddress).toBe(0x40c00000);
    expect(qemu.text.split('\n')[0]).toBe('tftpb 0x40E00000 Image');
  });

  it('leaves no gap after a size that is an exact multiple of 2 MiB, and rounds up one byte more', () => {
    const at = (size: number) => generateStage2({ ...workedExample(), dom0: { kernel: kernel('Image', size) } }).memoryMap[1]!.address;
    expect(at(2 * MiB)).toBe(0xe00000 + 2 * MiB);
    expect(at(2 * MiB + 1)).toBe(0xe00000 + 4 * MiB);
    expect(at(1)).toBe(0xe00000 + 2 * MiB);
    expect(at(4 * MiB - 1)).toBe(0xe00000 + 4 * MiB);
  });

  it('reserves the arm64 header image_size (BSS) when it exceeds the file, but writes the file size in reg', () => {
    const result = generateStage2({ ...workedExample(), dom0: { kernel: kernel('Image', 3 * MiB, 9 * MiB + 5) } });
    expect(result.memoryMap[0]).toMatchObject({ size: 3 * MiB, span: 9 * MiB + 5 });
    expect(result.memoryMap[1]!.address).toBe(0xe00000 + 10 * MiB);
    expect(result.text).toContain('fdt set /chosen/dom0 reg <0x0 0xE00000 0x0 0x300000 >');
  });

  it("accepts an exact memory fit and refuses one byte more with ImageBuilder's exit status", () => {
    const base = workedExample(); // the DTB ends below 0x2C00000; the check keeps 2 MiB spare after it
    expect(() => generateStage2({ ...base, memoryEnd: 0x2e00000 })).not.toThrow();
    const error = failure({ ...base, memoryEnd: 0x2e00000 - 1 });
    expect(error.code).toBe('NOT_ENOUGH_MEMORY');
    expect(error.details).toMatchObject({ exitStatus: 1, imageBuilderMessage: 'Error, not enough memory to load all binaries' });
  });

  it('counts a gzip ramdisk by its compressed size and checks the cpio inside', () => {
    const result = generateStage2({
      ...workedExample(),
      dom0: { kernel: kernel('Image', MiB), ramdisk: gzipped('initrd.cpio.gz', 777, cpioHead()) },
    });
    expect(result.memoryMap[1]).toMatchObject({ role: 'dom0-ramdisk', size: 777 });
    expect(result.text).toContain('reg <0x0 0x1000000 0x0 0x309 >');
    const wrong = failure({
      ...workedExample(),
      dom0: { kernel: kernel('Image', MiB), ramdisk: gzipped('initrd.gz', 777, new TextEncoder().encode('hello')) },
    });
    expect(wrong.code).toBe('WRONG_FILE_TYPE');
    expect(wrong.details?.imageBuilderMessage).toBe('Wrong file type initrd.gz. It should be cpio archive, exiting.');
  });

  it('rejects files of the wrong type the way `file | grep` would, and lets unknown data through', () => {
    expect(failure({ ...workedExample(), xen: dtb('xen', 100) }).details?.imageBuilderMessage).toBe(
      'Wrong file type xen. It should be executable\\|data, exiting.',
    );
    expect(failure({ ...workedExample(), deviceTree: text('board.dtb', 'not a tree\n') }).subject).toBe('device-tree');
    expect(failure({ ...workedExample(), dom0: { kernel: kernel('Image', MiB), ramdisk: kernel('initrd', MiB) } }).subject).toBe(
      'dom0-ramdisk',
    );
    expect(() => generateStage2({ ...workedExample(), xen: data('xen', 900_000), deviceTree: data('x.dtb', 100) })).not.toThrow();
  });

  it('checks in load order, so the first wrong file is the one reported', () => {
    const error = failure({ ...workedExample(), dom0: { kernel: text('Image', 'oops\n') }, deviceTree: text('b.dtb', 'x\n') });
    expect(error.subject).toBe('dom0-kernel');
  });

  it('writes dom0less DomUs with their modules, defaults and options', () => {
    const result = generateStage2({
      ...workedExample(),
      dom0: { kernel: kernel('Image', MiB) },
      domUs: [
        {
          kernel: kernel('domU0/Image', MiB),
          ramdisk: cpio('domU0/rootfs.cpio', 1000),
          passthroughDtb: dtb('domU0/pass.dtb', 300),
          memoryMb: 256,
          vcpus: 2,
          commandLine: 'console=ttyAMA0 root=/dev/ram0',
        },
        { kernel: kernel('domU1/Image', MiB), staticMemory: [{ base: 0x30000000, size: 0x10000000 }], colors: '4-7', viommu: true },
      ],
    });
    const lines = result.text.split('\n');
    expect(lines.slice(0, 7)).toEqual([
      'tftpb 0xE00000 Image',
      'tftpb 0x1000000 domU0/Image',
      'tftpb 0x1200000 domU0/rootfs.cpio',
      'tftpb 0x1400000 domU0/pass.dtb',
      'tftpb 0x1600000 domU1/Image',
      'tftpb 0x1800000 xen',
      'tftpb 0x1A00000 bcm2711-rpi-4-b.dtb',
    ]);
    const domUs = lines.slice(lines.indexOf('fdt mknod /chosen domU0'), lines.indexOf('setenv fdt_high 0xffffffffffffffff'));
    expect(domUs).toEqual([
      'fdt mknod /chosen domU0',
      'fdt set /chosen/domU0 compatible "xen,domain"',
      'fdt set /chosen/domU0 \\#address-cells <0x2>',
      'fdt set /chosen/domU0 \\#size-cells <0x2>',
      'fdt set /chosen/domU0 memory <0 262144>',
      'fdt set /chosen/domU0 cpus <2>',
      'fdt set /chosen/domU0 vpl011',
      'fdt set /chosen/domU0 xen,enhanced "enabled"',
      'fdt mknod /chosen/domU0 module0x1000000',
      'fdt set /chosen/domU0/module0x1000000 compatible  "multiboot,kernel" "multiboot,module"',
      'fdt set /chosen/domU0/module0x1000000 reg <0x0 0x1000000 0x0 0x100000 >',
      'fdt set /chosen/domU0/module0x1000000 bootargs "console=ttyAMA0 root=/dev/ram0"',
      'fdt mknod /chosen/domU0 module0x1200000',
      'fdt set /chosen/domU0/module0x1200000 compatible  "multiboot,ramdisk" "multiboot,module"',
      'fdt set /chosen/domU0/module0x1200000 reg <0x0 0x1200000 0x0 0x3E8 >',
      'fdt mknod /chosen/domU0 module0x1400000',
      'fdt set /chosen/domU0/module0x1400000 compatible  "multiboot,device-tree" "multiboot,module"',
      'fdt set /chosen/domU0/module0x1400000 reg <0x0 0x1400000 0x0 0x12C >',
      'fdt mknod /chosen domU1',
      'fdt set /chosen/domU1 compatible "xen,domain"',
      'fdt set /chosen/domU1 \\#address-cells <0x2>',
      'fdt set /chosen/domU1 \\#size-cells <0x2>',
      'fdt set /chosen/domU1 memory <0 262144>',
      'fdt set /chosen/domU1 cpus <1>',
      'fdt set /chosen/domU1 \\#xen,static-mem-address-cells <0x2>',
      'fdt set /chosen/domU1 \\#xen,static-mem-size-cells <0x2>',
      'fdt set /chosen/domU1 xen,static-mem <0x0 0x30000000 0x0 0x10000000>',
      'fdt set /chosen/domU1 direct-map',
      'fdt set /chosen/domU1 vpl011',
      'fdt set /chosen/domU1 xen,enhanced "enabled"',
      'fdt set /chosen/domU1 colors <0xf0>',
      'fdt set /chosen/domU1 viommu "smmuv3"',
      'fdt mknod /chosen/domU1 module0x1600000',
      'fdt set /chosen/domU1/module0x1600000 compatible  "multiboot,kernel" "multiboot,module"',
      'fdt set /chosen/domU1/module0x1600000 reg <0x0 0x1600000 0x0 0x100000 >',
      'fdt set /chosen/domU1/module0x1600000 bootargs "console=ttyAMA0"',
    ]);
  });

  it('defaults a DomU to 512 MB and one vCPU', () => {
    const result = generateStage2({ ...workedExample(), domUs: [{ kernel: kernel('d/Image', MiB) }] });
    expect(result.text).toContain('fdt set /chosen/domU0 memory <0 524288>\n');
    expect(result.text).toContain('fdt set /chosen/domU0 cpus <1>\n');
  });

  it('boots true dom0less: no Dom0 node, no xen,enhanced, and Dom0 words cut from the Xen command line', () => {
    const result = generateStage2({
      ...workedExample(),
      dom0: undefined,
      xenCommandLine: undefined,
      domUs: [{ kernel: kernel('d/Image', MiB) }],
    });
    expect(result.xenCommandLine).toBe('console=dtuart dtuart=serial0   bootscrub=0 vwfi=native sched=null');
    expect(result.text).not.toContain('dom0');
    expect(result.text).not.toContain('xen,enhanced');
    expect(result.notices).toEqual(['Dom0 kernel is not specified, continue with dom0less setup.']);
    expect(result.text.split('\n')[0]).toBe('tftpb 0xE00000 d/Image');
    expect(removeDom0Words('a  dom0_mem=1G  b xdom0=1')).toBe('a  b x');
  });

  it('writes the default Xen command line with its three optional words (trailing spaces when empty)', () => {
    const result = generateStage2({ ...workedExample(), xenCommandLine: undefined });
    expect(result.text).toContain(
      'xen,xen-bootargs "console=dtuart dtuart=serial0 dom0_mem=1500M dom0_max_vcpus=1 bootscrub=0 vwfi=native sched=null   "',
    );
    const sized = generateStage2({ ...workedExample(), xenCommandLine: '', dom0MemoryMb: 800, dom0Vcpus: 2, dom0Colors: '1-3' });
    expect(sized.xenCommandLine).toBe(
      'console=dtuart dtuart=serial0 dom0_mem=800M dom0_max_vcpus=2 bootscrub=0 vwfi=native sched=null  dom0_colors=1-3 ',
    );
  });

  it('applies the root= rules to the Dom0 command line', () => {
    const cmd = (dom0: Partial<NonNullable<Stage2Input['dom0']>>, loadCommand = 'tftpb') =>
      generateStage2({ ...workedExample(), loadCommand, dom0: { kernel: kernel('Image', MiB), ...dom0 } }).dom0CommandLine;
    expect(cmd({ commandLine: 'console=hvc0 root=/dev/sda1' })).toBe('console=hvc0 root=/dev/sda1');
    expect(cmd({ commandLine: 'console=hvc0' })).toBe('console=hvc0 root=/dev/ram0');
    expect(cmd({ rootfsOnDisk: true }, 'load mmc 0:1')).toBe(
      'console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused root=/dev/mmcblk0p2',
    );
    expect(cmd({ rootfsOnDisk: true }, 'load scsi 1:2')).toBe('console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused root=/dev/sdb3');
    expect(failure({ ...workedExample(), dom0: { kernel: kernel('Image', MiB), rootfsOnDisk: true } }).code).toBe('ROOT_DEVICE_UNKNOWN');
    expect(
      failure({ ...workedExample(), loadCommand: 'fatload usb 0:1', dom0: { kernel: kernel('Image', MiB), rootfsOnDisk: true } }).details
        ?.imageBuilderMessage,
    ).toBe('Only mmc and scsi are supported for automatically setting the root partition.');
  });

  it('loads overlays after Xen and applies them right after the resize', () => {
    const result = generateStage2({ ...workedExample(), overlays: [dtb('o/a.dtbo', 500), dtb('o/b.dtbo', 600)] });
    const lines = result.text.split('\n');
    expect(lines.slice(2, 8)).toEqual([
      'tftpb 0x2800000 xen',
      'tftpb 0x2A00000 o/a.dtbo',
      'tftpb 0x2C00000 o/b.dtbo',
      'tftpb 0x2E00000 bcm2711-rpi-4-b.dtb',
      'fdt addr 0x2E00000',
      'fdt resize 1024',
    ]);
    expect(lines.slice(8, 10)).toEqual(['fdt apply 0x2A00000', 'fdt apply 0x2C00000']);
  });

  it('prepends the prefix to every load path', () => {
    const result = generateStage2({ ...workedExample(), prefix: 'xen/rpi4', loadCommand: 'load mmc 0:1' });
    expect(result.text.split('\n').slice(0, 4)).toEqual([
      'load mmc 0:1 0xE00000 xen/rpi4/Image',
      'load mmc 0:1 0x2200000 xen/rpi4/initrd.cpio',
      'load mmc 0:1 0x2800000 xen/rpi4/xen',
      'load mmc 0:1 0x2A00000 xen/rpi4/bcm2711-rpi-4-b.dtb',
    ]);
  });

  it('appends extra commands before the boot line, and with BOOT_CMD none stores the addresses instead', () => {
    const extra = generateStage2({ ...workedExample(), extraCommands: 'echo hello\nsetenv bootdelay 0\n' });
    expect(extra.text.endsWith('setenv fdt_high 0xffffffffffffffff\necho hello\nsetenv bootdelay 0\nbooti 0x2800000 - 0x2A00000\n')).toBe(
      true,
    );
    const none = generateStage2({ ...workedExample(), bootCommand: 'none' });
    expect(
      none.text.endsWith('setenv fdt_high 0xffffffffffffffff\nsetenv host_kernel_addr 0x2800000\nsetenv host_fdt_addr 0x2A00000\n'),
    ).toBe(true);
  });

  it('marks passthrough nodes, skips NOBOOT DomUs silently and rootfs DomUs with a notice', () => {
    const result = generateStage2({
      ...workedExample(),
      domUs: [
        { kernel: kernel('a', MiB), noBoot: true, passthroughPaths: ['/soc/serial@7e201000', '/soc/spi@7e204000'] },
        { kernel: kernel('b', MiB), rootfsOnDisk: true },
        { kernel: kernel('c', MiB) },
      ],
    });
    expect(result.text).toContain(
      'fdt set /soc/serial@7e201000 xen,passthrough\nfdt set /soc/spi@7e204000 xen,passthrough\nfdt mknod /chosen domU2\n',
    );
    expect(result.text).not.toContain('domU0');
    expect(result.text).not.toContain('tftpb 0x2200000 a');
    expect(result.notices).toEqual(['Skipping DomU[1]: cannot handle non-ramdisk rootfs for dom0less VMs.']);
  });

  it('refuses a missing load command and a Xen with nothing to boot', () => {
    expect(failure({ ...workedExample(), loadCommand: ' ' }).code).toBe('NO_LOAD_COMMAND');
    const none = failure({ ...workedExample(), dom0: undefined });
    expect(none.code).toBe('NO_DOMAINS');
    expect(none.details?.exitStatus).toBe(1);
  });
});
