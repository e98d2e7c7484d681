// Benchmark: write a realistic 1 GiB Raspberry-Pi-like image to a used loop-device card with dd, bmaptool and our writer; print time ratios and correctness.
// Run as root: npx tsx bench/flash.ts [--size-mib 1024] [--runs 3] [--work DIR (keeps the image for the next run)] [--only bmaptool,raw,full,xz,xz-alone,xz-cached,raw-composed,xz-serial]
//   [--card WRITE/READ]: a card-like loop device, throttled to WRITE and READ MB/s while each case runs (e.g. --card 40/90, an SD card's).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeImage } from '../electron/services/drives/compose';
import { runFlash } from '../electron/services/drives/flash-runner';
import { WriterClient } from '../electron/services/drives/writer-client';
import { loopDrive } from '../test/helpers/disk-images';

const MiB = 1024 * 1024;
const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const totalMiB = Number(option('--size-mib') ?? 1024);
const bootMiB = 256;
const rootMiB = totalMiB - bootMiB - 4;

const run = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(input !== undefined && { input }),
  });

interface Layout {
  image: string;
  boot: { offset: number; size: number };
  root: { offset: number; size: number };
  bootFiles: Map<string, Buffer>;
  rootFiles: Map<string, Buffer>;
}

type SavedLayout = Omit<Layout, 'bootFiles' | 'rootFiles'> & { bootFiles: string[]; rootFiles: string[] };

/** The image of an earlier run in `dir` (--work DIR), its expected files read back from the image itself. */
function loadLayout(dir: string): Layout | undefined {
  const file = path.join(dir, 'layout.json');
  if (!fs.existsSync(file)) return undefined;
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as SavedLayout;
  if (saved.boot.size + saved.root.size + saved.boot.offset !== totalMiB * MiB) return undefined;
  const fat = extract(saved.image, saved.boot.offset, saved.boot.size, path.join(dir, 'expected.fat'));
  const bootFiles = new Map(
    saved.bootFiles.map((name) => [name, execFileSync('mcopy', ['-n', '-i', fat, `::${name}`, '-'], { maxBuffer: 64 * MiB })]),
  );
  fs.rmSync(fat);
  const ext = extract(saved.image, saved.root.offset, saved.root.size, path.join(dir, 'expected.ext4'));
  const rootFiles = new Map(
    saved.rootFiles.map((name) => [
      name,
      execFileSync('debugfs', ['-R', `cat /${name}`, ext], { maxBuffer: 128 * MiB, stdio: ['ignore', 'pipe', 'ignore'] }),
    ]),
  );
  fs.rmSync(ext);
  return { ...saved, bootFiles, rootFiles };
}

function saveLayout(dir: string, layout: Layout): void {
  const saved: SavedLayout = { ...layout, bootFiles: [...layout.bootFiles.keys()], rootFiles: [...layout.rootFiles.keys()] };
  fs.writeFileSync(path.join(dir, 'layout.json'), JSON.stringify(saved));
}

/** A sparse image: FAT32 boot with firmware-sized files, ext4 root about a third full of data, the rest free. */
function buildImage(dir: string): Layout {
  const bootFat = path.join(dir, 'boot.fat');
  run('mkfs.vfat', ['-F', '32', '-n', 'bootfs', '-C', bootFat, String(bootMiB * 1024)]);
  const bootFiles = new Map<string, Buffer>([
    ['config.txt', Buffer.from('arm_64bit=1\ndtoverlay=vc4-kms-v3d\n[all]\n')],
    ['start4.elf', randomBytes(2 * MiB)],
    ['kernel8.img', randomBytes(9 * MiB)],
    ['initramfs8', randomBytes(12 * MiB)],
    ['bcm2711-rpi-4-b.dtb', randomBytes(55_000)],
  ]);
  for (const [name, bytes] of bootFiles) {
    const local = path.join(dir, `f-${name}`);
    fs.writeFileSync(local, bytes);
    run('mcopy', ['-i', bootFat, local, `::${name}`]);
    fs.rmSync(local);
  }
  const rootDir = path.join(dir, 'rootfs');
  const rootFiles = new Map<string, Buffer>();
  const dataBytes = Math.floor((rootMiB * MiB) / 3);
  for (let i = 0, done = 0; done < dataBytes; i++) {
    const size = Math.min(dataBytes - done, (1 + (i % 16)) * 2 * MiB);
    rootFiles.set(`usr/lib/blob-${i}.bin`, randomBytes(size));
    done += size;
  }
  for (const [name, bytes] of rootFiles) {
    fs.mkdirSync(path.dirname(path.join(rootDir, name)), { recursive: true });
    fs.writeFileSync(path.join(rootDir, name), bytes);
  }
  const rootExt4 = path.join(dir, 'root.ext4');
  run('mkfs.ext4', ['-q', '-F', '-L', 'rootfs', '-d', rootDir, rootExt4, `${rootMiB}M`]);
  fs.rmSync(rootDir, { recursive: true });
  const image = path.join(dir, 'raspios-like.img');
  const bootOffset = 4 * MiB;
  const rootOffset = bootOffset + bootMiB * MiB;
  fs.writeFileSync(image, '');
  fs.truncateSync(image, rootOffset + rootMiB * MiB);
  run(
    'sfdisk',
    ['--quiet', image],
    `label: dos\nstart=${bootOffset / 512}, size=${(bootMiB * MiB) / 512}, type=c\nstart=${rootOffset / 512}, type=83\n`,
  );
  // Copy sparsely, as a real image file is: bmaptool maps holes, and so would a downloaded image once decompressed.
  run('dd', [`if=${bootFat}`, `of=${image}`, 'bs=1M', `seek=${bootOffset / MiB}`, 'conv=notrunc,sparse', 'status=none']);
  run('dd', [`if=${rootExt4}`, `of=${image}`, 'bs=1M', `seek=${rootOffset / MiB}`, 'conv=notrunc,sparse', 'status=none']);
  fs.rmSync(bootFat);
  fs.rmSync(rootExt4);
  return {
    image,
    boot: { offset: bootOffset, size: bootMiB * MiB },
    root: { offset: rootOffset, size: rootMiB * MiB },
    bootFiles,
    rootFiles,
  };
}

function extract(source: string, offset: number, size: number, into: string): string {
  run('dd', [`if=${source}`, `of=${into}`, 'bs=1M', `skip=${offset / MiB}`, `count=${size / MiB}`, 'status=none']);
  return into;
}

/** Partition table identical, both file systems clean, every file identical. */
/** What a composing case adds to the boot partition (a U-Boot-sized file and the config.txt rules). */
const UBOOT = randomBytes(600_000);

function check(card: string, layout: Layout, dir: string, composed = false): string {
  const problems: string[] = [];
  const head = (file: string) => {
    const fd = fs.openSync(file, 'r');
    const b = Buffer.alloc(512);
    fs.readSync(fd, b, 0, 512, 0);
    fs.closeSync(fd);
    return b;
  };
  if (!head(card).equals(head(layout.image))) problems.push('partition table differs');
  const fat = extract(card, layout.boot.offset, layout.boot.size, path.join(dir, 'check.fat'));
  try {
    run('fsck.vfat', ['-n', fat]);
  } catch (error) {
    problems.push(`fsck.vfat: ${(error as { stdout?: string }).stdout?.split('\n').slice(1, 3).join(' ')}`);
  }
  if (composed) {
    try {
      if (!execFileSync('mcopy', ['-n', '-i', fat, '::u-boot.bin', '-'], { maxBuffer: 64 * MiB }).equals(UBOOT))
        problems.push('boot u-boot.bin differs');
      if (!/^kernel=u-boot\.bin$/m.test(execFileSync('mcopy', ['-n', '-i', fat, '::config.txt', '-']).toString()))
        problems.push('config.txt not merged');
    } catch {
      problems.push('composed boot files unreadable');
    }
  }
  for (const [name, bytes] of layout.bootFiles) {
    if (composed && name === 'config.txt') continue;
    try {
      if (!execFileSync('mcopy', ['-n', '-i', fat, `::${name}`, '-'], { maxBuffer: 64 * MiB }).equals(bytes))
        problems.push(`boot ${name} differs`);
    } catch {
      problems.push(`boot ${name} unreadable`);
    }
  }
  fs.rmSync(fat);
  const ext = extract(card, layout.root.offset, layout.root.size, path.join(dir, 'check.ext4'));
  try {
    run('e2fsck', ['-fn', ext]);
  } catch (error) {
    problems.push(`e2fsck: ${(error as { stdout?: string }).stdout?.split('\n').slice(0, 3).join(' ')}`);
  }
  for (const [name, bytes] of layout.rootFiles) {
    const back = execFileSync('debugfs', ['-R', `cat /${name}`, ext], { maxBuffer: 128 * MiB, stdio: ['ignore', 'pipe', 'ignore'] });
    if (!back.equals(bytes)) problems.push(`root ${name} differs`);
  }
  fs.rmSync(ext);
  return problems.length === 0 ? 'correct' : `WRONG: ${problems.slice(0, 3).join('; ')}`;
}

/** A used card: old data everywhere, then flushed so the next writer starts cold. */
function dirtyCard(device: string): void {
  run('dd', ['if=/dev/urandom', `of=${device}`, 'bs=4M', `count=${Math.ceil((totalMiB + 64) / 4)}`, 'oflag=direct', 'status=none']);
  run('sync', []);
}

/**
 * An SD card's speed on the loop device: blk-throttle limits in the root blkio cgroup (cgroup v1; this machine's v2
 * hierarchy has no io controller, so io.max is not available). At the root they hold for every bio aimed at the device,
 * whoever issues it — O_DIRECT writers, and the kernel's writeback of buffered writes (bmaptool's) alike.
 */
class CardThrottle {
  private readonly majorMinor: string;
  constructor(
    device: string,
    readonly writeMBps: number,
    readonly readMBps: number,
  ) {
    this.majorMinor = run('lsblk', ['-dno', 'MAJ:MIN', device]).trim();
  }

  private set(write: number, read: number): void {
    fs.writeFileSync('/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device', `${this.majorMinor} ${write}`);
    fs.writeFileSync('/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device', `${this.majorMinor} ${read}`);
  }

  on(): void {
    this.set(this.writeMBps * 1e6, this.readMBps * 1e6);
  }

  off(): void {
    this.set(0, 0);
  }

  /** Times 64 MiB written and read back with O_DIRECT and with the page cache, throttled: the limits must show. */
  check(device: string): string {
    const bytes = 64 * MiB;
    this.on();
    try {
      const rate = (seconds: number) => `${(bytes / seconds / 1e6).toFixed(1)} MB/s`;
      const directWrite = timeSync(() => run('dd', ['if=/dev/zero', `of=${device}`, 'bs=1M', 'count=64', 'oflag=direct', 'status=none']));
      const bufferedWrite = timeSync(() =>
        run('dd', ['if=/dev/zero', `of=${device}`, 'bs=1M', 'count=64', 'seek=64', 'conv=fsync', 'status=none']),
      );
      const directRead = timeSync(() =>
        run('dd', [`if=${device}`, 'of=/dev/null', 'bs=1M', 'count=64', 'skip=128', 'iflag=direct', 'status=none']),
      );
      return (
        `limits checked on ${device}: 64 MiB written with O_DIRECT at ${rate(directWrite)}, buffered + fsync at ${rate(bufferedWrite)}, ` +
        `read with O_DIRECT at ${rate(directRead)} (asked ${this.writeMBps}/${this.readMBps} MB/s)`
      );
    } finally {
      this.off();
    }
  }
}

function timeSync(fn: () => unknown): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

interface Case {
  key: string;
  name: string;
  run: () => Promise<unknown> | unknown;
  /** The case adds boot files (u-boot.bin, merged config.txt): checked instead of the original config.txt. */
  composed?: boolean;
  /** A reference that writes no card (the decompressor alone): not checked. */
  reference?: boolean;
  /** Untimed: removes what the case left (a cache, a decompressed file). */
  cleanup?: () => void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The image, its .xz and .bmap: built once per work folder (--work DIR keeps them between runs). */
function prepareImage(work: string): Layout {
  const reused = loadLayout(work);
  if (reused) {
    console.log(`reusing the ${totalMiB} MiB image in ${work}`);
    return reused;
  }
  console.log(`building a ${totalMiB} MiB image (FAT32 ${bootMiB} MiB boot, ext4 root a third full)…`);
  const layout = buildImage(work);
  execFileSync('xz', ['-T0', '-1', '-k', '-f', layout.image]);
  fs.writeFileSync(`${layout.image}.bmap`, run('bmaptool', ['create', layout.image]));
  saveLayout(work, layout);
  return layout;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/flash needs root (loop devices).');
  const runs = Number(option('--runs') ?? 3);
  const only = option('--only')?.split(',');
  const keep = option('--work');
  const work = keep ? path.resolve(keep) : fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-bench-'));
  fs.mkdirSync(work, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(work, 'run-'));
  const cardFile = path.join(scratch, 'card.bin');
  fs.writeFileSync(cardFile, '');
  fs.truncateSync(cardFile, (totalMiB + 64) * MiB);
  const device = run('losetup', ['-f', '--show', cardFile]).trim();
  const cardSpeeds = option('--card')?.split('/').map(Number);
  const throttle = cardSpeeds ? new CardThrottle(device, cardSpeeds[0]!, cardSpeeds[1] ?? cardSpeeds[0]!) : undefined;
  const writer = await WriterClient.start();
  try {
    if (throttle) console.log(throttle.check(device));
    const layout = prepareImage(work);
    const xz = `${layout.image}.xz`;
    const bmap = `${layout.image}.bmap`;
    const size = fs.statSync(layout.image).size;
    const drive = loopDrive({ device, size: (totalMiB + 64) * MiB }, { description: 'bench card' });
    let written = 0;
    /** The app's whole path (runFlash): source → cache → boot partition composed → card, verified. */
    const product = async (source: string, compose: boolean, keepCache = false) => {
      const cacheDir = path.join(scratch, keepCache ? 'cache-kept' : 'cache');
      const result = await runFlash({
        jobId: `bench-${Date.now()}`,
        source,
        targets: [{ kind: 'drive', device, drive }],
        edit: compose
          ? { configTxt: { consoleUart: 'mini', kernel: 'u-boot.bin' }, files: [{ name: 'u-boot.bin', bytes: UBOOT }] }
          : { files: [] },
        verify: true,
        eject: false,
        mode: 'used',
        confirmations: {},
        cacheDir,
        client: writer,
      });
      if (!result.flash?.targets[0]?.ok) throw new Error(JSON.stringify(result.flash?.targets[0]?.error));
    };
    const flash = (image: string, mode: 'used' | 'full') =>
      writer
        .flash(`bench-${Date.now()}`, {
          image,
          targets: [{ kind: 'drive', device, drive }],
          verify: true,
          eject: false,
          mode,
          confirmations: {},
        })
        .then((r) => {
          if (!r.targets[0]?.ok) throw new Error(JSON.stringify(r.targets[0]?.error));
          if (mode === 'used') written = r.writtenBytes;
          return r;
        });
    const cases: Case[] = [
      {
        key: 'dd',
        name: 'dd bs=4M oflag=direct conv=fsync',
        run: () => run('dd', [`if=${layout.image}`, `of=${device}`, 'bs=4M', 'oflag=direct', 'conv=fsync', 'status=none']),
      },
      {
        key: 'bmaptool',
        name: 'bmaptool copy (verifies)',
        run: () => run('bmaptool', ['-q', 'copy', '--bmap', bmap, layout.image, device]),
      },
      { key: 'raw', name: 'ours, raw, used blocks + verify', run: () => flash(layout.image, 'used') },
      { key: 'full', name: 'ours, raw, every byte + verify', run: () => flash(layout.image, 'full') },
      {
        key: 'xz',
        name: 'ours, from .img.xz, composed (stream: xz -T0 → cache + card)',
        composed: true,
        run: () => product(xz, true),
        cleanup: () => fs.rmSync(path.join(scratch, 'cache'), { recursive: true, force: true }),
      },
      {
        key: 'xz-alone',
        name: 'reference: xz -T0 -dc to a file alone (no card)',
        reference: true,
        run: () => {
          const out = fs.openSync(path.join(scratch, 'decompressed.img'), 'w');
          try {
            execFileSync('xz', ['-T0', '-dc', xz], { stdio: ['ignore', out, 'pipe'] });
          } finally {
            fs.closeSync(out);
          }
        },
        cleanup: () => fs.rmSync(path.join(scratch, 'decompressed.img'), { force: true }),
      },
      { key: 'xz-cached', name: 'ours, .img.xz again (cached base), composed', composed: true, run: () => product(xz, true, true) },
      {
        key: 'raw-composed',
        name: 'ours, from .img, composed (hash alongside)',
        composed: true,
        run: () => product(layout.image, true),
        cleanup: () => fs.rmSync(path.join(scratch, 'cache'), { recursive: true, force: true }),
      },
      {
        key: 'xz-serial',
        name: 'before: hash, xz -T0 to cache, copy, then write (serial)',
        run: async () => {
          const composed = await composeImage({ source: xz, cacheDir: path.join(scratch, 'cache'), files: [] });
          try {
            await flash(composed.image, 'used');
          } finally {
            composed.discard();
          }
        },
        cleanup: () => fs.rmSync(path.join(scratch, 'cache'), { recursive: true, force: true }),
      },
    ].filter((c) => c.key === 'dd' || !only || only.includes(c.key));

    // Rounds interleave the tools, so a busy moment of the machine hits all of them alike.
    const times = new Map<string, number[]>(cases.map((c) => [c.key, []]));
    const verdicts = new Map<string, string>();
    for (let round = 0; round < runs; round++) {
      for (const c of cases) {
        dirtyCard(device);
        throttle?.on();
        const seconds = await time(c.run).finally(() => throttle?.off());
        times.get(c.key)?.push(seconds);
        const verdict = c.reference ? 'n/a' : check(device, layout, scratch, c.composed);
        c.cleanup?.();
        if (!verdicts.has(c.key) || verdict !== 'correct') verdicts.set(c.key, verdict);
        console.log(`  round ${round + 1}: ${c.name}: ${seconds.toFixed(2)} s, ${verdict}`);
      }
    }

    const dd = median(times.get('dd') ?? [1]);
    const bmaptool = times.get('bmaptool')?.length ? median(times.get('bmaptool') ?? [1]) : undefined;
    console.log(
      `\nload average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (2 cores; other work on the machine slows the CPU-bound xz cases most)`,
    );
    if (throttle)
      console.log(
        `card-like: every case wrote to a loop device throttled to ${throttle.writeMBps} MB/s write, ${throttle.readMBps} MB/s read`,
      );
    console.log(
      `image ${(size / MiB).toFixed(0)} MiB; ours writes ${(written / MiB).toFixed(0)} MiB of it in "used" mode; card pre-filled with random data; median of ${runs} run(s)\n`,
    );
    console.log('tool'.padEnd(58) + 'seconds  ÷dd    ÷bmaptool  result');
    for (const c of cases) {
      const seconds = median(times.get(c.key) ?? []);
      const vsBmap = bmaptool ? (seconds / bmaptool).toFixed(2) : '–';
      console.log(
        `${c.name.padEnd(58)}${seconds.toFixed(2).padStart(7)}  ${(seconds / dd).toFixed(2).padStart(5)}  ${vsBmap.padStart(9)}  ${verdicts.get(c.key)}`,
      );
    }
    const raw = times.get('raw');
    const xzTimes = times.get('xz');
    if (raw?.length && xzTimes?.length)
      console.log(`\nours from .img.xz ÷ ours raw: ${(median(xzTimes) / median(raw)).toFixed(2)}× (goal ≤ 1.05 on a card-like device)`);
  } finally {
    throttle?.off();
    await writer.close();
    run('losetup', ['-d', device]);
    fs.rmSync(keep ? scratch : work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
