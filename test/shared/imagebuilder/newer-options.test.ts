// The newer uboot-script-gen options: read from the config, written into stage 2 as current upstream writes them.
import { describe, expect, it } from 'vitest';
import { domainCapabilities, testEquals } from '../../../shared/boot/domu-properties';
import { generateStage2, type Stage2Input } from '../../../shared/boot/stage2';
import { eventChannelPhandles, PhandleCounter } from '../../../shared/boot/static-evtchns';
import { ImagerError } from '../../../shared/errors';
import { parseImageBuilderConfig } from '../../../shared/imagebuilder/config';
import { planFromVariables, planToProfile, type ImageBuilderPlan } from '../../../shared/imagebuilder/plan';
import { cpio, dtb, kernel } from '../boot/fixtures';

const base = `MEMORY_START=0x0
MEMORY_END=0x3c000000
LOAD_CMD=tftpb
XEN=xen
DEVICE_TREE=b.dtb
DOM0_KERNEL=Image
NUM_DOMUS=1
DOMU_KERNEL[0]=domU
DOMU_RAMDISK[0]=domU.cpio
`;

const plan = (extra: string) => planFromVariables(parseImageBuilderConfig(base + extra));

function stage2(p: ImageBuilderPlan) {
  return generateStage2(stage2Input(p));
}

function stage2Input(p: ImageBuilderPlan): Stage2Input {
  return {
    memoryStart: p.memoryStart,
    memoryEnd: p.memoryEnd,
    loadCommand: p.loadCommand,
    xen: kernel('xen', 1_000_000),
    dom0: { kernel: kernel('Image', 20_000_000) },
    domUs: p.domUs.map(({ index: _index, kernel: _kernel, ramdisk: _ramdisk, passthroughDtb: _dtb, ...settings }) => ({
      ...settings,
      kernel: kernel('domU', 9_000_000),
      ramdisk: cpio('domU.cpio', 3_000_000),
    })),
    deviceTree: dtb('b.dtb', 40_000),
    ...(p.staticHeap && { staticHeap: p.staticHeap }),
  };
}

/** The DomU node's own properties, between its mknod and its kernel module. */
function domUProperties(text: string, index = 0): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(`fdt mknod /chosen domU${index}`);
  const end = lines.findIndex((line, i) => i > start && line.startsWith(`fdt mknod /chosen/domU${index} module`));
  return lines.slice(start + 2, end).map((line) => line.replace(`fdt set /chosen/domU${index} `, ''));
}

function refusal(run: () => unknown): ImagerError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ImagerError);
    return error as ImagerError;
  }
  throw new Error('expected a refusal');
}

describe('newer ImageBuilder DomU options', () => {
  it('writes nr_spis, the grant-table limits, capabilities and unmapped-access traps in upstream’s order', () => {
    const p = plan(
      'DOMU_NR_SPIS[0]=32\nDOMU_GRANT_VER[0]=1\nDOMU_GRANT_FRAMES[0]=0x40\nDOMU_MAPTRACK_FRAMES[0]=1024\nDOMU_CAPS[0]="control|hardware"\nDOMU_TRAP_UNMAP[0]=0\n',
    );
    expect(p.warnings).toEqual([]);
    expect(domUProperties(stage2(p).text)).toEqual([
      '\\#address-cells <0x2>',
      '\\#size-cells <0x2>',
      'memory <0 524288>',
      'cpus <1>',
      'vpl011',
      'nr_spis <32>',
      'xen,enhanced "enabled"',
      'max_grant_version <1>',
      'max_grant_frames <0x40>',
      'max_maptrack_frames <1024>',
      'capabilities <3>',
      'trap-unmapped-accesses <0>',
    ]);
  });

  it('leaves vpl011 out with DOMU_VPL011=0, and then the default command line is empty instead of console=ttyAMA0', () => {
    const off = stage2(plan('DOMU_VPL011[0]=0\n')).text;
    expect(domUProperties(off)).not.toContain('vpl011');
    expect(off).toMatch(/fdt set \/chosen\/domU0\/module0x[0-9A-F]+ bootargs ""\n/);
    // an explicit command line is kept either way
    expect(stage2(plan('DOMU_VPL011[0]=0\nDOMU_CMD[0]="console=hvc0"\n')).text).toMatch(/bootargs "console=hvc0"\n/);
    // bash's `test "$v" -eq 1`: blanks, a sign and leading zeros are fine; anything else is "not 1" (and warned about)
    for (const [value, on] of [
      ['1', true],
      [' 01 ', true],
      ['+1', true],
      ['2', false],
      ['yes', false],
    ] as const) {
      const p = plan(`DOMU_VPL011[0]="${value}"\n`);
      expect({ value, on: domUProperties(stage2(p).text).includes('vpl011') }).toEqual({ value, on });
      expect(p.warnings.length).toBe(value === 'yes' ? 1 : 0);
    }
    expect(stage2(plan('')).text).toMatch(/bootargs "console=ttyAMA0"\n/);
  });

  it('reads DOMU_CAPS as upstream does: names or numbers joined by |, case-insensitive, the first word only', () => {
    const cases: Array<[string, string | undefined]> = [
      ['control', '1'],
      ['hardware|xenstore', '6'],
      ['Dom0', '7'],
      ['domain0', '7'],
      ['none', '0'],
      ['|', '0'],
      ['CONTROL|0x4', '5'],
      ['0X10', '16'],
      ['010', '8'], // bash arithmetic: a leading 0 is octal
      ['2#11', '3'],
      ['control | bogus', '1'], // unquoted in upstream: the words after the first are dropped
      ['08', undefined],
      ['7abc', undefined],
      ['admin', undefined],
      ['-1', undefined],
    ];
    for (const [text, caps] of cases) expect({ text, caps: domainCapabilities(text) }).toEqual({ text, caps });
    expect(['1', ' 1', '+1', '001'].every((v) => testEquals(v, 1))).toBe(true);
    expect(['1.0', 'x', '', '1 1'].some((v) => testEquals(v, 1))).toBe(false);
  });

  it('stops on an invalid DOMU_CAPS with upstream’s line and status 1, and only for a DomU that boots', () => {
    const error = refusal(() => stage2(plan('DOMU_CAPS[0]="control|admin"\n')));
    expect(error.details).toMatchObject({ exitStatus: 1, imageBuilderMessage: 'Invalid DOMU_CAPS[0] "control|admin"' });
    expect(error.code).toBe('IMAGEBUILDER_CONFIG');
    // a DomU that is not booted gets no node, so upstream never reads its DOMU_CAPS
    expect(() => stage2(plan('DOMU_CAPS[0]="admin"\nDOMU_NOBOOT[0]=1\n'))).not.toThrow();
  });

  it('writes numbers it cannot check as given, with a warning, and ignores a DOMU_TRAP_UNMAP other than 0 or 1', () => {
    const p = plan('DOMU_NR_SPIS[0]=many\nDOMU_TRAP_UNMAP[0]=2\n');
    expect(domUProperties(stage2(p).text)).toContain('nr_spis <many>');
    expect(domUProperties(stage2(p).text).some((line) => line.startsWith('trap-unmapped-accesses'))).toBe(false);
    expect(p.warnings).toEqual([
      'DOMU_NR_SPIS[0]="many" is not a number: it is written as given, and U-Boot\'s fdt set will refuse it at boot.',
      'DOMU_TRAP_UNMAP[0]="2" is ignored, as upstream does: it takes 0 or 1.',
    ]);
  });

  it('reads DOMU_ENHANCED as upstream: 1, or anything but 0 with Dom0, enables; 2 without Dom0 is no-xenstore', () => {
    const enhanced = (extra: string, dom0 = true) => {
      const text = dom0 ? base + extra : base.replace('DOM0_KERNEL=Image\n', '') + extra;
      const p = planFromVariables(parseImageBuilderConfig(text));
      const lines = generateStage2({ ...stage2Input(p), ...(dom0 ? {} : { dom0: undefined }) }).text.split('\n');
      return lines.filter((line) => line.includes('xen,enhanced')).map((line) => line.replace('fdt set /chosen/domU0 xen,enhanced ', ''));
    };
    expect(enhanced('')).toEqual(['"enabled"']);
    expect(enhanced('DOMU_ENHANCED[0]=0\n')).toEqual([]);
    expect(enhanced('DOMU_ENHANCED[0]=2\n')).toEqual(['"enabled"']);
    expect(enhanced('DOMU_ENHANCED[0]=yes\n')).toEqual(['"enabled"']);
    expect(enhanced('', false)).toEqual([]);
    expect(enhanced('DOMU_ENHANCED[0]=1\n', false)).toEqual(['"enabled"']);
    expect(enhanced('DOMU_ENHANCED[0]=2\n', false)).toEqual(['"no-xenstore"']);
    expect(enhanced('DOMU_ENHANCED[0]=yes\n', false)).toEqual([]);
  });

  it('adds a static shared-memory node named after the host address, or after the ID when Xen picks the memory', () => {
    const withHost = stage2(plan('DOMU_SHARED_MEM[0]="my-shm 0x50000000 0x6000000 0x10000000"\n')).text;
    expect(withHost).toContain(
      [
        'fdt set /chosen/domU0 xen,enhanced "enabled"',
        'fdt mknod /chosen/domU0 shared-mem@0x50000000',
        'fdt set /chosen/domU0/shared-mem@0x50000000 compatible "xen,domain-shared-memory-v1"',
        'fdt set /chosen/domU0/shared-mem@0x50000000 xen,shm-id "my-shm"',
        'fdt set /chosen/domU0/shared-mem@0x50000000 xen,shared-mem <0x0 0x50000000 0x0 0x6000000 0x0 0x10000000>',
        'fdt mknod /chosen/domU0 module',
      ].join('\n'),
    );
    const fromHeap = stage2(plan('DOMU_SHARED_MEM[0]="shm1 0x6000000 0x10000000"\n')).text;
    expect(fromHeap).toContain('fdt mknod /chosen/domU0 shared-mem-shm1\n');
    expect(fromHeap).toContain('fdt set /chosen/domU0/shared-mem-shm1 xen,shared-mem <0x0 0x6000000 0x0 0x10000000>\n');
    expect(refusal(() => plan('DOMU_SHARED_MEM[0]="shm1 0x6000000 lots"\n')).subject).toBe('DOMU_SHARED_MEM[0]');
  });
});

describe('vCPU hard affinity', () => {
  it('reads DOMU_VCPU_HARD_AFFINITY[n,v] as the associative array upstream declares, and writes a xen,vcpu node per listed vCPU', () => {
    const vars = parseImageBuilderConfig('DOMU_VCPU_HARD_AFFINITY[0,1]="0-1"\nDOMU_VCPU_HARD_AFFINITY[0,0]=3\n');
    expect(vars.associative).toEqual({ DOMU_VCPU_HARD_AFFINITY: { '0,1': '0-1', '0,0': '3' } });
    const p = plan(
      'DOMU_VCPUS[0]=3\nDOMU_VCPU_HARD_AFFINITY[0,0]="3"\nDOMU_VCPU_HARD_AFFINITY[0,2]="0-1,4"\nDOMU_VCPU_HARD_AFFINITY[0,5]="2"\n',
    );
    const text = stage2(p).text;
    // vCPU 5 does not exist (3 vCPUs): upstream only looks up 0..DOMU_VCPUS-1
    expect(text).toContain(
      [
        'fdt mknod /chosen/domU0 vcpu0',
        'fdt set /chosen/domU0/vcpu0 compatible  "xen,vcpu"',
        'fdt set /chosen/domU0/vcpu0 id <0>',
        'fdt set /chosen/domU0/vcpu0 hard-affinity "3"',
        'fdt mknod /chosen/domU0 vcpu2',
        'fdt set /chosen/domU0/vcpu2 compatible  "xen,vcpu"',
        'fdt set /chosen/domU0/vcpu2 id <2>',
        'fdt set /chosen/domU0/vcpu2 hard-affinity "0-1,4"',
        'fdt mknod /chosen/domU0 module',
      ].join('\n'),
    );
    expect(text).not.toContain('vcpu5');
  });
});

describe('static event channels', () => {
  it('numbers the endpoints of DomUs that do not boot too, as upstream’s map does, and takes a trailing ";"', () => {
    const notices: string[] = [];
    const phandles = eventChannelPhandles(['5 1 6;', '6 0 5', undefined], new PhandleCounter(), notices);
    expect([...phandles]).toEqual([
      ['0,5', '0xfffffffe'],
      ['1,6', '0xfffffffd'],
    ]);
    expect(notices).toEqual([
      "Local endpoint '0,5' is assigned phandle '0xfffffffe'",
      "Remote endpoint '1,6' is assigned phandle '0xfffffffd'",
    ]);
    // DomU 1 is not booted: no node of its own, but DomU 0's channel still names its endpoint
    const text = stage2({
      ...plan('DOMU_STATIC_EVTCHNS[0]="5 1 6;"\n'),
      domUs: [...plan('DOMU_STATIC_EVTCHNS[0]="5 1 6;"\n').domUs, { index: 1, kernel: 'domU', noBoot: true, staticEventChannels: '6 0 5' }],
    }).text;
    expect(text).toContain('fdt set /chosen/domU0/evtchn@5 xen,evtchn <5 0xfffffffd>\n');
    expect(text).not.toContain('domU1');
  });
});

describe('newer ImageBuilder Xen options', () => {
  it('writes XEN_STATIC_HEAP as xen,static-heap under /chosen, after the DomUs, in 64-bit cells', () => {
    const text = stage2(plan('XEN_STATIC_HEAP="0x50000000 0x30000000 0x100000000 0x8000000"\n')).text;
    expect(text).toContain(
      'fdt set /chosen xen,static-heap <0x0 0x50000000 0x0 0x30000000 0x1 0x0 0x0 0x8000000>\nsetenv fdt_high 0xffffffffffffffff\n',
    );
    expect(refusal(() => plan('XEN_STATIC_HEAP="0x50000000 big"\n')).subject).toBe('XEN_STATIC_HEAP');
  });

  it('ignores XEN_PASSTHROUGH_PATHS with a warning, as upstream has no such option', () => {
    const p = plan('XEN_PASSTHROUGH_PATHS="/soc/serial@7e201000"\n');
    expect(stage2(p).text).not.toContain('xen,passthrough');
    expect(p.warnings[0]).toMatch(/^XEN_PASSTHROUGH_PATHS is ignored/);
  });

  it('will not import a config into a profile that would boot without its newer options', () => {
    const error = refusal(() => planToProfile(plan('DOMU_CAPS[0]=control\nXEN_STATIC_HEAP="0x50000000 0x1000000"\n')));
    expect(error.message).toBe('A profile cannot hold XEN_STATIC_HEAP, DOMU_CAPS[0] yet: the imported profile would boot without them.');
    expect(() => planToProfile(plan(''))).not.toThrow();
  });
});
