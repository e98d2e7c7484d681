// The drives domain's front door for the CLI: drive rows, the writer client, and flash or edit-in-place runs.
export { describeBlockDevice } from './block-info';
export { runEditInPlace, runFlash } from './flash-runner';
export { checkImageFileTarget } from './image-file';
export { driveRows } from './service';
export { WriterClient } from './writer-client';
