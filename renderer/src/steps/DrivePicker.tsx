// On the Target step: the drives with their safety statuses, and the question before erasing them — whose confirm
// button follows shared/drives' rule, the one the writer enforces.
import { useEffect, useState } from 'react';
import type { DriveRow } from '../../../shared/api/drives';
import { unconfirmedStatuses } from '../../../shared/drives/safety';
import { driveShortName, formatDriveSize } from '../../../shared/drives/types';
import { listDrives, onHostEvent } from '../actions';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { TextField } from '../components/Field';
import type { TargetChoice } from '../wizard/store';

/** The drive list, kept current as cards come and go; system drives only when asked. */
export function useDrives(sourcePath: string | undefined, showError: (error: unknown) => void) {
  const [drives, setDrives] = useState<DriveRow[] | undefined>();
  const [showAll, setShowAll] = useState(false);
  useEffect(() => {
    const query = { all: showAll, ...(sourcePath?.startsWith('/') && { sourcePath }) };
    listDrives(query).then(setDrives, showError);
    return onHostEvent('drives:changed', () => void listDrives(query).then(setDrives, showError));
  }, [showAll, sourcePath, showError]);
  return { drives, showAll, setShowAll };
}

/** Drives nothing the user can confirm lets through (read-only, too small, the source's own drive). */
export function neverWritable(drive: DriveRow): boolean {
  return drive.statuses.some((s) => s.override === 'never');
}

interface DrivePickerProps {
  drives: DriveRow[] | undefined;
  showAll: boolean;
  setShowAll: (all: boolean) => void;
  target: TargetChoice;
  set: (patch: Partial<TargetChoice>) => void;
}

export function DrivePicker({ drives, showAll, setShowAll, target, set }: DrivePickerProps) {
  return (
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
            const never = neverWritable(drive);
            return (
              <li key={drive.device} className={never ? 'damaged' : undefined}>
                <label className="choice">
                  <input
                    type="checkbox"
                    disabled={never}
                    checked={target.devices.includes(drive.device)}
                    onChange={(e) =>
                      set({
                        devices: e.target.checked ? [...target.devices, drive.device] : target.devices.filter((d) => d !== drive.device),
                      })
                    }
                  />
                  <span>
                    <span className="name">{drive.description || driveShortName(drive)}</span>{' '}
                    <span className="meta">
                      {drive.device} · {formatDriveSize(drive.size)}
                    </span>
                    {drive.statuses.map((status) => (
                      <small
                        key={status.code}
                        className={`block ${status.severity === 'error' ? 'field-problem error' : status.severity === 'warning' ? 'warn' : ''}`}
                      >
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
  );
}

interface EraseConfirmationProps {
  open: boolean;
  chosen: DriveRow[];
  target: TargetChoice;
  set: (patch: Partial<TargetChoice>) => void;
  onCancel: () => void;
  onConfirm: () => void;
}

/** "Erase and write?", naming each drive and its size; a system drive needs its name typed, a large one a tick. */
export function EraseConfirmation({ open, chosen, target, set, onCancel, onConfirm }: EraseConfirmationProps) {
  const needsTypedName = chosen.filter((d) => d.statuses.some((s) => s.override === 'typed'));
  const needsLargeConfirm = chosen.some((d) => d.statuses.some((s) => s.override === 'confirm'));
  const confirmations = { systemDriveName: target.systemDriveName, largeDrive: target.confirmLargeDrive };
  const confirmed = chosen.every((d) => unconfirmedStatuses(d, d.statuses, confirmations).length === 0);
  return (
    <ConfirmDialog
      open={open}
      title="Erase and write?"
      confirmLabel="Erase and write"
      danger
      canConfirm={confirmed}
      onCancel={onCancel}
      onConfirm={onConfirm}
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
  );
}
