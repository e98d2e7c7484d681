// Edit in place: update only the boot partition of a card that already holds Raspberry Pi OS, then read the files back from the card.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { assertDriveWritable } from '../../shared/drives/safety';
import { ImagerError } from '../../shared/errors';
import type { BootEditResult, EditBootRequest } from '../../shared/drives/writer-protocol';
import { applyBootEdit, compareBootFiles } from '../node/fat/boot-edit';
import { listDrives, toDriveInfo } from './scan';

const require = createRequire(import.meta.url);

function unmountDisk(device: string): Promise<void> {
  const mountutils = require('mountutils') as { unmountDisk(device: string, callback: (error?: Error | null) => void): void };
  return new Promise((resolve, reject) => mountutils.unmountDisk(device, (error) => (error ? reject(error) : resolve())));
}

/** Drops the kernel's cached blocks of the device, so the read-back sees the card, not memory. */
function flushBuffers(device: string): Promise<void> {
  return new Promise((resolve) => execFile('blockdev', ['--flushbufs', device], () => resolve()));
}

export async function editBootInPlace(request: EditBootRequest): Promise<BootEditResult> {
  const target = request.target;
  const name = target.kind === 'drive' ? target.device : target.path;
  if (target.kind === 'drive') {
    const listed = (await listDrives()).raw.find((d) => d.device === target.device);
    const drive = listed ? toDriveInfo(listed) : target.drive;
    if (!drive || !fs.statSync(target.device, { throwIfNoEntry: false })?.isBlockDevice()) {
      throw new ImagerError({
        code: 'NOT_FOUND',
        subject: target.device,
        message: `The drive ${target.device} is not connected.`,
        hint: 'Insert the card and choose it again.',
      });
    }
    assertDriveWritable(drive, {}, request.confirmations);
    try {
      await unmountDisk(target.device);
    } catch (error) {
      throw new ImagerError({
        code: 'DEVICE_BUSY',
        subject: target.device,
        message: `Could not unmount ${target.device}: ${(error as Error).message}.`,
        hint: 'Close programs using the card, unmount it, and try again.',
        details: { phase: 'preparing' },
      });
    }
  }
  const files = request.files.map((f) => ({
    name: f.name,
    ...(f.base64 !== undefined && { bytes: Buffer.from(f.base64, 'base64') }),
    ...(f.path !== undefined && { path: f.path }),
  }));
  const result = await applyBootEdit(name, {
    ...(request.configTxt && { configTxt: request.configTxt }),
    files,
    ...(request.requiredFiles && { requiredFiles: request.requiredFiles }),
  });
  if (target.kind === 'drive') await flushBuffers(target.device);
  await compareBootFiles(name, result.files);
  return {
    written: result.written,
    configTxtDiff: result.configTxtDiff,
    configTxtChanged: result.configTxtChanged,
    replaced: result.replaced,
  };
}
