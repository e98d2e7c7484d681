// Writes a file so that a crash at any moment leaves either the old content or the new, never a mix or nothing.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export const TEMP_SUFFIX = '.tmp-xpi';

/** The filesystem calls atomic writes use; tests swap one to simulate a crash mid-way. */
export interface AtomicFs {
  open: typeof fs.open;
  rename: typeof fs.rename;
  rm: typeof fs.rm;
}

const realFs: AtomicFs = { open: fs.open, rename: fs.rename, rm: fs.rm };

/**
 * temp file in the same folder → write → fsync → rename over the target → fsync the folder.
 * The rename is atomic on POSIX and NTFS; the fsyncs make it survive a power cut, not just a crash.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array, fsImpl: AtomicFs = realFs): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  try {
    const handle = await fsImpl.open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsImpl.rename(temp, file);
  } catch (error) {
    await fsImpl.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncFolder(dir);
}

async function syncFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // folders cannot be opened for fsync there
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // some filesystems refuse fsync on a folder; the rename already happened
  } finally {
    await handle.close();
  }
}

/** Removes temp files a crashed earlier run left behind in `dir`. Returns their names. */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((name) => name.endsWith(TEMP_SUFFIX));
  await Promise.all(stale.map((name) => fs.rm(path.join(dir, name), { force: true })));
  return stale;
}
