// A .deb that cannot be read any more once its members were listed: the error reaches the reader, nothing crashes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { openDebTar } from '../../../electron/services/emulator/deb-archive';
import { findExecutable } from '../../../electron/node/host-tools';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deb-read-error-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!findExecutable('dpkg-deb'))('reading a package that goes away', () => {
  it.each(['gzip', 'zstd'])('rejects a %s data member whose file vanished, without an unhandled error', async (compression) => {
    const root = path.join(dir, `pkg-${compression}`);
    fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
    fs.mkdirSync(path.join(root, 'usr/share/x'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/share/x/data'), 'x'.repeat(100_000));
    fs.writeFileSync(
      path.join(root, 'DEBIAN/control'),
      'Package: x\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: t\n',
    );
    const deb = path.join(dir, `x-${compression}.deb`);
    execFileSync('dpkg-deb', [`-Z${compression}`, '--build', root, deb], { stdio: 'ignore' });
    const stream = await openDebTar(deb, 'data');
    fs.rmSync(deb); // the read stream opens its file only now: ENOENT on the raw side
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    await expect(pipeline(stream, sink)).rejects.toThrow(/ENOENT|premature|closed/i);
  });
});
