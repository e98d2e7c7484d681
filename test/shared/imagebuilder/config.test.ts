// ImageBuilder configs: the bash assignment subset parses, unsupported features are refused clearly, and import round-trips.
import { describe, expect, it } from 'vitest';
import { generateBootFiles, type ComponentFacts } from '../../../shared/boot/generate';
import { generateStage2 } from '../../../shared/boot/stage2';
import { ImagerError } from '../../../shared/errors';
import { parseImageBuilderConfig } from '../../../shared/imagebuilder/config';
import { expandLoadCommand, planFromVariables, planToProfile, type ImageBuilderPlan } from '../../../shared/imagebuilder/plan';
import { profileSchema } from '../../../shared/profile';
import { cpio, dtb, kernel } from '../boot/fixtures';

const readme = `# ImageBuilder's README example, trimmed to what we support
MEMORY_START="0x0"
MEMORY_END=0x80000000
LOAD_CMD="tftpb"
BOOT_CMD="booti"

DEVICE_TREE="mpsoc.dtb"
XEN="xen"
XEN_CMD="console=dtuart dtuart=serial0 dom0_mem=1G dom0_max_vcpus=1 bootscrub=0 vwfi=native sched=null"
DOM0_KERNEL="Image-dom0"
DOM0_CMD='console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused'
DOM0_RAMDISK="dom0-ramdisk.cpio"
DOM0_MEM=1024
DOM0_VCPUS=1

NUM_DT_OVERLAY=1
DT_OVERLAY[0]="host_dt_overlay.dtbo"

NUM_DOMUS=2
DOMU_KERNEL[0]="zynqmp-dom1/Image-domU"
DOMU_CMD[0]="console=ttyPS0 earlycon console=ttyPS0,115200 clk_ignore_unused rdinit=/sbin/init root=/dev/ram0 init=/bin/sh"
DOMU_RAMDISK[0]="zynqmp-dom1/domU-ramdisk.cpio"
DOMU_COLORS[0]="6-14"
DOMU_KERNEL[1]="zynqmp-dom2/Image-domU"
DOMU_RAMDISK[1]=\${DOMU_RAMDISK[0]}
DOMU_MEM[1]=512
DOMU_VCPUS[1]=1 # one is enough

UBOOT_SOURCE="boot.source"
UBOOT_SCRIPT="boot.scr"
`;

const facts = (c: { size: number; head: Uint8Array }): ComponentFacts => ({ size: c.size, head: c.head });
const components: Record<string, ComponentFacts> = {
  xen: facts(kernel('xen', 1_000_000)),
  'Image-dom0': facts(kernel('Image-dom0', 20_000_000)),
  'dom0-ramdisk.cpio': facts(cpio('r', 5_000_000)),
  'host_dt_overlay.dtbo': facts(dtb('o', 900)),
  'zynqmp-dom1/Image-domU': facts(kernel('k', 9_000_000)),
  'zynqmp-dom1/domU-ramdisk.cpio': facts(cpio('r', 3_000_000)),
  'zynqmp-dom2/Image-domU': facts(kernel('k', 9_000_000)),
  'mpsoc.dtb': facts(dtb('d', 40_000)),
};

function stage2OfPlan(plan: ImageBuilderPlan) {
  const c = (p: string) => ({ path: p, ...components[p]! });
  return generateStage2({
    memoryStart: plan.memoryStart,
    memoryEnd: plan.memoryEnd,
    loadCommand: plan.loadCommand,
    bootCommand: plan.bootCommand,
    xen: c(plan.xen),
    ...(plan.xenCommandLine && { xenCommandLine: plan.xenCommandLine }),
    ...(plan.dom0MemoryMb && { dom0MemoryMb: plan.dom0MemoryMb }),
    ...(plan.dom0Vcpus && { dom0Vcpus: plan.dom0Vcpus }),
    ...(plan.dom0 && {
      dom0: { ...plan.dom0, kernel: c(plan.dom0.kernel), ramdisk: plan.dom0.ramdisk ? c(plan.dom0.ramdisk) : undefined },
    }),
    domUs: plan.domUs.map(({ kernel, ramdisk, passthroughDtb: _dtb, ...d }) => ({
      ...d,
      kernel: c(kernel),
      ...(ramdisk && { ramdisk: c(ramdisk) }),
    })),
    deviceTree: c(plan.deviceTree),
    overlays: plan.overlays.map(c),
  });
}

function refusal(text: string, loadCommand?: string): ImagerError {
  try {
    planFromVariables(parseImageBuilderConfig(text), loadCommand ? { loadCommand } : {});
  } catch (error) {
    expect(error).toBeInstanceOf(ImagerError);
    return error as ImagerError;
  }
  throw new Error('expected a refusal');
}

const minimal = 'MEMORY_START=0x0\nMEMORY_END=0x3c000000\nLOAD_CMD=tftpb\nXEN=xen\nDEVICE_TREE=b.dtb\nDOM0_KERNEL=Image\n';

describe('ImageBuilder config', () => {
  it('parses quotes, arrays, comments, expansions and continuation lines', () => {
    const vars = parseImageBuilderConfig(`A="x y" # comment\nB='lit $A'\nC=$A-\${A}\nD[2]="two"\nexport E=\\\n5\nF="multi\nline"\nG=a#b\n`);
    expect(vars.scalars).toEqual({ A: 'x y', B: 'lit $A', C: 'x y-x y', E: '5', F: 'multi\nline', G: 'a#b' });
    expect(vars.arrays).toEqual({ D: { 2: 'two' } });
    expect(parseImageBuilderConfig(readme).arrays.DOMU_RAMDISK).toEqual({
      0: 'zynqmp-dom1/domU-ramdisk.cpio',
      1: 'zynqmp-dom1/domU-ramdisk.cpio',
    });
  });

  it('refuses shell beyond assignments, naming the line', () => {
    for (const [text, line] of [
      ['A=1\nif true; then B=2; fi\n', 2],
      ['A=$(date)\n', 1],
      ['A="open\n', 1],
      ['A=1 B=2 cmd\n', 1],
      ['X[i]=1\n', 1],
      ['DOMU_KERNEL[0,1]=Image\n', 1], // only the arrays upstream declares associative take "n,v" keys
    ] as const) {
      expect(() => parseImageBuilderConfig(text)).toThrow(`Line ${line}:`);
    }
  });

  it('plans the README example with hex and decimal numbers', () => {
    const plan = planFromVariables(parseImageBuilderConfig(readme));
    expect(plan).toMatchObject({
      memoryStart: 0,
      memoryEnd: 0x80000000,
      loadCommand: 'tftpb',
      xen: 'xen',
      overlays: ['host_dt_overlay.dtbo'],
      sourceName: 'boot.source',
      scriptName: 'boot.scr',
    });
    expect(plan.domUs[0]).toMatchObject({ colors: '6-14', kernel: 'zynqmp-dom1/Image-domU' });
    expect(plan.domUs[1]).toMatchObject({ memoryMb: 512, vcpus: 1 });
  });

  it('lets -t and -o override the config, with the shorthands', () => {
    expect(['tftp', 'sd', 'scsi', 'usb', 'ext4load mmc 1:2'].map(expandLoadCommand)).toEqual([
      'tftpb',
      'load mmc 0:1',
      'load scsi 0:1',
      'fatload usb 0:1',
      'ext4load mmc 1:2',
    ]);
    const plan = planFromVariables(parseImageBuilderConfig(readme), { loadCommand: 'sd', outputName: 'xen' });
    expect(plan).toMatchObject({ loadCommand: 'load mmc 0:1', sourceName: 'xen.source', scriptName: 'xen.scr' });
  });

  it('refuses FIT, bitstreams, Linux-only mode and the rest of the unsupported subset with exit status 1', () => {
    expect(refusal(minimal + 'FIT="boot.fit"\n').subject).toBe('FIT');
    expect(refusal(minimal, 'fit').subject).toBe('FIT');
    expect(refusal(minimal + 'BITSTREAM=download.bit\n').subject).toBe('BITSTREAM');
    expect(refusal('MEMORY_START=0\nMEMORY_END=0x1000000\nLINUX=Image\nDEVICE_TREE=b.dtb\n').message).toMatch(/Linux-only mode/);
    expect(refusal(minimal + 'PASSTHROUGH_DTS_REPO="git@x:y.git dir"\n').subject).toBe('PASSTHROUGH_DTS_REPO');
    expect(refusal(minimal + 'BOOT_CMD=bootefi\n').subject).toBe('BOOT_CMD');
    // bootm is generated (test/cli/imagebuilder.test.ts), but a profile has no field for it yet
    const bootm = planFromVariables(parseImageBuilderConfig(minimal + 'BOOT_CMD=bootm\n'));
    expect(bootm.bootCommand).toBe('bootm');
    expect(() => planToProfile(bootm)).toThrow(/^A profile cannot hold BOOT_CMD=bootm yet/);
    expect(refusal(minimal.replace('MEMORY_END=0x3c000000', 'MEMORY_END=lots')).subject).toBe('MEMORY_END');
    const noLoad = refusal(minimal.replace('LOAD_CMD=tftpb\n', ''));
    expect(noLoad.details).toMatchObject({
      exitStatus: 1,
      imageBuilderMessage: 'LOAD_CMD not set, either specify it in the config or set it with the -t option',
    });
    expect(refusal(minimal + 'FIT=x\n').details?.exitStatus).toBe(1);
    // newer upstream options are refused by name rather than booted without
    expect(refusal(minimal + 'EFI=y\n').message).toMatch(/^EFI is not supported: booting through UEFI/);
    expect(refusal(minimal + 'EFI=y\n').subject).toBe('EFI');
    // the DomU device-tree options are written now (newer-options.test.ts)
    for (const option of ['DOMU_CAPS[0]="hardware"', 'DOMU_VPL011[0]=0', 'DOMU_NR_SPIS[0]=0', 'DOMU_GRANT_FRAMES[0]=1']) {
      expect(() => planFromVariables(parseImageBuilderConfig(minimal + `NUM_DOMUS=1\nDOMU_KERNEL[0]=Image\n${option}\n`))).not.toThrow();
    }
  });

  it('plans boot-time CPU pools: CPUs from the first word, the scheduler from the last, and each DomU’s pool', () => {
    const plan = planFromVariables(
      parseImageBuilderConfig(
        minimal +
          'NUM_CPUPOOLS=2\nCPUPOOL[0]="cpu@1,cpu@2 null"\nCPUPOOL[1]="cpu@3"\nNUM_DOMUS=2\nDOMU_KERNEL[0]=a\nDOMU_CPUPOOL[0]=1\nDOMU_KERNEL[1]=b\nDOMU_CPUPOOL[1]=x\n',
      ),
    );
    expect(plan.cpuPools).toEqual([{ cpus: ['cpu@1', 'cpu@2'], scheduler: 'null' }, { cpus: ['cpu@3'] }]);
    expect(plan.domUs.map((d) => d.cpupool)).toEqual([1, undefined]); // `test x -eq 1` is false in bash too
  });

  it('refuses to import CPU pools as a profile, naming NUM_CPUPOOLS, rather than dropping them', () => {
    const pools = minimal + 'NUM_CPUPOOLS=1\nCPUPOOL[0]="cpu@1 null"\nNUM_DOMUS=1\nDOMU_KERNEL[0]=a\nDOMU_CPUPOOL[0]=0\n';
    const plan = planFromVariables(parseImageBuilderConfig(pools));
    let refused: unknown;
    try {
      planToProfile(plan);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ImagerError);
    expect((refused as ImagerError).subject).toBe('NUM_CPUPOOLS');
    expect((refused as ImagerError).message).toMatch(
      /^A profile cannot hold NUM_CPUPOOLS=1 \(CPUPOOL\[n\], DOMU_CPUPOOL\[n\]\) yet: .* Xen's default pool\.$/,
    );
    expect((refused as ImagerError).hint).toMatch(/xen-pi-imager imagebuilder/);
    // a DomU naming a pool the config does not define gets none from ImageBuilder either: nothing is lost, the import goes on
    const orphan = planFromVariables(parseImageBuilderConfig(minimal + 'NUM_DOMUS=1\nDOMU_KERNEL[0]=a\nDOMU_CPUPOOL[0]=0\n'));
    expect(profileSchema.parse(planToProfile(orphan)).domUs).toHaveLength(1);
  });

  it('round-trips: config -> profile -> generate gives the same stage 2 as the config itself', () => {
    for (const text of [
      readme,
      readme.replace('LOAD_CMD="tftpb"', 'LOAD_CMD="load mmc 0:1"').replace(/^XEN_CMD=.*$/m, ''),
      readme.replace(/^DOM0_.*$/gm, ''),
    ]) {
      const plan = planFromVariables(parseImageBuilderConfig(text));
      const direct = stage2OfPlan(plan);
      const profile = profileSchema.parse(planToProfile(plan));
      const viaProfile = generateBootFiles(profile, components, { timestamp: 0 });
      expect(viaProfile.stage2.text).toBe(direct.text);
      expect(viaProfile.files.find((f) => f.name === 'boot2.source')!.preview).toBe(direct.text);
    }
  });

  it('carries the prefix and the extra commands into the profile', () => {
    const plan = planFromVariables(parseImageBuilderConfig(readme));
    const profile = profileSchema.parse(planToProfile(plan, { prefix: 'xen', extraCommands: 'echo hi\n' }));
    const text = generateBootFiles(profile, components, { timestamp: 0 }).stage2.text;
    expect(text).toContain('tftpb 0xE00000 xen/Image-dom0\n');
    expect(text).toContain('echo hi\nbooti ');
  });
});
