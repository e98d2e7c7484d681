// Step 7: where it goes — SD cards (with their safety statuses), an image file, or a folder — what the card starts from
// (a fresh card, or a base image), and a confirmation before erasing.
import { useEffect, useRef, useState } from 'react';
import type { DriveRow } from '../../../shared/api/drives';
import { isFreshCard } from '../../../shared/boot/generate';
import { driveShortName, formatDriveSize } from '../../../shared/drives/types';
import { api } from '../api/client';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { TextField } from '../components/Field';
import type { StepProps } from '../wizard/Wizard';
import type { TargetChoice } from '../wizard/store';

/** The image the write starts from: the ready-made image, or the profile's base image; undefined for a fresh card. */
export function sourceOf(props: Pick<StepProps, 'wizard'>): string | undefined {
  const { state } = props.wizard;
  return state.path === 'image' ? state.readyImage.path.trim() || undefined : state.draft.baseImage;
}

/** A Xen set-up whose card the app builds from nothing (no base image named). */
export function writesFreshCard(props: Pick<StepProps, 'wizard'>): boolean {
  const { state } = props.wizard;
  return state.path === 'xen' && isFreshCard(state.draft);
}

export function TargetStep(props: StepProps) {
  const { wizard, info, showError, validation } = props;
  const { state, setTarget, startWrite } = wizard;
  const target = state.target;
  const [drives, setDrives] = useState<DriveRow[] | undefined>();
  const [showAll, setShowAll] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const source = sourceOf(props);
  const set = (patch: Partial<TargetChoice>) => setTarget({ ...target, ...patch });
  const { draft } = state;
  // a fresh card is possible where the Raspberry Pi firmware starts U-Boot (the Pi 4), on the Xen path only
  const freshPossible = state.path === 'xen' && isFreshCard({ ...draft, baseImage: undefined });
  // "a base image" chosen but its path not typed yet: the choice stays until the user picks again
  const [baseChosen, setBaseChosen] = useState(false);
  const lastBase = useRef(draft.baseImage ?? '');
  const fresh = freshPossible && !baseChosen && draft.baseImage === undefined;
  const setBaseImage = (value: string) => {
    lastBase.current = value;
    wizard.edit((d) => ({ ...d, baseImage: value.trim() ? value : undefined }));
  };
  const chooseFresh = () => {
    setBaseChosen(false);
    wizard.edit((d) => ({ ...d, baseImage: undefined }));
  };
  const chooseBase = () => {
    setBaseChosen(true);
    if (lastBase.current.trim()) setBaseImage(lastBase.current);
  };

  useEffect(() => {
    const query = { all: showAll, ...(source?.startsWith('/') && { sourcePath: source }) };
    api.drivesList(query).then(setDrives, showError);
    return api.on('drives:changed', () => void api.drivesList(query).then(setDrives, showError));
  }, [showAll, source, showError]);

  const chosen = (drives ?? []).filter((d) => target.devices.includes(d.device));
  const needsTypedName = chosen.filter((d) => d.statuses.some((s) => s.override === 'typed'));
  const needsLargeConfirm = chosen.some((d) => d.statuses.some((s) => s.code === 'large'));
  const blocked = chosen.filter((d) => d.statuses.some((s) => s.override === 'never'));
  const profileErrors = state.path === 'xen' ? validation.problems.filter((p) => p.severity === 'error') : [];
  const needsSource = target.kind !== 'folder' && !source && !fresh;
  const freshWithoutFirmware = fresh && target.kind !== 'folder' && draft.firmware.length === 0;

  const ready =
    profileErrors.length === 0 &&
    !needsSource &&
    (target.kind === 'drive' ? chosen.length > 0 && blocked.length === 0 : target.kind === 'file' ? /\.img(\.xz)?$/.test(target.file.trim()) : target.folder.trim() !== '');

  const begin = () => (target.kind === 'drive' ? setConfirming(true) : startWrite(target));

  return (
    <div>
      <fieldset>
        <legend>Write to</legend>
        <label className="choice">
          <input type="radio" name="target" checked={target.kind === 'drive'} onChange={() => set({ kind: 'drive' })} data-testid="target-drive" />
          <span>
            An SD card or USB drive
            <small>{info.driveWriteNote}</small>
          </span>
        </label>
        <label className="choice">
          <input type="radio" name="target" checked={target.kind === 'file'} onChange={() => set({ kind: 'file' })} data-testid="target-file" />
          <span>
            An image file
            <small>The composed card as a .img (or .img.xz), ready for any flasher.</small>
          </span>
        </label>
        {state.path === 'xen' && (
          <label className="choice">
            <input type="radio" name="target" checked={target.kind === 'folder'} onChange={() => set({ kind: 'folder' })} data-testid="target-folder" />
            <span>
              A folder only
              <small>The TFTP root and the boot-partition files, to copy or serve yourself. Nothing is erased.</small>
            </span>
          </label>
        )}
      </fieldset>

      {state.path === 'xen' && target.kind !== 'folder' && (
        <fieldset>
          <legend>The card starts from</legend>
          {freshPossible && (
            <label className="choice">
              <input type="radio" name="card-source" checked={fresh} onChange={chooseFresh} data-testid="source-fresh" />
              <span>
                A fresh card (no base image)
                <small>
                  The app builds the whole card: a partition table and one FAT32 boot partition holding the firmware, config.txt, U-Boot, the boot
                  scripts{draft.boot.mode === 'sd' ? ' and every component' : ''}. Nothing to download; written in seconds.
                </small>
              </span>
            </label>
          )}
          <label className="choice">
            <input type="radio" name="card-source" checked={!fresh} onChange={chooseBase} data-testid="source-base" />
            <span>
              {freshPossible ? 'Raspberry Pi OS, or another base image' : 'A base image'}
              <small>
                {freshPossible
                  ? 'The image’s partitions stay; its config.txt gets the lines Xen needs, and U-Boot and the boot scripts go on its boot partition. Choose this for Raspberry Pi OS’s userspace on the card.'
                  : 'A disk image whose partitions the card keeps; the boot files go on its first partition.'}
              </small>
            </span>
          </label>
          {!fresh && (
            <TextField
              label="Base image"
              value={draft.baseImage ?? ''}
              monospace
              testId="target-base-image"
              placeholder="/home/me/raspios-bookworm-arm64-lite.img.xz"
              hint="A local .img, .img.xz, .img.gz or .zip, or an http(s) URL."
              problem={validation.at('$.baseImage')}
              onChange={setBaseImage}
            />
          )}
        </fieldset>
      )}
      {freshWithoutFirmware && (
        <p className="notice warn" data-testid="fresh-without-firmware">
          A fresh card needs the Raspberry Pi firmware (start4.elf, fixup4.dat) and the device tree it hands to U-Boot, and this profile names none: get
          them with “Get everything from Debian” on the Components step, or start from a base image.
        </p>
      )}
      {needsSource && (
        <p className="notice warn" data-testid="needs-source">
          {state.path === 'image' ? 'Choose the image to flash on the Start step.' : freshPossible ? 'Give the base image’s path above, or choose a fresh card.' : 'Give the base image’s path above.'}
        </p>
      )}
      {profileErrors.length > 0 && <p className="notice error">The profile has {profileErrors.length} problem(s) to fix first — the step list marks where.</p>}

      {target.kind === 'drive' && (
        <section aria-label="Drives">
          <div className="row">
            <h3>Drives</h3>
            <span className="header-spacer" />
            <label className="choice">
              <input type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} />
              <span>Show system drives</span>
            </label>
          </div>
          {drives === undefined ? (
            <p>Looking for drives…</p>
          ) : drives.length === 0 ? (
            <p className="field-hint" data-testid="no-drives">
              No removable drive found. Insert an SD card (a USB card reader works); the list updates by itself.
            </p>
          ) : (
            <ul className="profile-list" data-testid="drives">
              {drives.map((drive) => {
                const never = drive.statuses.some((s) => s.override === 'never');
                return (
                  <li key={drive.device} className={never ? 'damaged' : undefined}>
                    <label className="choice">
                      <input
                        type="checkbox"
                        disabled={never}
                        checked={target.devices.includes(drive.device)}
                        onChange={(e) => set({ devices: e.target.checked ? [...target.devices, drive.device] : target.devices.filter((d) => d !== drive.device) })}
                      />
                      <span>
                        <span className="name">{drive.description || driveShortName(drive)}</span>{' '}
                        <span className="meta">
                          {drive.device} · {formatDriveSize(drive.size)}
                        </span>
                        {drive.statuses.map((status) => (
                          <small key={status.code} className={`block ${status.severity === 'error' ? 'field-problem error' : status.severity === 'warning' ? 'warn' : ''}`}>
                            {status.reason}
                          </small>
                        ))}
                      </span>
                    </label>
                  </li>
                );
              })}
            </ul>
          )}
          <div className="row">
            <label className="choice">
              <input type="checkbox" checked={target.verify} onChange={(e) => set({ verify: e.target.checked })} />
              <span>Verify after writing (reads everything back)</span>
            </label>
            <label className="choice">
              <input type="checkbox" checked={target.eject} onChange={(e) => set({ eject: e.target.checked })} />
              <span>Eject when done</span>
            </label>
          </div>
        </section>
      )}

      {target.kind === 'file' && (
        <TextField
          label="Image file to write"
          value={target.file}
          monospace
          testId="target-file-path"
          placeholder="/home/me/xen-rpi4.img"
          hint="Ends in .img, or .img.xz to compress it (xz, multi-threaded)."
          problem={target.file && !/\.img(\.xz)?$/.test(target.file.trim()) ? { severity: 'error', message: 'The file name must end in .img or .img.xz.' } : undefined}
          onChange={(file) => set({ file })}
        />
      )}
      {target.kind === 'folder' && (
        <TextField
          label="Folder"
          value={target.folder}
          monospace
          testId="target-folder-path"
          placeholder="/home/me/xen-tftp"
          hint="Gets tftp/ (what the TFTP server serves) and boot/ (what goes on the card’s FAT partition)."
          onChange={(folder) => set({ folder })}
        />
      )}

      <div className="row">
        <span className="header-spacer" />
        <button type="button" className="primary" disabled={!ready} onClick={begin} data-testid="write">
          {target.kind === 'folder' ? 'Write the folder' : target.kind === 'file' ? 'Write the image file' : `Write ${chosen.length || ''} drive${chosen.length === 1 ? '' : 's'}`}
        </button>
      </div>

      <ConfirmDialog
        open={confirming}
        title="Erase and write?"
        confirmLabel="Erase and write"
        danger
        canConfirm={needsTypedName.every((d) => target.systemDriveName.trim() === driveShortName(d) || target.systemDriveName.trim() === d.device) && (!needsLargeConfirm || target.confirmLargeDrive)}
        onCancel={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          startWrite(target);
        }}
      >
        <p>Everything on these drives will be erased:</p>
        <ul>
          {chosen.map((d) => (
            <li key={d.device}>
              <strong>{d.description || driveShortName(d)}</strong> — {d.device}, {formatDriveSize(d.size)}
            </li>
          ))}
        </ul>
        {needsTypedName.length > 0 && (
          <TextField
            label={`This is a system drive. Type its name (${needsTypedName.map(driveShortName).join(', ')}) to write it anyway`}
            value={target.systemDriveName}
            monospace
            onChange={(systemDriveName) => set({ systemDriveName })}
          />
        )}
        {needsLargeConfirm && (
          <label className="choice">
            <input type="checkbox" checked={target.confirmLargeDrive} onChange={(e) => set({ confirmLargeDrive: e.target.checked })} />
            <span>Yes, I mean this unusually large drive (over 128 GB).</span>
          </label>
        )}
      </ConfirmDialog>
    </div>
  );
}
