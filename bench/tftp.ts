// Benchmark: the built-in TFTP server against Debian's tftpd-hpa (and a bare node:dgram floor), same 32 MiB file, same client and block size, side by side;
// then what each sends under issue 14's amplification attack.
// then the same over a LAN-like round trip (0.2 ms each way, through bench/udp-delay-relay.py), where windowsize matters most.
// Run: npx tsx bench/tftp.ts [--runs N] [--size MiB] [--lan-size MiB (0: skip)] [--lan-runs N] [--attack-seconds S (0: skip)]
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createTftpServer } from '../electron/services/tftp/server';
import { launchAttack, loopbackHosts } from '../test/services/tftp/attackers';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    size: { type: 'string', default: '32' },
    verbose: { type: 'boolean', default: false },
    only: { type: 'string' },
    'attack-seconds': { type: 'string', default: '12' },
    'lan-size': { type: 'string', default: '4' },
    'lan-runs': { type: 'string', default: '3' },
    'lan-delay-us': { type: 'string', default: '200' },
  },
});
const runs = Number(values.runs);
const attackSeconds = Number(values['attack-seconds']);
const size = Number(values.size) * 1024 * 1024;
const TFTPD = '/usr/sbin/in.tftpd';

/** Installs tftpd-hpa if needed, and makes sure its packaged daemon is not left listening on port 69. */
function ensureTftpdHpa(): void {
  if (!fs.existsSync(TFTPD)) {
    console.log('installing tftpd-hpa (the reference server) with apt-get...');
    execFileSync('apt-get', ['install', '-y', '-q', 'tftpd-hpa'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
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
  {
    name: 'tftp-hpa, blksize 512 (no options)',
    args: (port, file, out) => ['tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', file, out]],
  },
  {
    name: 'curl, blksize 512',
    args: (port, file, out) => ['curl', ['-sS', '--tftp-blksize', '512', '-o', out, `tftp://127.0.0.1:${port}/${file}`]],
  },
  {
    name: 'curl, blksize 1468 (U-Boot)',
    args: (port, file, out) => ['curl', ['-sS', '--tftp-blksize', '1468', '-o', out, `tftp://127.0.0.1:${port}/${file}`]],
  },
  {
    name: 'atftp, blksize 1468',
    args: (port, file, out) => ['atftp', ['--option', 'blksize 1468', '-g', '-r', file, '-l', out, '127.0.0.1', String(port)]],
  },
];

const windowed: Client[] = [8, 16, 32].map((window) => ({
  name: `atftp, blksize 1468, windowsize ${window}`,
  args: (port, file, out) => [
    'atftp',
    ['--option', 'blksize 1468', '--option', `windowsize ${window}`, '-g', '-r', file, '-l', out, '127.0.0.1', String(port)],
  ],
}));

/** One fetch; returns MiB/s, and checks the copy is byte-identical. */
function fetchOnce(client: Client, port: number, file: string, out: string, expected: string, bytes = size): Promise<number> {
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
      if (digest !== expected)
        return reject(new Error(`${client.name} from port ${port}: the copy (${copy.length} bytes) differs from the original`));
      resolve(bytes / seconds / (1024 * 1024));
    });
  });
}

/**
 * The floor any server on node:dgram stands on: lock-step only, every DATA packet prebuilt in memory,
 * a connected socket, no read-ahead, no timers, no events. Not a server to use; it shows how much of
 * the gap to tftpd-hpa is Node's cost per datagram (receive callback + send) rather than ours.
 */
async function nodeFloorServer(file: Buffer): Promise<{ port: number; close: () => void }> {
  const prebuilt = new Map<number, Buffer[]>();
  const packetsFor = (blksize: number) => {
    let packets = prebuilt.get(blksize);
    if (packets) return packets;
    packets = [];
    for (let index = 1; (index - 1) * blksize <= file.length; index++) {
      const payload = file.subarray((index - 1) * blksize, index * blksize);
      const packet = Buffer.allocUnsafe(4 + payload.length);
      packet.writeUInt16BE(3, 0);
      packet.writeUInt16BE(index & 0xffff, 2);
      payload.copy(packet, 4);
      packets.push(packet);
    }
    prebuilt.set(blksize, packets);
    return packets;
  };
  const listener = dgram.createSocket('udp4');
  listener.on('message', (request, rinfo) => {
    const fields = request.toString('latin1', 2).split('\0');
    const asked = fields.findIndex((field, i) => i >= 2 && field.toLowerCase() === 'blksize');
    const blksize = asked > 0 ? Number(fields[asked + 1]) : 512;
    const packets = packetsFor(blksize);
    const socket = dgram.createSocket('udp4');
    let acked = asked > 0 ? -1 : 0; // -1: waiting for the ACK of the OACK
    socket.on('message', (ack) => {
      if (ack.readUInt16BE(2) !== ((acked + 1) & 0xffff) && acked !== -1) return;
      acked++;
      if (acked >= packets.length) return socket.close();
      socket.send(packets[acked]!);
    });
    socket.bind(0, '127.0.0.1', () =>
      socket.connect(rinfo.port, rinfo.address, () =>
        socket.send(asked > 0 ? Buffer.from(`\0\x06blksize\0${blksize}\0`, 'latin1') : packets[0]!),
      ),
    );
  });
  await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', () => resolve()));
  return { port: listener.address().port, close: () => listener.close() };
}

/**
 * Issue 14's amplification attack: 128 read requests for the file with blksize 65464 and windowsize
 * 64 and one ACK each (about 6 KB sent), then silence for `seconds`. Returns what the server sent back.
 */
async function amplification(port: number, sources: string[], file: string, seconds: number): Promise<{ bytes: number; drops: number }> {
  const attack = await launchAttack({
    port,
    file,
    sources,
    options: [
      ['blksize', 65464],
      ['windowsize', 64],
    ],
    ackOack: true,
  });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const result = { bytes: attack.total().bytes, drops: attack.drops() };
  await attack.close();
  return result;
}

/** Whether this kernel has sch_netem (tried in a throwaway network namespace, so nothing here changes). */
function hasNetem(): boolean {
  try {
    execFileSync('unshare', ['-n', 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '200us'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A delaying relay in front of `serverPort` (its own process, so it takes nothing from the servers' event loops). */
async function delayRelay(serverPort: number, delayUs: number): Promise<{ port: number; stop: () => void }> {
  const port = await freePort();
  const relay = spawn(
    'python3',
    [path.join(import.meta.dirname, 'udp-delay-relay.py'), String(port), String(serverPort), String(delayUs)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.stdout!.once('data', () => resolve());
  });
  return { port, stop: () => relay.kill('SIGTERM') };
}

/** Lock-step and windowed fetches of a smaller file through the relay, ours and tftpd-hpa alternating. */
async function lanRoundTrip(root: string, out: string, ports: { ours: number; theirs: number }): Promise<void> {
  const lanBytes = Number(values['lan-size']) * 1024 * 1024;
  const lanRuns = Number(values['lan-runs']);
  const delayUs = Number(values['lan-delay-us']);
  if (lanBytes <= 0) return;
  const payload = randomBytes(lanBytes);
  fs.writeFileSync(path.join(root, 'lan.img'), payload, { mode: 0o644 });
  const expected = createHash('sha256').update(payload).digest('hex');
  const how = hasNetem() ? 'sch_netem is present, but the relay keeps the case the same everywhere' : 'this kernel has no sch_netem';
  console.log(`
LAN-like round trip: ${delayUs / 1000} ms each way through a delaying UDP relay (bench/udp-delay-relay.py; ${how}), ${lanBytes / (1 << 20)} MiB, ${lanRuns} runs, medians:`);
  const relays = { ours: await delayRelay(ports.ours, delayUs), theirs: await delayRelay(ports.theirs, delayUs) };
  const lanClients: Client[] = [
    clients.find((c) => c.name.startsWith('curl, blksize 1468'))!,
    windowed.find((c) => c.name.endsWith('windowsize 16'))!,
  ];
  try {
    console.log(`${'client'.padEnd(40)} ${'ours'.padStart(12)} ${'tftpd-hpa'.padStart(12)}  ours ÷ hpa`);
    for (const client of lanClients) {
      const rates = { ours: [] as number[], theirs: [] as number[] };
      for (let run = 0; run < lanRuns; run++) {
        for (const who of run % 2 ? (['theirs', 'ours'] as const) : (['ours', 'theirs'] as const)) {
          rates[who].push(await fetchOnce(client, relays[who].port, 'lan.img', out, expected, lanBytes));
        }
      }
      if (values.verbose)
        console.log(
          `  ours: ${rates.ours.map((r) => r.toFixed(2)).join(' ')}  tftpd-hpa: ${rates.theirs.map((r) => r.toFixed(2)).join(' ')}`,
        );
      console.log(
        `${client.name.padEnd(40)} ${mib(median(rates.ours))} ${mib(median(rates.theirs))}  ${(median(rates.ours) / median(rates.theirs)).toFixed(2).padStart(8)}×`,
      );
    }
  } finally {
    relays.ours.stop();
    relays.theirs.stop();
  }
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1).padStart(8)} MB`;

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
  const floor = await nodeFloorServer(payload);
  await new Promise((resolve) => setTimeout(resolve, 300));
  try {
    console.log(`ours on port ${ourPort}, tftpd-hpa on ${theirPort}, the node:dgram floor on ${floor.port}`);
    console.log(
      `${size / (1024 * 1024)} MiB over loopback, ${runs} runs each, servers in rotating order; medians. Machine: ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}.`,
    );
    console.log(
      `${'client'.padEnd(32)} ${'ours'.padStart(12)} ${'node floor'.padStart(12)} ${'tftpd-hpa'.padStart(12)}  ours ÷ hpa  floor ÷ hpa`,
    );
    const ratios: number[] = [];
    const floorRatios: number[] = [];
    const servers = { ours: ourPort, floor: floor.port, theirs: theirPort };
    for (const client of clients.filter((c) => !values.only || c.name.includes(values.only))) {
      const rates = { ours: [] as number[], floor: [] as number[], theirs: [] as number[] };
      for (let run = 0; run < runs; run++) {
        // rotate who goes first, so none always meets a warm or a cold cache
        const order = (['ours', 'floor', 'theirs'] as const).map((_, i, all) => all[(i + run) % all.length]!);
        for (const who of order) rates[who].push(await fetchOnce(client, servers[who], 'kernel.img', out, expected));
      }
      const ratio = median(rates.ours) / median(rates.theirs);
      const floorRatio = median(rates.floor) / median(rates.theirs);
      ratios.push(ratio);
      floorRatios.push(floorRatio);
      if (values.verbose)
        console.log(
          `  ours: ${rates.ours.map((r) => r.toFixed(0)).join(' ')}  floor: ${rates.floor.map((r) => r.toFixed(0)).join(' ')}  tftpd-hpa: ${rates.theirs.map((r) => r.toFixed(0)).join(' ')}`,
        );
      console.log(
        `${client.name.padEnd(32)} ${mib(median(rates.ours))} ${mib(median(rates.floor))} ${mib(median(rates.theirs))}  ${ratio.toFixed(2).padStart(8)}×  ${floorRatio.toFixed(2).padStart(10)}×`,
      );
    }
    const geometric = (values: number[]) => Math.exp(values.reduce((sum, r) => sum + Math.log(r), 0) / values.length);
    console.log(
      `geometric mean of ours ÷ tftpd-hpa: ${geometric(ratios).toFixed(2)}× (goal ≥ 1.0); of the node:dgram floor ÷ tftpd-hpa: ${geometric(floorRatios).toFixed(2)}×; our retransmissions: ${retransmissions}`,
    );

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

    await lanRoundTrip(root, out, { ours: ourPort, theirs: theirPort });

    if (attackSeconds > 0) {
      console.log(
        `\nunder issue 14's amplification attack (128 requests, blksize 65464, windowsize 64, one ACK each, then ${attackSeconds} s):`,
      );
      console.log(`${'attackers'.padEnd(32)} ${'ours sent'.padStart(11)} ${'tftpd-hpa sent'.padStart(14)}  ours ÷ hpa (goal ≤ 1)`);
      const variants: Array<[string, string[]]> = [
        ['from one host, 128 ports', Array.from({ length: 128 }, () => '127.0.0.3')],
        ['from 128 hosts', loopbackHosts(3, 128)],
      ];
      for (const [label, sources] of variants) {
        // a fresh server: nothing left from the throughput runs or the previous variant
        const attacked = createTftpServer({ root, address: '127.0.0.1', port: await freePort() });
        const ours = await amplification((await attacked.listen()).port, sources, 'kernel.img', attackSeconds);
        await attacked.close();
        const theirs = await amplification(theirPort, sources, 'kernel.img', attackSeconds);
        const dropped =
          ours.drops + theirs.drops > 0 ? `  (attackers' sockets dropped ${ours.drops} + ${theirs.drops} datagrams: lower bounds)` : '';
        console.log(
          `${label.padEnd(32)} ${megabytes(ours.bytes)} ${megabytes(theirs.bytes).padStart(14)}  ${(ours.bytes / theirs.bytes).toFixed(3).padStart(8)}×${dropped}`,
        );
      }
    }
  } finally {
    tftpd.kill('SIGTERM');
    floor.close();
    await ours.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
