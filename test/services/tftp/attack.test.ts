// `xen-pi-imager serve` under the two attacks of issue 14 at once: slot holders and amplifiers from 256 hosts; a real client still gets its file.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS } from '../../../electron/services/tftp/limits';
import { launchAttack, loopbackHosts, type Attack } from './attackers';
import { freePort, randomFile, runTool, tempRoot } from './helpers';

const appRoot = path.resolve(import.meta.dirname, '../../..');
/** What `serve` runs with: the defaults (retransmissions as the server option's default). */
const maxRetries = 5;
const OACK_MAX = 64; // "blksize\0 65464\0 windowsize\0 1\0 tsize\0 ...": well under 64 bytes
const ERROR_MAX = 64;
const HOSTS = 128;

/**
 * The most a transfer can send a client that acknowledges at most the OACK and never answers a
 * probe: its OACK and every retransmission of it, one window (windowsize × blksize within the
 * window limit, one block at least), then one block per retransmission.
 */
function transferBound(blksize: number): number {
  const windowBlocks = Math.max(1, Math.floor(DEFAULT_LIMITS.maxWindowBytes / blksize));
  return (1 + maxRetries) * OACK_MAX + (windowBlocks + maxRetries) * (blksize + 4);
}

let dir: string;
let kernel: Buffer;
let serve: ChildProcess;
let port: number;
let out = '';
const attacks: Attack[] = [];

beforeAll(async () => {
  dir = tempRoot('xpi-tftp-attack-');
  kernel = randomFile(dir, 'kernel.img', 4 * 1024 * 1024 + 3);
  port = await freePort();
  serve = spawn(process.execPath, ['--import', 'tsx', 'electron/cli/index.ts', 'serve', '--root', dir, '--port', String(port)], {
    cwd: appRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serve.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  serve.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await vi.waitFor(() => expect(out).toContain('Press Ctrl-C to stop.'), { timeout: 30_000 });
});

afterAll(async () => {
  await Promise.all(attacks.map((attack) => attack.close()));
  if (serve && serve.exitCode === null) serve.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('serve under attack', () => {
  it('still serves a real client byte-identical, sends attackers no more than its limits allow, stays under 200 MB, and says what it refused', async () => {
    // 128 requests asking timeout 255, then silence; 128 asking the largest block and window, and one ACK each.
    // In two waves of both kinds: the first takes every slot, the second finds none.
    const slotHosts = loopbackHosts(1, HOSTS);
    const amplifierHosts = loopbackHosts(2, HOSTS);
    const half = HOSTS / 2;
    const slotAttack = (sources: string[]) =>
      launchAttack({ port, file: 'kernel.img', sources, options: [['timeout', 255]], ackOack: false });
    const amplification = (sources: string[]) =>
      launchAttack({
        port,
        file: 'kernel.img',
        sources,
        options: [
          ['blksize', 65464],
          ['windowsize', 64],
        ],
        ackOack: true,
      });
    for (const wave of [0, 1]) {
      attacks.push(await slotAttack(slotHosts.slice(wave * half, (wave + 1) * half)));
      attacks.push(await amplification(amplifierHosts.slice(wave * half, (wave + 1) * half)));
    }
    const slots = { attackers: attacks.filter((_, i) => i % 2 === 0).flatMap((attack) => attack.attackers) };
    const amplifiers = { attackers: attacks.filter((_, i) => i % 2 === 1).flatMap((attack) => attack.attackers) };
    const bound = HOSTS * (transferBound(512) + ERROR_MAX) + HOSTS * (transferBound(65464) + ERROR_MAX);
    const received = () => attacks.reduce((sum, attack) => sum + attack.total().bytes, 0);
    // every attacker was refused, or was answered and then missed a deadline (its transfer idle, so it may give way)
    const settled = () => [...slots.attackers, ...amplifiers.attackers].every((one) => one.errors > 0 || one.repeats > 0);
    await vi.waitFor(() => expect(settled() || received() > bound).toBe(true), { timeout: 30_000, interval: 50 });
    expect(received(), `the attackers got ${received()} bytes; the limits allow ${bound}`).toBeLessThanOrEqual(bound);

    const copy = path.join(dir, 'fetched');
    const curl = await runTool('curl', ['-sS', '--tftp-blksize', '1468', '-o', copy, `tftp://127.0.0.1:${port}/kernel.img`], 60_000);
    expect(curl.stderr).toBe('');
    expect(fs.readFileSync(copy).equals(kernel)).toBe(true);

    expect(received()).toBeLessThanOrEqual(bound);
    expect(
      attacks.reduce((sum, attack) => sum + attack.drops(), 0),
      'datagrams the attackers’ sockets dropped (not counted above)',
    ).toBe(0);
    const peak = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${serve.pid}/status`, 'utf8'))![1]) * 1024;
    expect(peak, `serve peaked at ${(peak / 2 ** 20).toFixed(0)} MiB`).toBeLessThan(200 * 2 ** 20);

    const exited = new Promise<number | null>((resolve) => serve.once('exit', (code) => resolve(code)));
    serve.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toMatch(
      /limit: refused kernel\.img: 128 transfers already running, none of them idle \(at most 128\); told 127\.[12]\.0\.\d+:\d+ the server is busy/,
    );
    expect(out).toMatch(
      /limit: ended kernel\.img for 127\.[12]\.0\.\d+:\d+ \(no progress for [\d.]+ s\) to make room for kernel\.img from 127\.0\.0\.1:\d+/,
    );
    expect(out).toMatch(/limit: 127\.1\.0\.\d+:\d+ asked timeout 255 s for kernel\.img: declined/);
    expect(out).toMatch(/limit: 127\.2\.0\.\d+:\d+ asked windowsize 64 at blksize 65464 for kernel\.img: answered 1/);
    expect(out).toMatch(/127\.0\.0\.1:\d+ got kernel\.img: 4194307 bytes/);
    // rate-limited: one line per limit, then one summary per limit when serve stops
    expect(out.match(/limit: refused/g)!.length).toBeLessThanOrEqual(2);
  }, 120_000);
});
