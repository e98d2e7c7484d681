// The TFTP server against real clients (curl, tftp-hpa, atftp) and a Node client that asks exactly what U-Boot asks.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TftpDoneEvent, TftpRequestEvent } from '../../../shared/api/tftp';
import { fetchFile, randomFile, runTool, startServer, tempRoot, ubootOptions, type RunningServer } from './helpers';

let root: string;
let out: string;
let running: RunningServer;
const files = new Map<string, Buffer>();

beforeAll(async () => {
  root = tempRoot();
  out = tempRoot('xpi-tftp-out-');
  for (const [name, size] of [
    ['empty.bin', 0],
    ['one-block.bin', 512],
    ['one-uboot-block.bin', 1468],
    ['four-blocks.bin', 4 * 512],
    ['odd.bin', 100_003],
    ['kernel.img', 3 * 1024 * 1024 + 77],
  ] as const) {
    files.set(name, randomFile(root, name, size));
  }
  running = await startServer({ root });
});

afterAll(async () => {
  await running.server.close();
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
});

function outFile(name: string): string {
  return path.join(out, `${name}-${Math.random().toString(36).slice(2)}`);
}

describe('curl (tftp://)', () => {
  // curl 7.88 cannot fetch a 0-byte file when it sends options (exit 71 against tftpd-hpa too): see below
  it.each(['one-block.bin', 'four-blocks.bin', 'odd.bin', 'kernel.img'])(
    'fetches %s byte-identical with its default options',
    async (name) => {
      const target = outFile(name);
      const result = await runTool('curl', ['-sS', '-o', target, `tftp://127.0.0.1:${running.port}/${name}`]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(fs.readFileSync(target).equals(files.get(name)!)).toBe(true);
    },
  );

  it('fetches with --tftp-blksize 1468 (U-Boot’s block size)', async () => {
    const target = outFile('kernel');
    const result = await runTool('curl', ['-sS', '--tftp-blksize', '1468', '-o', target, `tftp://127.0.0.1:${running.port}/kernel.img`]);
    expect(result.code).toBe(0);
    expect(fs.readFileSync(target).equals(files.get('kernel.img')!)).toBe(true);
  });

  it.each(['empty.bin', 'odd.bin'])('fetches %s with --tftp-no-options (plain RFC 1350)', async (name) => {
    const target = outFile(name);
    const result = await runTool('curl', ['-sS', '--tftp-no-options', '-o', target, `tftp://127.0.0.1:${running.port}/${name}`]);
    expect(result.code).toBe(0);
    expect(fs.readFileSync(target).equals(files.get(name)!)).toBe(true);
  });

  it('gets "file not found" (curl exit 68) for a missing file', async () => {
    const result = await runTool('curl', ['-sS', '-o', outFile('missing'), `tftp://127.0.0.1:${running.port}/missing.bin`]);
    expect(result.code).toBe(68);
  });
});

describe('tftp-hpa (no options)', () => {
  it.each(['empty.bin', 'one-block.bin', 'four-blocks.bin', 'kernel.img'])('fetches %s in binary mode', async (name) => {
    const target = outFile(name);
    const result = await runTool('tftp', ['-m', 'binary', '127.0.0.1', String(running.port), '-c', 'get', name, target]);
    expect(result.code).toBe(0);
    expect(fs.readFileSync(target).equals(files.get(name)!)).toBe(true);
  });

  it('fetches a text file in netascii mode and gets the same lines back', async () => {
    const text = 'setenv serverip 10.0.0.1\nbare\rreturn\r\nend\n';
    fs.writeFileSync(path.join(root, 'notes.txt'), text);
    const target = outFile('notes');
    const result = await runTool('tftp', ['-m', 'netascii', '127.0.0.1', String(running.port), '-c', 'get', 'notes.txt', target]);
    expect(result.code).toBe(0);
    expect(fs.readFileSync(target, 'latin1')).toBe(text);
  });
});

describe('atftp', () => {
  it('fetches with blksize 1468', async () => {
    const target = outFile('kernel');
    const result = await runTool('atftp', [
      '--option',
      'blksize 1468',
      '-g',
      '-r',
      'kernel.img',
      '-l',
      target,
      '127.0.0.1',
      String(running.port),
    ]);
    expect(result.code).toBe(0);
    expect(fs.readFileSync(target).equals(files.get('kernel.img')!)).toBe(true);
  });

  it('fetches with windowsize 8 (RFC 7440)', async () => {
    const target = outFile('kernel');
    const done = new Promise<TftpDoneEvent>((resolve) => running.server.once('done', resolve));
    const result = await runTool('atftp', [
      '--option',
      'blksize 1468',
      '--option',
      'windowsize 8',
      '-g',
      '-r',
      'kernel.img',
      '-l',
      target,
      '127.0.0.1',
      String(running.port),
    ]);
    expect(result.code).toBe(0);
    expect(fs.readFileSync(target).equals(files.get('kernel.img')!)).toBe(true);
    expect((await done).windowsize).toBe(8);
  });

  it('fetches a file of exactly one block and one of whole blocks', async () => {
    for (const name of ['one-uboot-block.bin', 'four-blocks.bin']) {
      const target = outFile(name);
      const blksize = name === 'one-uboot-block.bin' ? '1468' : '512';
      const result = await runTool('atftp', [
        '--option',
        `blksize ${blksize}`,
        '-g',
        '-r',
        name,
        '-l',
        target,
        '127.0.0.1',
        String(running.port),
      ]);
      expect(result.code).toBe(0);
      expect(fs.readFileSync(target).equals(files.get(name)!)).toBe(true);
    }
  });
});

describe('a client that asks what U-Boot asks', () => {
  it('gets blksize 1468, timeout 5 and the real tsize acknowledged, then the file', async () => {
    const requests: TftpRequestEvent[] = [];
    const listener = (event: TftpRequestEvent) => requests.push(event);
    running.server.on('request', listener);
    const result = await fetchFile({ port: running.port, file: 'kernel.img', options: ubootOptions() });
    running.server.off('request', listener);
    expect(result.oack).toEqual({ timeout: '5', tsize: String(files.get('kernel.img')!.length), blksize: '1468' });
    expect(result.data.equals(files.get('kernel.img')!)).toBe(true);
    expect(requests.at(-1)).toMatchObject({
      kind: 'request',
      file: 'kernel.img',
      mode: 'octet',
      options: { blksize: '1468', timeout: '5', tsize: '0' },
    });
  });

  it('gets a windowsize 16 acknowledged and the file in windows', async () => {
    const result = await fetchFile({ port: running.port, file: 'odd.bin', options: ubootOptions(16) });
    expect(result.oack?.windowsize).toBe('16');
    expect(result.data.equals(files.get('odd.bin')!)).toBe(true);
    expect(result.duplicates).toBe(0);
  });

  it('fetches a 0-byte file and a file of exactly one 1468-byte block', async () => {
    const empty = await fetchFile({ port: running.port, file: 'empty.bin', options: ubootOptions() });
    expect(empty.data.length).toBe(0);
    expect(empty.oack?.tsize).toBe('0');
    const one = await fetchFile({ port: running.port, file: 'one-uboot-block.bin', options: ubootOptions() });
    expect(one.data.equals(files.get('one-uboot-block.bin')!)).toBe(true);
    expect(one.dataPackets).toBe(2); // the full block, then the empty block that ends the transfer
  });

  it('normalises names the way U-Boot and PXE clients send them (leading slash, backslashes)', async () => {
    randomFile(root, 'pxelinux.cfg/default', 10);
    const expected = fs.readFileSync(path.join(root, 'pxelinux.cfg/default'));
    for (const name of ['/kernel.img', '//./kernel.img', 'pxelinux.cfg\\default', '\\pxelinux.cfg\\default', '/pxelinux.cfg//default']) {
      const result = await fetchFile({ port: running.port, file: name, options: ubootOptions() });
      expect(result.data.equals(name.includes('pxelinux') ? expected : files.get('kernel.img')!), name).toBe(true);
    }
  });

  it('reports progress and done with bytes, time and rate', async () => {
    const { server, port } = await startServer({ root, progressIntervalMs: 0 });
    try {
      const progress: number[] = [];
      server.on('progress', (event) => progress.push(event.bytes));
      const done = new Promise<TftpDoneEvent>((resolve) => server.once('done', resolve));
      await fetchFile({ port, file: 'odd.bin', options: ubootOptions() });
      const event = await done;
      expect(event).toMatchObject({ kind: 'done', file: 'odd.bin', bytes: 100_003, blksize: 1468, windowsize: 1, retransmissions: 0 });
      expect(event.ms).toBeGreaterThan(0);
      expect(event.rate).toBeCloseTo((event.bytes * 1000) / event.ms, 3);
      expect(progress.length).toBeGreaterThan(10);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      expect(server.log.some((entry) => entry.message.startsWith('sent odd.bin: 100003 bytes'))).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('block numbers past 65535', () => {
  it('rolls over with blksize 8 (65540 blocks) for the U-Boot-like client', async () => {
    const bytes = randomFile(root, 'rollover-8.bin', 8 * 65_540 + 3);
    const result = await fetchFile({
      port: running.port,
      file: 'rollover-8.bin',
      options: [
        ['blksize', 8],
        ['windowsize', 32],
      ],
    });
    expect(result.data.equals(bytes)).toBe(true);
  });

  it('rolls over at blksize 512 with tftp-hpa (65540 blocks, 32 MiB)', async () => {
    const bytes = randomFile(root, 'rollover-512.bin', 512 * 65_540);
    const target = outFile('rollover');
    const result = await runTool(
      'tftp',
      ['-m', 'binary', '127.0.0.1', String(running.port), '-c', 'get', 'rollover-512.bin', target],
      60_000,
    );
    expect(result.code).toBe(0);
    expect(fs.readFileSync(target).equals(bytes)).toBe(true);
  }, 60_000);
});

describe('many clients', () => {
  it('serves ten clients at once, each byte-identical', async () => {
    const fetches = Array.from({ length: 10 }, async (_, i) => {
      const name = i % 2 === 0 ? 'kernel.img' : 'odd.bin';
      if (i % 3 === 0) return (await fetchFile({ port: running.port, file: name, options: ubootOptions(i % 2 ? 4 : 1) })).data;
      const target = outFile(`many-${i}`);
      const args =
        i % 3 === 1
          ? ['curl', ['-sS', '-o', target, `tftp://127.0.0.1:${running.port}/${name}`]]
          : ['tftp', ['-m', 'binary', '127.0.0.1', String(running.port), '-c', 'get', name, target]];
      const result = await runTool(args[0] as string, args[1] as string[]);
      expect(result.code).toBe(0);
      return fs.readFileSync(target);
    });
    const results = await Promise.all(fetches);
    results.forEach((data, i) => expect(data.equals(files.get(i % 2 === 0 ? 'kernel.img' : 'odd.bin')!), `client ${i}`).toBe(true));
    // each client has sent its last ACK; the server sees it a moment later
    await vi.waitFor(() => expect(running.server.active).toEqual([]));
  });
});

describe('generated files in memory', () => {
  it('serves in-memory files first, and setFiles replaces them', async () => {
    const generated = new TextEncoder().encode('source 0x40C00000\n');
    fs.writeFileSync(path.join(root, 'boot2.scr'), 'the copy on disk');
    const { server, port } = await startServer({ root, files: new Map([['/boot2.scr', generated]]) });
    try {
      expect((await fetchFile({ port, file: 'boot2.scr' })).data.toString()).toBe('source 0x40C00000\n');
      server.setFiles(new Map([['xen', new Uint8Array([1, 2, 3])]]));
      expect((await fetchFile({ port, file: 'boot2.scr' })).data.toString()).toBe('the copy on disk');
      expect([...(await fetchFile({ port, file: '/xen' })).data]).toEqual([1, 2, 3]);
    } finally {
      await server.close();
    }
  });

  it('serves only the in-memory files when there is no root', async () => {
    const { port, server } = await startServer({ files: new Map([['boot2.scr', new Uint8Array(3000).fill(7)]]) });
    try {
      expect((await fetchFile({ port, file: 'boot2.scr', options: ubootOptions() })).data.length).toBe(3000);
      await expect(fetchFile({ port, file: 'kernel.img' })).rejects.toMatchObject({ code: 1 });
    } finally {
      await server.close();
    }
  });
});
