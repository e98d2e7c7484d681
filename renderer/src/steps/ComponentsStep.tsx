// Step 3: the files the chain loads, each with its size and what it was recognised as, warning on a mismatch.
import { useEffect, useState } from 'react';
import type { ComponentInfo } from '../../../shared/api/boot';
import { boards } from '../../../shared/boards';
import type { FileKind } from '../../../shared/boot/detect';
import type { Profile } from '../../../shared/profile/schema';
import { checkDom0KernelVersion } from '../../../shared/xen-versions';
import { inspectComponent } from '../actions';
import { DebianPartsPanel } from '../components/DebianPartsPanel';
import { KernelGzipOffer } from '../components/KernelGzipOffer';
import type { FieldProblem } from '../components/Field';
import { PathField } from '../components/PathField';
import type { StepProps } from '../wizard/step-props';
import type { DraftValidation } from '../wizard/validation';

interface ComponentRow {
  key: string;
  jsonPath: string;
  label: string;
  hint: string;
  expected: FileKind[];
  expectedWords: string;
  value: (p: Profile) => string | undefined;
  set: (p: Profile, value: string | undefined) => Profile;
  optional?: boolean;
}

function rows(profile: Profile): ComponentRow[] {
  const board = boards[profile.board];
  const list: ComponentRow[] = [];
  if (board.usesConfigTxt) {
    list.push({
      key: 'uboot',
      jsonPath: '$.ubootBinary',
      label: 'U-Boot (u-boot.bin)',
      hint: `What the Pi firmware starts instead of Linux. Debian’s u-boot-rpi package: ${board.ubootBinary}.`,
      expected: ['data', 'uimage'],
      expectedWords: 'a raw U-Boot binary',
      value: (p) => p.ubootBinary,
      set: (p, v) => ({ ...p, ubootBinary: v }),
    });
  }
  list.push(
    {
      key: 'xen',
      jsonPath: '$.xen.binary',
      label: 'Xen hypervisor',
      hint: `The arm64 Xen binary, e.g. /boot/xen-${profile.xen.version}-arm64 from Debian’s xen-hypervisor-${profile.xen.version}-arm64.`,
      expected: ['arm64-image', 'data'],
      expectedWords: 'an arm64 Xen image',
      value: (p) => p.xen.binary,
      set: (p, v) => ({ ...p, xen: { ...p.xen, binary: v ?? '' } }),
    },
    {
      key: 'dtb',
      jsonPath: '$.deviceTree',
      label: 'Device tree',
      hint: board.deviceTreeNote,
      expected: ['dtb'],
      expectedWords: 'a device tree blob (.dtb)',
      value: (p) => p.deviceTree,
      set: (p, v) => ({ ...p, deviceTree: v ?? '' }),
    },
  );
  if (profile.dom0) {
    list.push({
      key: 'kernel',
      jsonPath: '$.dom0.kernel',
      label: 'Dom0 kernel',
      hint: 'An arm64 Linux Image, 5.9 or newer, as it is or gzip-compressed (Xen unpacks it; Debian’s linux-image-*-arm64 ships it as vmlinuz).',
      expected: ['arm64-image', 'gzip'],
      expectedWords: 'an arm64 Linux Image',
      value: (p) => p.dom0?.kernel,
      set: (p, v) => (p.dom0 ? { ...p, dom0: { ...p.dom0, kernel: v ?? '' } } : p),
    });
    if (!profile.dom0.rootOnCard) {
      list.push({
        key: 'ramdisk',
        jsonPath: '$.dom0.ramdisk',
        label: 'Dom0 ramdisk (optional)',
        hint: 'A cpio archive, optionally gzip-compressed: Dom0’s root filesystem in memory.',
        expected: ['cpio', 'gzip'],
        expectedWords: 'a cpio archive or gzip',
        value: (p) => p.dom0?.ramdisk,
        set: (p, v) => (p.dom0 ? { ...p, dom0: { ...p.dom0, ramdisk: v } } : p),
        optional: true,
      });
    }
  }
  list.push({
    key: 'base',
    jsonPath: '$.baseImage',
    label: 'Base image (optional)',
    hint: board.usesConfigTxt
      ? 'A Raspberry Pi OS image (.img, .img.xz): the card keeps its partitions and config.txt; its second partition can be Dom0’s root. Leave it empty for a fresh card: the app builds the card itself (see the Target step).'
      : 'A disk image (.img, .img.xz) whose partitions the card keeps; its second partition can be Dom0’s root.',
    expected: ['data', 'xz', 'gzip', 'zstd'],
    expectedWords: 'a disk image',
    value: (p) => p.baseImage,
    set: (p, v) => ({ ...p, baseImage: v }),
    optional: true,
  });
  return list;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]} (${bytes.toLocaleString('en')} bytes)`;
}

function componentProblem(
  row: ComponentRow,
  info: ComponentInfo | undefined,
  validation: DraftValidation,
  profile: Profile,
): FieldProblem | undefined {
  const fromProfile = validation.at(row.jsonPath);
  if (fromProfile?.severity === 'error') return fromProfile;
  if (!info) return fromProfile;
  if (info.problem) return { severity: 'error', message: info.problem }; // a named file must exist, optional or not
  // a gzip'd kernel is one only when a Linux banner was found inside
  const gzipWithoutKernel = row.key === 'kernel' && info.kind === 'gzip' && !info.linuxVersion;
  if (info.kind && (!row.expected.includes(info.kind) || gzipWithoutKernel)) {
    return { severity: 'warning', message: `This looks like ${info.description ?? info.kind}, not ${row.expectedWords}.` };
  }
  if (row.key === 'kernel') {
    const check = checkDom0KernelVersion(info.linuxVersion, profile.board);
    if (check.severity !== 'ok') return { severity: check.severity, message: check.message };
  }
  return fromProfile;
}

export function ComponentsStep({ wizard, validation }: StepProps) {
  const { draft } = wizard.state;
  const [infos, setInfos] = useState<Record<string, ComponentInfo>>({});
  const list = rows(draft);
  const paths = [...list.map((row) => row.value(draft) ?? ''), ...draft.firmware].join('\n');

  // inspect each named file shortly after typing stops
  useEffect(() => {
    const timer = setTimeout(() => {
      for (const file of paths.split('\n')) {
        if (!file) continue;
        inspectComponent(file).then(
          (info) => setInfos((old) => ({ ...old, [file]: info })),
          () => undefined,
        );
      }
    }, 300);
    return () => clearTimeout(timer);
  }, [paths]);

  return (
    <div>
      {draft.board === 'rpi4' && <DebianPartsPanel wizard={wizard} />}
      <p className="field-hint">
        Choose each file with Browse…, drop it on its field (desktop app), or type its full path. A relative name is looked up in the app’s
        components folder (where “Get everything from Debian” and <code>xen-pi-imager fetch-parts</code> put Debian’s parts).
      </p>
      {list.map((row) => {
        const value = row.value(draft) ?? '';
        const info = value ? infos[value] : undefined;
        const recognised =
          info?.exists && info.size !== undefined
            ? `${formatSize(info.size)} — ${info.description}${info.linuxVersion ? ` — Linux ${info.linuxVersion}` : ''}`
            : undefined;
        return (
          <PathField
            key={row.key}
            label={row.label}
            value={value}
            want="file"
            testId={`component-${row.key}`}
            hint={
              <>
                {recognised && (
                  <span className="ok block" data-testid={`recognised-${row.key}`}>
                    {recognised}
                  </span>
                )}
                {row.key === 'kernel' && value && (
                  <KernelGzipOffer file={value} info={info} onStored={(gzipped) => wizard.edit((p) => row.set(p, gzipped.path))} />
                )}
                {row.hint}
              </>
            }
            problem={componentProblem(row, info, validation, draft)}
            onChange={(next) => wizard.edit((p) => row.set(p, next.trim() ? next : row.optional ? undefined : ''))}
          />
        );
      })}
      {draft.dom0 && (
        <label className="choice">
          <input
            type="checkbox"
            checked={draft.dom0.rootOnCard}
            onChange={(e) =>
              wizard.edit((p) =>
                p.dom0 ? { ...p, dom0: { ...p.dom0, rootOnCard: e.target.checked, ...(e.target.checked && { ramdisk: undefined }) } } : p,
              )
            }
          />
          <span>
            Dom0’s root filesystem is the card’s second partition
            <small>
              Instead of a ramdisk: Dom0 mounts {boards[draft.board].rootPartition} with rootwait, so it waits for the SD driver to find the
              card (upstream Linux’s tree names the Pi 4’s SD slot mmcblk1: its Wi-Fi host comes first).
            </small>
          </span>
        </label>
      )}
      {boards[draft.board].usesConfigTxt && (
        <label className="choice">
          <input
            type="checkbox"
            checked={draft.deviceTreeSource === 'firmware'}
            data-testid="firmware-device-tree"
            onChange={(e) => wizard.edit((p) => ({ ...p, deviceTreeSource: e.target.checked ? 'firmware' : 'file' }))}
          />
          <span>
            Boot Xen with the firmware’s own device tree
            <small>
              Instead of loading the device tree above: the tree the Pi firmware hands U-Boot, with its memory, MAC address and overlays
              filled in.
            </small>
          </span>
        </label>
      )}
      {draft.firmware.length > 0 && (
        <section aria-labelledby="firmware-title">
          <h3 id="firmware-title">Firmware for a fresh card</h3>
          <p className="field-hint">Put at the card’s root when no base image is used; a Raspberry Pi OS base image keeps its own.</p>
          <ul className="file-list" data-testid="firmware-files">
            {draft.firmware.map((file) => (
              <li key={file}>
                <code>{file}</code>
                {draft.provenance?.[file] && (
                  <span className="field-hint">
                    {' '}
                    — {draft.provenance[file].package} {draft.provenance[file].version}
                  </span>
                )}
                {infos[file]?.problem && <span className="block field-problem error">Error: {infos[file].problem}</span>}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
