// "Get everything from Debian" offline: apt-get update exits 0 when no index could be fetched, so the parts service
// must read its warnings and say the mirror is unreachable (not "No packages found" a step later).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmitImagerEvent } from '../../../shared/api';
import { createPartsService } from '../../../electron/services/emulator/parts-service';

/** An apt-get that prints what the real one prints without a network (measured in `unshare -n`), and exits 0. */
const OFFLINE_APT_GET = `#!/bin/sh
echo "Err:1 http://mirror.invalid/debian bookworm InRelease"
echo "  Temporary failure resolving 'mirror.invalid'"
echo "Reading package lists..."
echo "W: Failed to fetch http://mirror.invalid/debian/dists/bookworm/InRelease  Temporary failure resolving 'mirror.invalid'" >&2
echo "W: Some index files failed to download. They have been ignored, or old ones used instead." >&2
exit 0
`;

describe('fetching the Pi 4 parts without a network', () => {
  let work: string;
  let savedPath: string | undefined;
  const events: Array<{ name: string; payload: unknown }> = [];
  const emit: EmitImagerEvent = (name, payload) => events.push({ name, payload });

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'parts-offline-'));
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'apt-get'), OFFLINE_APT_GET, { mode: 0o755 });
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${process.env.PATH ?? ''}`;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
    fs.rmSync(work, { recursive: true, force: true });
  });

  const service = () =>
    createPartsService(
      { transport: 'browser', emit, openExternal: async () => {}, userDataDir: path.join(work, 'home') },
      { env: { ...process.env, XEN_PI_IMAGER_CACHE: path.join(work, 'cache') } },
    );

  it('says the mirror cannot be reached, with what to do, after showing the step it was on', async () => {
    await expect(service().partsFetch({ board: 'rpi4', xenVersion: '4.17' })).rejects.toMatchObject({
      code: 'OFFLINE',
      message: expect.stringMatching(/cannot be reached: this computer seems to be offline/),
      hint: expect.stringMatching(/Connect to the network/),
    });
    expect(events.filter((e) => e.name === 'parts:progress').map((e) => (e.payload as { message: string }).message)).toEqual([
      expect.stringMatching(/^Reading Debian’s arm64 package lists/),
    ]);
  });

  it('says the same when asked which Xen versions Debian has', async () => {
    await expect(service().partsXenVersions()).rejects.toMatchObject({ code: 'OFFLINE' });
  });
});
