// Decompressing base images: a source that fails mid-read is reported as corrupt, not left to crash the app.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decompressTo } from '../../../electron/services/drives/source';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-source-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('decompressing a base image', () => {
  it('reports an .xz source that cannot be read (without the xz program) as corrupt', async () => {
    // /proc/self/mem stats as a regular file and fails every read at offset 0 (EIO)
    const source = path.join(dir, 'unreadable.img.xz');
    fs.symlinkSync('/proc/self/mem', source);
    const path0 = process.env.PATH;
    process.env.PATH = ''; // the built-in decompressor, which reads the file itself
    try {
      await expect(decompressTo(source, 'xz', path.join(dir, 'out.img'))).rejects.toMatchObject({
        code: 'SOURCE_CORRUPT',
        subject: source,
      });
    } finally {
      process.env.PATH = path0;
    }
  });
});
