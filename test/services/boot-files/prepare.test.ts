// One door from a profile to its boot files: each request reads, checks and generates the profile once, and problems come back by JSON path.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { flashStartSchema } from '../../../shared/api/drives';
import type * as stage2 from '../../../shared/boot/stage2';
import { generateStage2 } from '../../../shared/boot/stage2';
import type { Profile } from '../../../shared/profile/schema';
import { generateCommand } from '../../../electron/cli/commands/generate';
import { bootPartitionEdit, prepareBoot } from '../../../electron/services/boot-files/prepare';
import { exportBoot, previewBoot } from '../../../electron/services/boot-files/service';
import { bootEditForRequest } from '../../../electron/services/drives/service';
import { tftpFilesForProfile } from '../../../electron/services/tftp/service';
import { testProfile, writeTestComponents, type TestComponents } from '../../helpers/components';

// the real generator, watched: every call is counted
vi.mock('../../../shared/boot/stage2', async (importOriginal) => {
  const real = await importOriginal<typeof stage2>();
  return { ...real, generateStage2: vi.fn(real.generateStage2) };
});
const generations = () => vi.mocked(generateStage2).mock.calls.length;

let work: string;
let components: TestComponents;
let profile: Profile;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'prepare-boot-'));
  components = writeTestComponents(path.join(work, 'components'));
  profile = testProfile(components);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
beforeEach(() => {
  vi.mocked(generateStage2).mockClear();
});

describe('a profile is generated once per request', () => {
  it('previews the Review step with one generation', () => {
    const preview = previewBoot(profile, components.dir);
    expect(preview.problems).toEqual([]);
    expect(preview.files.map((f) => f.name)).toContain('boot2.scr');
    expect(generations()).toBe(1);
  });

  it('exports a folder with one generation', () => {
    const out = path.join(work, 'export');
    expect(exportBoot(profile, components.dir, out).written).toContain(path.join('tftp', 'boot2.scr'));
    expect(generations()).toBe(1);
  });

  it('makes the boot partition of a write with one generation', () => {
    const request = flashStartSchema.parse({ targets: [{ kind: 'file', path: path.join(work, 'card.img') }], profile });
    const edit = bootEditForRequest(request, components.dir);
    expect(edit.files.map((f) => f.name)).toEqual(expect.arrayContaining(['boot.scr', 'u-boot.bin']));
    expect(generations()).toBe(1);
  });

  it('serves the TFTP root with one generation', () => {
    const served = tftpFilesForProfile(profile, components.dir);
    expect([...served.files.keys()]).toEqual(['boot2.source', 'boot2.scr']);
    expect([...served.diskFiles.values()]).toContain(components.xen);
    expect(generations()).toBe(1);
  });

  it('runs the generate command with one generation', async () => {
    const file = path.join(work, 'profile.json');
    fs.writeFileSync(file, JSON.stringify(profile));
    const out: string[] = [];
    const io = {
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => out.push(t),
      isTTY: false,
      env: {},
      cwd: work,
      signal: new AbortController().signal,
    };
    expect(await generateCommand.run(['--profile', file, '--out', path.join(work, 'generated')], io)).toBe(0);
    expect(out.join('')).toContain('Memory map:');
    expect(generations()).toBe(1);
  });
});

describe('the boot bundle', () => {
  it('groups the files by destination: stage 1 and U-Boot on the card, stage 2 and the components in the TFTP root', () => {
    const prepared = prepareBoot(profile, components.dir);
    expect(prepared.bootPartition.generated.map((f) => f.name)).toEqual(['boot.source', 'boot.scr', 'config.txt']);
    expect(prepared.bootPartition.components.map((c) => c.target)).toEqual(['u-boot.bin']);
    expect(prepared.tftpRoot.generated.map((f) => f.name)).toEqual(['boot2.source', 'boot2.scr']);
    expect(prepared.tftpRoot.components.map((c) => c.field)).toEqual(['$.xen.binary', '$.dom0.kernel', '$.dom0.ramdisk', '$.deviceTree']);
    expect(prepared.memoryMap.map((e) => e.role)).toEqual(['dom0-kernel', 'dom0-ramdisk', 'xen', 'device-tree']);
    expect(bootPartitionEdit(prepared).configTxt).toBeDefined();
  });

  it('returns what generation refuses as a problem at the field to change, without throwing', () => {
    const wrongType = prepareBoot({ ...profile, xen: { ...profile.xen, binary: components.dtb } }, components.dir);
    expect(wrongType.problems).toEqual([
      expect.objectContaining({
        path: '$.xen.binary',
        severity: 'error',
        message: expect.stringMatching(/must be a kernel or Xen binary/),
      }),
    ]);
    expect(wrongType.tftpRoot.generated).toEqual([]);
    const tight = prepareBoot({ ...profile, boot: { ...profile.boot, memoryEnd: '0x1400000' } }, components.dir);
    expect(tight.problems.map((p) => p.path)).toContain('$.boot.memoryEnd');
  });

  it('names a missing file at its own field and generates nothing', () => {
    const missing = prepareBoot({ ...profile, dom0: { ...profile.dom0!, ramdisk: 'nowhere.cpio' } }, components.dir);
    expect(missing.problems).toEqual([expect.objectContaining({ path: '$.dom0.ramdisk', severity: 'error' })]);
    expect(generations()).toBe(0);
  });
});
