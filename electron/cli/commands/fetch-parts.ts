// `xen-pi-imager fetch-parts`: Debian's arm64 Xen, Dom0 kernel and a test initramfs, plus QEMU's device tree and a profile that boots them.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultProfile } from '../../../shared/profile/defaults';
import {
  availableXenVersions,
  DEFAULT_XEN_VERSION,
  dumpVirtDeviceTree,
  fetchDebianParts,
  findQemuTools,
  installRpi4Parts,
} from '../../services/emulator';
import { checkXenVersion } from '../../../shared/xen-versions';
import { dataPaths, userDataDir } from '../../node/paths';
import { ensureUserFolder } from '../../node/user-files';
import { gzipKernelFile } from '../../services/boot-files';
import { UsageError, type CliCommand } from '../command';

const mib = (bytes: number) => `${(bytes / (1 << 20)).toFixed(1)} MiB`;

const usage = `Usage: xen-pi-imager fetch-parts [--board rpi4|qemu-virt] [--xen VER] [--kernel gzip|image] [--out DIR] [--refresh] [--no-qemu] [--json]
       xen-pi-imager fetch-parts --list-versions [--json]

--list-versions prints the Xen versions Debian's archive has for arm64, with the suites that
carry each, and what each means on a Pi 4.

With --board rpi4: every part of a Raspberry Pi 4 card from Debian's packages (apt-get on a
private package list, main and non-free-firmware; nothing is installed): u-boot-rpi's U-Boot,
raspi-firmware's start4.elf and fixup4.dat, Xen, the Dom0 kernel (gzip'd: Xen decompresses
it) and the upstream bcm2711-rpi-4-b.dtb from linux-image-*-arm64, and a Dom0 initramfs with
busybox (a shell on hvc0), the Xen and GENET modules and Xen's toolstack (xl list, xl info).
Written to DIR as u-boot.bin, firmware/ (for the card's root) and xen/ (what Xen boots), with
DIR/rpi4.json: an SD-only profile for a fresh card that records each file's package, version
and SHA-256. When this machine's QEMU has no raspi4b machine (QEMU < 9.0), QEMU is also
fetched from Debian's backports into the cache (unpacked, not installed) for \`try\`.
Then: xen-pi-imager flash --profile DIR/rpi4.json --target card.img
      xen-pi-imager try --profile DIR/rpi4.json

Without --board (or --board qemu-virt): downloads Debian's arm64 packages xen-hypervisor-VER-arm64, the current linux-image-*-arm64
(through the linux-image-arm64 metapackage) and busybox-static with apt-get, on a private
package list (nothing is installed), unpacks them without dpkg and builds a tiny Dom0 initramfs
whose /init prints Xen's version and /proc/xen/capabilities, then powers off.
They are cached (XEN_PI_IMAGER_CACHE, else the app's cache folder) and copied to DIR as:
  xen-VER-arm64, vmlinuz.gz (vmlinuz with --kernel image), initrd.cpio.gz, virt.dtb (QEMU's tree, when QEMU is installed)
and DIR/qemu-virt.json, a profile that boots them: \`xen-pi-imager try --profile DIR/qemu-virt.json\`.

Options:
  --board B    rpi4, or qemu-virt (the default: parts for trying a boot on QEMU's virt board)
  --xen VER    Xen version as Debian packages it (default ${DEFAULT_XEN_VERSION})
  --kernel K   gzip (the default: Xen decompresses the Dom0 kernel itself, and a third of
               the bytes are loaded at every boot) or image (the plain arm64 Image)
  --out DIR    Where to put the parts (default: the app's components folder, where relative
               paths of profiles in the app are looked up)
  --refresh    Ask Debian for newer packages even when a cached set exists
  --no-qemu    With --board rpi4: do not fetch QEMU from the backports
  --json       Print what was written as JSON`;

export const fetchPartsCommand: CliCommand = {
  name: 'fetch-parts',
  summary: 'Download Debian’s arm64 Xen, kernel and busybox for trying a boot in QEMU, or every part of a Pi 4 card (--board rpi4)',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        board: { type: 'string' },
        xen: { type: 'string' },
        kernel: { type: 'string', default: 'gzip' },
        out: { type: 'string' },
        refresh: { type: 'boolean', default: false },
        'no-qemu': { type: 'boolean', default: false },
        'list-versions': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    const xenVersion = values.xen ?? DEFAULT_XEN_VERSION;
    if (!/^\d+\.\d+$/.test(xenVersion)) throw new UsageError(`--xen must be a version like 4.17, not "${xenVersion}".`);
    const kernel = values.kernel;
    if (kernel !== 'gzip' && kernel !== 'image') throw new UsageError(`--kernel must be gzip or image, not "${kernel}".`);
    const out = values.out ? path.resolve(io.cwd, values.out) : dataPaths(userDataDir(io.env)).components;
    const say = (text: string) => !values.json && io.stdout(text + '\n');
    if (values['list-versions']) {
      const offers = await availableXenVersions({ env: io.env, signal: io.signal });
      if (values.json) io.stdout(JSON.stringify(offers, null, 2) + '\n');
      for (const offer of values.json ? [] : offers) {
        const meaning = checkXenVersion(offer.version, 'rpi4');
        io.stdout(
          `Xen ${offer.version}  ${offer.package} ${offer.packageVersion}  (${offer.suites.join(', ')})${meaning.severity === 'ok' ? '' : `  ${meaning.message}`}\n`,
        );
      }
      if (!values.json && offers.length === 0) io.stdout('Debian’s archive offers no xen-hypervisor-*-arm64 package here.\n');
      return 0;
    }
    const board = values.board ?? 'qemu-virt';
    if (board !== 'rpi4' && board !== 'qemu-virt') throw new UsageError(`--board must be rpi4 or qemu-virt, not "${board}".`);
    // before downloading anything: a bad --out (/dev/null, a file, a place that takes no folders) is said first
    ensureUserFolder(out, { what: 'output folder', hint: 'Give --out a folder (it is created when missing) in a place you can write to.' });
    if (board === 'rpi4') {
      const installed = await installRpi4Parts({
        out,
        xenVersion,
        kernel,
        refresh: values.refresh,
        qemu: !values['no-qemu'],
        env: io.env,
        signal: io.signal,
        onProgress: say,
      });
      if (values.json) {
        io.stdout(
          JSON.stringify(
            {
              dir: out,
              profile: installed.profileFile,
              files: installed.files,
              parts: installed.parts.parts,
              packages: installed.parts.packages,
              qemu: installed.qemu,
            },
            null,
            2,
          ) + '\n',
        );
        return 0;
      }
      for (const part of installed.parts.parts) say(`  ${part.file.padEnd(34)} ${part.package} ${part.version}`);
      say(`  ${'rpi4.json'.padEnd(34)} the profile (SD-only, a fresh card; Dom0 ${installed.profile.dom0!.memoryMb} MB)`);
      say(installed.qemu.note);
      say(`Write a card: xen-pi-imager flash --profile ${installed.profileFile} --target card.img`);
      say(`Try it first: xen-pi-imager try --profile ${installed.profileFile}`);
      return 0;
    }
    const parts = await fetchDebianParts({ xenVersion, refresh: values.refresh, env: io.env, signal: io.signal, onProgress: say });
    const profile = defaultProfile('qemu-virt');
    profile.xen.version = xenVersion;
    profile.xen.binary = `xen-${xenVersion}-arm64`;
    if (kernel === 'gzip') profile.dom0!.kernel = 'vmlinuz.gz';
    const written: Record<string, string> = {
      xen: path.join(out, profile.xen.binary),
      kernel: path.join(out, profile.dom0!.kernel),
      initramfs: path.join(out, profile.dom0!.ramdisk!),
    };
    fs.copyFileSync(parts.xen, written.xen!);
    if (kernel === 'gzip') {
      const sizes = await gzipKernelFile(parts.kernel, written.kernel!);
      say(
        `Dom0 kernel gzip'd: ${mib(sizes.originalSize)} → ${mib(sizes.size)} (${mib(sizes.originalSize - sizes.size)} less to load at every boot).`,
      );
    } else fs.copyFileSync(parts.kernel, written.kernel!);
    fs.copyFileSync(parts.initramfs, written.initramfs!);
    try {
      written.deviceTree = path.join(out, profile.deviceTree);
      await dumpVirtDeviceTree(findQemuTools(io.env), written.deviceTree);
    } catch (error) {
      delete written.deviceTree;
      say(`No virt.dtb: ${(error as Error).message} (\`try\` dumps its own anyway).`);
    }
    written.profile = path.join(out, 'qemu-virt.json');
    fs.writeFileSync(written.profile, JSON.stringify(profile, null, 2) + '\n');
    if (values.json) {
      io.stdout(JSON.stringify({ dir: out, files: written, packages: parts.packages, kernelAbi: parts.kernelAbi }, null, 2) + '\n');
    } else {
      for (const [role, file] of Object.entries(written)) say(`  ${role.padEnd(10)} ${file}`);
      const versions = Object.values(parts.packages)
        .map((p) => `${p.name} ${p.version}`)
        .join(', ');
      say(`From ${versions}.`);
      say(`Try it: xen-pi-imager try --profile ${written.profile}`);
    }
    return 0;
  },
};
