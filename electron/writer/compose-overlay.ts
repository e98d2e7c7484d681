// Composes the boot partition in memory: an overlay over the untouched base image, read back through the overlay.
import type { BootEditOutcome, BootEditRequest } from '../../shared/drives/flash';
import { applyBootEdit, compareBootFiles } from '../node/fat/boot-edit';
import { ImageOverlay } from '../node/fat/overlay';

/** Files for the FAT edit: bytes decoded from base64, or a path read when the edit runs. */
export function bootEditFiles(request: BootEditRequest) {
  return request.files.map((f) => ({
    name: f.name,
    ...(f.base64 !== undefined && { bytes: Buffer.from(f.base64, 'base64') }),
    ...(f.path !== undefined && { path: f.path }),
  }));
}

/** Edits the boot partition of `image` into an overlay (the file stays as it is), then reads the files back through it. */
export async function composeOverlay(
  image: string,
  request: BootEditRequest,
): Promise<{ overlay: ImageOverlay; outcome: BootEditOutcome }> {
  const overlay = new ImageOverlay();
  const edit = await applyBootEdit(
    image,
    {
      ...(request.configTxt && { configTxt: request.configTxt }),
      files: bootEditFiles(request),
      ...(request.requiredFiles && { requiredFiles: request.requiredFiles }),
    },
    overlay,
  );
  await compareBootFiles(image, edit.files, overlay);
  return {
    overlay,
    outcome: { written: edit.written, configTxtDiff: edit.configTxtDiff, configTxtChanged: edit.configTxtChanged, replaced: edit.replaced },
  };
}
