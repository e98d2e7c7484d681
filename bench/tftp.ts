// Benchmark: the built-in TFTP server against Debian's tftpd-hpa, same 32 MiB file, same client and block size, side by side.
// Run: npx tsx bench/tftp.ts [--runs N] [--size MiB]
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createTftpServer } from '../electron/services/tftp/server';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, size: { type: 'string', default: '32' }, verbose: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const runs = Number(values.runs);
const size = Number(values.size) * 1024 * 1024;
const TFTPD = '/usr/sbin/in.tftpd';

/** Installs tftpd-hpa if needed, and makes sure its packaged daemon is not left listening on port 69. */
function ensureTftpdHpa(): void {
  if (!fs.existsSync(TFTPD)) {
    console.log('installing tftpd-hpa (the reference server) with apt-get...');
    execFileSync('apt-get', ['install', '-y', '-q', 'tftpd-hpa'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  const listening = execFileSync('ss', ['-H', '-ulpn', 'sport = :69'], { encoding: 'utf8' });
  for (const match of listening.matchAll(/"in\.tftpd",pid=(\d+)/g)) {
    console.log(`stopping the tftpd-hpa daemon the package started on port 69 (pid ${match[1]})`);
    try {
      execFileSync('service', ['tftpd-hpa', 'stop'], { stdio: 'ignore' });
    } catch {
      process.kill(Number(match[1]), 'SIGTERM');
    }
  }
}

async function freePort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

interface Client {
  name: string;
  /** Arguments for a fetch of FILE from PORT into OUT. */
  args: (port: number, file: string, out: string) => [string, string[]];
}

const clients: Client[] = [
  { name: 'tftp-hpa, blksize 512 (no options)', args: (port, file, out) => ['tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', file, out]] },
  { name: 'curl, blksize 512', args: (port, file, out) => ['curl', ['-sS', '--tftp-blksize', '512', '-o', out, `tftp://127.0.0.1:${port}/${file}`]] },
  { name: 'curl, blksize 1468 (U-Boot)', args: (port, file, out) => ['curl', ['-sS', '--tftp-blksize', '1468', '-o', out, `tftp://127.0.0.1:${port}/${file}`]] },
  { name: 'atftp, blksize 1468', args: (port, file, out) => ['atftp', ['--option', 'blksize 1468', '-g', '-r', file, '-l', out, '127.0.0.1', String(port)]] },
];

const windowed: Client[] = [8, 16, 32].map((window) => ({
  name: `atftp, blksize 1468, windowsize ${window}`,
  args: (port, file, out) => ['atftp', ['--option', 'blksize 1468', '--option', `windowsize ${window}`, '-g', '-r', file, '-l', out, '127.0.0.1', String(port)]],
}));

/** One fetch; returns MiB/s, and checks the copy is byte-identical. */
function fetchOnce(client: Client, port: number, file: string, out: string, expected: string): Promise<number> {
  const [command, args] = client.args(port, file, out);
  fs.rmSync(out, { force: true });
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 120_000 }, (error, _stdout, stderr) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // tftp-hpa exits 0 after an error packet: its stderr tells
      if (error || /error/i.test(stderr)) return reject(new Error(`${command} failed: ${stderr || error?.message}`));
      const copy = fs.readFileSync(out);
      const digest = createHash('sha256').update(copy).digest('hex');
      if (digest !== expected) return reject(new Error(`${client.name} from port ${port}: the copy (${copy.length} bytes) differs from the original`));
      resolve(size / seconds / (1024 * 1024));
    });
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const mib = (rate: number) => `${rate.toFixed(1).padStart(6)} MiB/s`;

async function main(): Promise<void> {
  ensureTftpdHpa();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-bench-tftp-'));
  fs.chmodSync(root, 0o755); // in.tftpd drops to the "tftp" user: it must be able to read the root
  const out = path.join(root, 'out');
  const payload = randomBytes(size);
  fs.writeFileSync(path.join(root, 'kernel.img'), payload, { mode: 0o644 });
  const expected = createHash('sha256').update(payload).digest('hex');

  const ours = createTftpServer({ root, address: '127.0.0.1', port: await freePort() });
  const ourPort = (await ours.listen()).port;
  let retransmissions = 0;
  ours.on('done', (done) => (retransmissions += done.retransmissions));
  const theirPort = await freePort();
  const tftpd: ChildProcess = spawn(TFTPD, ['-L', '-s', root, '-a', `127.0.0.1:${theirPort}`], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  try {
    console.log(`ours on port ${ourPort}, tftpd-hpa on ${theirPort}`);
    console.log(`${size / (1024 * 1024)} MiB over loopback, ${runs} runs each, alternating servers; medians. Machine: ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}.`);
    console.log(`${'client'.padEnd(40)} ${'ours'.padStart(12)} ${'tftpd-hpa'.padStart(12)}  ours ÷ theirs`);
    const ratios: number[] = [];
    for (const client of clients.filter((c) => !values.only || c.name.includes(values.only))) {
      const rates = { ours: [] as number[], theirs: [] as number[] };
      for (let run = 0; run < runs; run++) {
        // alternate who goes first, so neither always meets a warm or a cold cache
        const order = run % 2 ? (['theirs', 'ours'] as const) : (['ours', 'theirs'] as const);
        for (const who of order) rates[who].push(await fetchOnce(client, who === 'ours' ? ourPort : theirPort, 'kernel.img', out, expected));
      }
      const ratio = median(rates.ours) / median(rates.theirs);
      ratios.push(ratio);
      if (values.verbose) console.log(`  ours: ${rates.ours.map((r) => r.toFixed(0)).join(' ')}  tftpd-hpa: ${rates.theirs.map((r) => r.toFixed(0)).join(' ')}`);
      console.log(`${client.name.padEnd(40)} ${mib(median(rates.ours))} ${mib(median(rates.theirs))}  ${ratio.toFixed(2)}×`);
    }
    const geometric = Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length);
    console.log(`geometric mean of ours ÷ tftpd-hpa: ${geometric.toFixed(2)}× (goal ≥ 1.0); our retransmissions: ${retransmissions}`);

    console.log('\nwith RFC 7440 windowsize (tftpd-hpa does not support it: it answers lock-step):');
    for (const client of windowed) {
      const rates = { ours: [] as number[], theirs: [] as number[] };
      for (let run = 0; run < runs; run++) {
        rates.ours.push(await fetchOnce(client, ourPort, 'kernel.img', out, expected));
        rates.theirs.push(await fetchOnce(client, theirPort, 'kernel.img', out, expected));
      }
      const ratio = median(rates.ours) / median(rates.theirs);
      console.log(`${client.name.padEnd(40)} ${mib(median(rates.ours))} ${mib(median(rates.theirs))}  ${ratio.toFixed(2)}×`);
    }
  } finally {
    tftpd.kill('SIGTERM');
    await ours.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
