// Step 7: where it goes — SD cards, an image file, or a folder — what the card starts from, and the write button.
import { useState } from 'react';
import type { StepProps } from '../wizard/step-props';
import type { TargetChoice } from '../wizard/store';
import { sourceOf } from '../wizard/write-source';
import { PathField } from '../components/PathField';
import { CardSourceChoice, useCardSource } from './CardSource';
import { DrivePicker, EraseConfirmation, neverWritable, useDrives } from './DrivePicker';

export function TargetStep(props: StepProps) {
  const { wizard, info, showError, validation } = props;
  const { state, setTarget, startWrite } = wizard;
  const { draft, target } = state;
  const [confirming, setConfirming] = useState(false);
  const source = sourceOf(state);
  const set = (patch: Partial<TargetChoice>) => setTarget({ ...target, ...patch });
  const cardSource = useCardSource(props);
  const { fresh, freshPossible } = cardSource;
  const { drives, showAll, setShowAll } = useDrives(source, showError);

  const chosen = (drives ?? []).filter((d) => target.devices.includes(d.device));
  const blocked = chosen.filter(neverWritable);
  const profileErrors = state.path === 'xen' ? validation.problems.filter((p) => p.severity === 'error') : [];
  const needsSource = target.kind !== 'folder' && !source && !fresh;
  const freshWithoutFirmware = fresh && target.kind !== 'folder' && draft.firmware.length === 0;

  const ready =
    profileErrors.length === 0 &&
    !needsSource &&
    (target.kind === 'drive'
      ? chosen.length > 0 && blocked.length === 0
      : target.kind === 'file'
        ? /\.img(\.xz)?$/.test(target.file.trim())
        : target.folder.trim() !== '');

  const begin = () => (target.kind === 'drive' ? setConfirming(true) : startWrite(target));

  return (
    <div>
      <fieldset>
        <legend>Write to</legend>
        <label className="choice">
          <input
            type="radio"
            name="target"
            checked={target.kind === 'drive'}
            onChange={() => set({ kind: 'drive' })}
            data-testid="target-drive"
          />
          <span>
            An SD card or USB drive
            <small>{info.driveWriteNote}</small>
          </span>
        </label>
        <label className="choice">
          <input
            type="radio"
            name="target"
            checked={target.kind === 'file'}
            onChange={() => set({ kind: 'file' })}
            data-testid="target-file"
          />
          <span>
            An image file
            <small>The composed card as a .img (or .img.xz), ready for any flasher.</small>
          </span>
        </label>
        {state.path === 'xen' && (
          <label className="choice">
            <input
              type="radio"
              name="target"
              checked={target.kind === 'folder'}
              onChange={() => set({ kind: 'folder' })}
              data-testid="target-folder"
            />
            <span>
              A folder only
              <small>The TFTP root and the boot-partition files, to copy or serve yourself. Nothing is erased.</small>
            </span>
          </label>
        )}
      </fieldset>

      {state.path === 'xen' && target.kind !== 'folder' && <CardSourceChoice wizard={wizard} validation={validation} source={cardSource} />}
      {freshWithoutFirmware && (
        <p className="notice warn" data-testid="fresh-without-firmware">
          A fresh card needs the Raspberry Pi firmware (start4.elf, fixup4.dat) and the device tree it hands to U-Boot, and this profile
          names none: get them with “Get everything from Debian” on the Components step, or start from a base image.
        </p>
      )}
      {needsSource && (
        <p className="notice warn" data-testid="needs-source">
          {state.path === 'image'
            ? 'Choose the image to flash on the Start step.'
            : freshPossible
              ? 'Give the base image’s path above, or choose a fresh card.'
              : 'Give the base image’s path above.'}
        </p>
      )}
      {profileErrors.length > 0 && (
        <p className="notice error">The profile has {profileErrors.length} problem(s) to fix first — the step list marks where.</p>
      )}

      {target.kind === 'drive' && <DrivePicker drives={drives} showAll={showAll} setShowAll={setShowAll} target={target} set={set} />}
      {target.kind === 'file' && (
        <PathField
          label="Image file to write"
          value={target.file}
          want="new-file"
          extensions={['img', 'xz']}
          testId="target-file-path"
          placeholder="/home/me/xen-rpi4.img"
          hint="Ends in .img, or .img.xz to compress it (xz, multi-threaded)."
          problem={
            target.file && !/\.img(\.xz)?$/.test(target.file.trim())
              ? { severity: 'error', message: 'The file name must end in .img or .img.xz.' }
              : undefined
          }
          onChange={(file) => set({ file })}
        />
      )}
      {target.kind === 'folder' && (
        <PathField
          label="Folder"
          value={target.folder}
          want="folder"
          testId="target-folder-path"
          placeholder="/home/me/xen-tftp"
          hint="Gets tftp/ (what the TFTP server serves) and boot/ (what goes on the card’s FAT partition)."
          onChange={(folder) => set({ folder })}
        />
      )}

      <div className="row">
        <span className="header-spacer" />
        <button type="button" className="primary" disabled={!ready} onClick={begin} data-testid="write">
          {target.kind === 'folder'
            ? 'Write the folder'
            : target.kind === 'file'
              ? 'Write the image file'
              : `Write ${chosen.length || ''} drive${chosen.length === 1 ? '' : 's'}`}
        </button>
      </div>

      <EraseConfirmation
        open={confirming}
        chosen={chosen}
        target={target}
        set={set}
        onCancel={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          startWrite(target);
        }}
      />
    </div>
  );
}
