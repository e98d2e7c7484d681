// The host's side of the writer process: a writer that stops reading its requests fails them, and the app goes on.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WriterClient } from '../../../electron/services/drives/writer-client';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-writer-client-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the writer client', () => {
  it('fails the requests of a writer that closed its stdin, instead of crashing on EPIPE', async () => {
    // A writer that says hello, then stops reading (as one that crashed half-way would) but lives on.
    const script = path.join(dir, 'deaf-writer.mjs');
    fs.writeFileSync(
      script,
      `import fs from 'node:fs';
       fs.closeSync(0);
       process.stdout.write(JSON.stringify({ type: 'ready', version: 1, pid: process.pid, root: false }) + '\\n');
       setInterval(() => undefined, 1000);`,
    );
    const writer = await WriterClient.start({ script });
    const exited = new Promise((resolve) => writer.once('exit', resolve));
    await expect(writer.ping()).rejects.toMatchObject({
      code: 'WRITER_FAILED',
      message: expect.stringMatching(/stopped taking requests \(EPIPE\)/),
    });
    await exited;
    await expect(writer.scan()).rejects.toMatchObject({ code: 'WRITER_FAILED' });
  });
});
