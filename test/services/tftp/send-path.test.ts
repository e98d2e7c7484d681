// Every packet the server sends is a DATA header plus exactly its block's bytes: odd sizes, many transfers at once, resent blocks, repeated requests, asynchronous sends.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomFile, startServer, strictFetch, TftpClientError, tempRoot, type RunningServer, type StrictFetchOptions } from './helpers';

/** Sizes around the block sizes U-Boot (1468) and plain clients (512) use, and a 1013-byte boot2.scr. */
const sizes = [0, 1, 3, 4, 511, 512, 513, 1013, 1017, 1464, 1467, 1468, 1469, 2935, 2936, 2937, 4404, 4405, 9_999, 70_001];

let root: string;
const onDisk = new Map<string, Buffer>();
const inMemory = new Map<string, Buffer>();

beforeAll(() => {
  root = tempRoot('xpi-tftp-send-');
  for (const size of sizes) {
    onDisk.set(`disk-${size}.bin`, randomFile(root, `disk-${size}.bin`, size));
    inMemory.set(`memory-${size}.bin`, randomBytes(size));
  }
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const everyFile = () => [...onDisk, ...inMemory];

/** Fetches every file with each option set, all at once, and returns every violation seen. */
async function fetchAllAtOnce(
  port: number,
  optionSets: Array<StrictFetchOptions['options']>,
  extra: Partial<StrictFetchOptions> = {},
): Promise<string[]> {
  const fetches = optionSets.flatMap((options) =>
    everyFile().map(([file, expected]) => strictFetch({ port, file, expected, ...(options && { options }), ...extra })),
  );
  const results = await Promise.all(fetches);
  const violations = results.flatMap((result) => result.violations);
  for (const result of results) if (result.serverPorts !== 1) violations.push(`answered from ${result.serverPorts} ports`);
  return violations;
}

const uboot: Array<[string, number]> = [
  ['timeout', 5],
  ['tsize', 0],
  ['blksize', 1468],
];
const lockStepAndWindowed: Array<StrictFetchOptions['options']> = [
  uboot,
  [['blksize', 512]],
  [
    ['tsize', 0],
    ['blksize', 1468],
    ['windowsize', 4],
  ],
];

/** Options without `timeout`, so the server's short default retransmits a block the client ignored. */
const quick: Array<StrictFetchOptions['options']> = [
  [
    ['tsize', 0],
    ['blksize', 1468],
  ],
  [
    ['blksize', 512],
    ['windowsize', 3],
  ],
];

/** Ignores the first OACK and the first arrival of block 1, block 2 and the last block of every file, and sends each RRQ three times. */
async function fetchWithLoss(port: number): Promise<string[]> {
  const fetches = quick.flatMap((options) =>
    everyFile().map(([file, expected]) => {
      const blksize = Number(options!.find(([name]) => name === 'blksize')![1]);
      const last = Math.floor(expected.length / blksize) + 1;
      return strictFetch({ port, file, expected, options: options!, ignoreFirst: new Set([0, 1, 2, last]), requests: 3, timeoutMs: 150 });
    }),
  );
  const results = await Promise.all(fetches);
  return results.flatMap((result) => [
    ...result.violations,
    ...(result.serverPorts !== 1 ? [`answered from ${result.serverPorts} ports`] : []),
  ]);
}

describe('the send path, in this process', () => {
  let running: RunningServer;
  beforeAll(async () => {
    // every client here is 127.0.0.1: its share of the slots is raised with the total
    running = await startServer({ root, files: inMemory, timeoutMs: 40, maxRetries: 30, maxTransfers: 200, maxTransfersPerClient: 200 });
  });
  afterAll(() => running.server.close());

  it('sends every block of odd-sized small files as a 4-byte header plus exactly its bytes, 120 transfers at once', async () => {
    expect(await fetchAllAtOnce(running.port, lockStepAndWindowed)).toEqual([]);
  });

  it('resends the same bytes when the OACK or a block (the last one too) goes unacknowledged, and answers a repeated RRQ with one transfer', async () => {
    expect(await fetchWithLoss(running.port)).toEqual([]);
  });

  it('sends exactly the size tsize announced when the file grows during the transfer', async () => {
    const expected = randomFile(root, 'growing.bin', 3 * 1024 * 1024 + 5);
    const grow = () => fs.appendFileSync(path.join(root, 'growing.bin'), Buffer.from([0, 3, 0, 1]));
    const result = await strictFetch({ port: running.port, file: 'growing.bin', expected, options: uboot, onOack: grow });
    expect(result.violations).toEqual([]);
    expect(result.blocks).toBe(Math.floor(expected.length / 1468) + 1);
  });

  it('fails the transfer with an error when the file shrinks under it, rather than ending it early', async () => {
    const expected = randomFile(root, 'shrinking.bin', 3 * 1024 * 1024 + 5);
    const cut = () => fs.truncateSync(path.join(root, 'shrinking.bin'), 1000);
    const error = await strictFetch({ port: running.port, file: 'shrinking.bin', expected, options: uboot, onOack: cut }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TftpClientError);
    expect(error).toMatchObject({ code: 0, message: 'Read error' });
    expect(running.server.log.map((entry) => entry.message)).toContain(
      'shrinking.bin: reading the file failed: the file shrank to 1000 bytes while it was being sent (it had 3145733)',
    );
  });
});

/** Node's test switch that skips the synchronous try-send: every send then holds its buffer until it completes. */
const asyncSends = spawnSync(process.execPath, ['--test-udp-no-try-send', '-e', '0']).status === 0;

describe.skipIf(!asyncSends)('the send path when every send completes later (a buffer reused too early would show)', () => {
  let child: ChildProcess;
  let port: number;
  beforeAll(async () => {
    const files = Object.fromEntries([...inMemory].map(([name, bytes]) => [name, bytes.toString('base64')]));
    const settings = path.join(root, '..', `${path.basename(root)}.json`);
    fs.writeFileSync(settings, JSON.stringify({ root, timeoutMs: 40, files }));
    const script = path.join(import.meta.dirname, 'async-send-server.ts');
    child = spawn(process.execPath, ['--test-udp-no-try-send', '--import', 'tsx', script, settings], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve((JSON.parse(out) as { port: number }).port);
      });
      child.on('exit', (code) => reject(new Error(`the server exited (${code})`)));
    });
  });
  afterAll(async () => {
    fs.rmSync(path.join(root, '..', `${path.basename(root)}.json`), { force: true });
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin!.end();
    await exited;
  });

  it('sends every block exactly, 120 transfers at once', async () => {
    expect(await fetchAllAtOnce(port, lockStepAndWindowed)).toEqual([]);
  });

  it('resends exactly the same bytes after losses and repeated requests', async () => {
    expect(await fetchWithLoss(port)).toEqual([]);
  });
});
