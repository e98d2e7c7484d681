// Writes to a target end where the disk does: a short write goes on, and the failure names the exact byte.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAll } from '../../electron/writer/targets';
import { isRoot, MiB } from '../helpers/disk-images';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-targets-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!isRoot)('writing a chunk to a disk that fills up (needs root to mount a tmpfs)', () => {
  it('writes what fits, then fails with ENOSPC at the byte where the disk was full', async () => {
    const mountpoint = path.join(dir, 'small');
    fs.mkdirSync(mountpoint);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mountpoint]);
    try {
      const handle = await fs.promises.open(path.join(mountpoint, 'card.img'), 'w');
      try {
        const chunk = Buffer.alloc(8 * MiB, 0xa5);
        // One write of 8 MiB into 6 MiB of room: the kernel writes 6 MiB and says so, without an error.
        const outcome = writeAll((b, o, l, p) => handle.write(b, o, l, p), chunk, 0, chunk.length, 0, true);
        await expect(outcome).rejects.toMatchObject({ code: 'ENOSPC', offset: 6 * MiB, length: 2 * MiB });
        expect((await handle.stat()).size).toBe(6 * MiB);
      } finally {
        await handle.close();
      }
    } finally {
      execFileSync('umount', [mountpoint]);
    }
  });
});
