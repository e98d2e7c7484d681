// What the files are, against the fields naming them: Xen and the Dom0 kernel swapped, a Xen of another series, a scheduler Xen lacks.
import { describe, expect, it } from 'vitest';
import { findXenFacts } from '../../../shared/boot/detect';
import { generateBootFiles, xenCommandLineFor, type ComponentFacts } from '../../../shared/boot/generate';
import { validateProfile } from '../../../shared/profile/check';
import { defaultProfile } from '../../../shared/profile/defaults';
import type { Profile } from '../../../shared/profile/schema';
import { arm64Image, xenImage } from '../../helpers/components';
import { dtbHead } from '../boot/fixtures';

const head = (bytes: Buffer) => new Uint8Array(bytes.subarray(0, 64 * 1024));
const debianXen: ComponentFacts = { size: 983048, head: head(xenImage(128 * 1024)), xen: findXenFacts(xenImage(128 * 1024))! };
const upstreamXen: ComponentFacts = {
  ...debianXen,
  xen: findXenFacts(xenImage(128 * 1024, '4.19', ['SMP Credit Scheduler rev2', 'null Scheduler']))!,
};
const kernel: ComponentFacts = { size: 512 * 1024, head: head(arm64Image(512 * 1024)), linuxVersion: '6.1.0-57-arm64' };
const initrd: ComponentFacts = { size: 6, head: new TextEncoder().encode('070701') };
const dtb: ComponentFacts = { size: 4096, head: dtbHead(4096) };

function sdProfile(edit: (profile: Profile) => void = () => {}): Profile {
  const profile = defaultProfile('rpi4');
  profile.boot.mode = 'sd';
  delete profile.boot.network;
  profile.xen.binary = 'xen-4.17-arm64';
  profile.dom0 = { kernel: 'vmlinuz-6.1.0-57-arm64', ramdisk: 'initrd.cpio', memoryMb: 512, vcpus: 1, rootOnCard: false };
  edit(profile);
  return profile;
}

const files = (xen: ComponentFacts, dom0: ComponentFacts) => ({
  'xen-4.17-arm64': xen,
  'vmlinuz-6.1.0-57-arm64': dom0,
  'initrd.cpio': initrd,
  'bcm2711-rpi-4-b.dtb': dtb,
});

describe('reading a Xen binary', () => {
  it('finds its series and schedulers, and nothing in a Linux kernel', () => {
    expect(findXenFacts(xenImage(64 * 1024))).toEqual({ series: '4.17', schedulers: ['credit', 'credit2'] });
    expect(findXenFacts(xenImage(64 * 1024, '4.19', ['SMP Credit Scheduler rev2', 'null Scheduler']))).toEqual({
      series: '4.19',
      schedulers: ['credit2', 'null'],
    });
    // Linux carries "xen,xen" too (it reads that node), but not Xen's banner format
    const linux = arm64Image(64 * 1024);
    linux.write('xen,xen\0xen,xen-\0', 9000, 'latin1');
    expect(findXenFacts(linux)).toBeUndefined();
  });
});

describe('Xen and the Dom0 kernel, checked for what they are', () => {
  it('refuses the two swapped, naming both and the fix', () => {
    const result = validateProfile(sdProfile(), files(kernel, debianXen));
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        {
          path: '$.xen.binary',
          severity: 'error',
          message: expect.stringMatching(
            /^xen-4\.17-arm64 is a Linux kernel \(Linux 6\.1\.0-57-arm64\), not Xen.*look swapped: exchange them\.$/,
          ),
        },
        {
          path: '$.dom0.kernel',
          severity: 'error',
          message: expect.stringMatching(/^vmlinuz-6\.1\.0-57-arm64 is Xen 4\.17, not a Linux kernel.*look swapped/),
        },
      ]),
    );
  });

  it('refuses a kernel given as Xen, and Xen given as a DomU kernel', () => {
    expect(validateProfile(sdProfile(), files(kernel, kernel)).problems).toContainEqual(
      expect.objectContaining({ path: '$.xen.binary', severity: 'error', message: expect.stringContaining('Choose the Xen binary') }),
    );
    const domU = sdProfile((p) =>
      p.domUs.push({ name: 'guest', kernel: 'xen-4.17-arm64', memoryMb: 128, vcpus: 1 } as Profile['domUs'][number]),
    );
    expect(validateProfile(domU, files(debianXen, kernel)).problems).toContainEqual(
      expect.objectContaining({ path: '$.domUs[0].kernel', severity: 'error' }),
    );
  });

  it('passes the right pair, and warns when the binary is another series than the profile says', () => {
    expect(
      validateProfile(sdProfile(), files(debianXen, kernel)).problems.filter(
        (p) => p.path.startsWith('$.xen') || p.path.startsWith('$.dom0'),
      ),
    ).toEqual([]);
    const said419 = sdProfile((p) => (p.xen.version = '4.19'));
    expect(validateProfile(said419, files(debianXen, kernel)).problems).toContainEqual({
      path: '$.xen.version',
      severity: 'warning',
      message: expect.stringContaining('is Xen 4.17, but the profile says 4.19'),
    });
  });
});

describe('sched=null, only where the chosen Xen has it', () => {
  it('leaves it out of the default line for Debian’s Xen and puts it in for a Xen built with it', () => {
    const profile = sdProfile();
    const line = (xen: ComponentFacts) => generateBootFiles(profile, files(xen, kernel), { timestamp: 0 }).stage2.xenCommandLine;
    expect(line(debianXen)).not.toMatch(/sched=/);
    expect(line(upstreamXen)).toMatch(/ sched=null( |$)/);
    expect(xenCommandLineFor(profile)).not.toMatch(/sched=/);
  });

  it('warns when the profile’s own options ask for a scheduler this Xen lacks, with what it has', () => {
    const asked = sdProfile((p) => (p.xen.extraArgs = 'sched=null'));
    expect(validateProfile(asked, files(debianXen, kernel)).problems).toContainEqual({
      path: '$.xen.extraArgs',
      severity: 'warning',
      message: expect.stringMatching(
        /no "null" scheduler \(it has credit, credit2\): it would print "Could not find scheduler: null".*sched=credit or sched=credit2/,
      ),
    });
    expect(validateProfile(asked, files(upstreamXen, kernel)).problems.filter((p) => p.path === '$.xen.extraArgs')).toEqual([]);
  });
});
