// `xen-pi-imager imagebuilder`: a drop-in for ImageBuilder's uboot-script-gen on the supported subset (same files, lines, exit statuses).
import { existsSync, realpathSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { detectFile } from '../../../shared/boot/detect';
import { describeKernelImage, writeKernelImage, writeScriptImage, scriptTimestamp } from '../../../shared/boot/script-image';
import { generateStage2, type BootComponent, type CpuPool, type Stage2Input, type Stage2Result } from '../../../shared/boot/stage2';
import { ImagerError } from '../../../shared/errors';
import { formatError } from '../../../shared/messages';
import { parseImageBuilderConfig } from '../../../shared/imagebuilder/config';
import { resolveCpuPools } from '../../../shared/imagebuilder/cpupools';
import { planFromVariables, type ImageBuilderPlan } from '../../../shared/imagebuilder/plan';
import { readComponentFacts } from '../../services/boot-files';
import { checkUserFolder, checkUserOutputFile, readUserFile, readUserTextFile, userPathError, writeUserFile } from '../../node/user-files';
import type { CliCommand, CliIO } from '../command';

const usage = `Usage: xen-pi-imager imagebuilder -c CONFIG -d DIR [-t LOAD] [-o NAME] [-p PREFIX]

A drop-in for ImageBuilder's uboot-script-gen (CPU pools included; no FIT): reads the config and the
files in DIR, writes <NAME>.source and <NAME>.scr into DIR, and prints where to load the script.

Options:
  -c CONFIG  The ImageBuilder config (NAME=value lines)
  -d DIR     The folder holding the files the config names; the outputs go there too
  -t LOAD    How U-Boot loads the files: tftp (tftpb), sd (load mmc 0:1), scsi (load scsi 0:1),
             usb (fatload usb 0:1) or a literal U-Boot command; overrides LOAD_CMD
  -o NAME    Output name (NAME.source, NAME.scr); overrides UBOOT_SOURCE/UBOOT_SCRIPT
  -p PREFIX  Prepended (with /) to every file path the script loads
  -h         Show this help

Not supported (refused with exit status 1): FIT images, bitstreams, Linux-only mode,
passthrough device trees built from a repository or lopper, UEFI boot;
README's "ImageBuilder options" table lists every option and its state.
BOOT_CMD=bootm also writes <XEN>.ub (Xen as a U-Boot legacy kernel image) and boots that.
XEN_LOAD, DOM0_LOAD and DOMU_LOAD[n] load their files; LOAD_CMD (or -t) is still required.
Exit status: 0 on success, 1 on every error (as uboot-script-gen).`;

interface Options {
  config?: string;
  dir?: string;
  load?: string;
  output?: string;
  prefix?: string;
}

/** getopts ":c:t:d:o:p:h" semantics: -cVALUE or -c VALUE; anything else is an unknown option. */
function parseOptions(argv: string[]): Options | 'unknown' {
  const keys: Record<string, keyof Options> = { c: 'config', d: 'dir', t: 'load', o: 'output', p: 'prefix' };
  const options: Options = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const key = /^-([cdtop])/.exec(arg)?.[1];
    if (!key) return 'unknown';
    const value = arg.length > 2 ? arg.slice(2) : argv[++i];
    if (value === undefined) return 'unknown';
    options[keys[key]!] = value;
  }
  return options;
}

/** Fails like uboot-script-gen: its own line on stdout, our explanation on stderr, status 1. */
function fail(io: CliIO, imageBuilderMessage: string, error?: ImagerError): number {
  io.stdout(`${imageBuilderMessage}\n`);
  if (error) io.stderr(`xen-pi-imager imagebuilder: ${formatError(error)}\n`);
  return 1;
}

class MissingFile extends Error {}

function componentIn(dir: string, file: string): BootComponent {
  const absolute = path.resolve(dir, file);
  if (!existsSync(absolute) || !statSync(absolute).isFile()) throw new MissingFile(`File ${file} doesn't exist, exiting`);
  // realpath --relative-to=$PWD: symlinks resolved on both sides.
  const relative = path.relative(realpathSync(dir), realpathSync(absolute)).split(path.sep).join('/');
  return { path: relative, ...readComponentFacts(absolute) };
}

function stage2Input(plan: ImageBuilderPlan, dir: string, prefix: string | undefined): Stage2Input {
  const get = (file: string) => componentIn(dir, file);
  const dom0 = plan.dom0 && {
    kernel: get(plan.dom0.kernel),
    ...(plan.dom0.ramdisk && { ramdisk: get(plan.dom0.ramdisk) }),
    ...(plan.dom0.commandLine && { commandLine: plan.dom0.commandLine }),
    rootfsOnDisk: plan.dom0.rootfsOnDisk,
    ...(plan.dom0.loadCommand && { loadCommand: plan.dom0.loadCommand }),
  };
  const domUs = plan.domUs.map(({ index: _i, kernel, ramdisk, passthroughDtb, ...rest }) => {
    const skipped = rest.noBoot || rest.rootfsOnDisk;
    return {
      ...rest,
      kernel: skipped ? { path: kernel, size: 0, head: new Uint8Array() } : get(kernel),
      ...(ramdisk && !skipped && { ramdisk: get(ramdisk) }),
      ...(passthroughDtb && !skipped && { passthroughDtb: get(passthroughDtb) }),
    };
  });
  return {
    memoryStart: plan.memoryStart,
    memoryEnd: plan.memoryEnd,
    loadCommand: plan.loadCommand,
    ...(plan.xenLoadCommand && { xenLoadCommand: plan.xenLoadCommand }),
    bootCommand: plan.bootCommand,
    ...(dom0 && { dom0 }),
    domUs,
    xen: get(plan.xen),
    ...(plan.xenPolicy && { xenPolicy: get(plan.xenPolicy) }),
    ...(plan.xenCommandLine && { xenCommandLine: plan.xenCommandLine }),
    ...(plan.dom0MemoryMb !== undefined && { dom0MemoryMb: plan.dom0MemoryMb }),
    ...(plan.dom0Vcpus !== undefined && { dom0Vcpus: plan.dom0Vcpus }),
    ...(plan.xenColors && { xenColors: plan.xenColors }),
    ...(plan.dom0Colors && { dom0Colors: plan.dom0Colors }),
    ...(plan.staticHeap && { staticHeap: plan.staticHeap }),
    overlays: plan.overlays.map(get),
    deviceTree: get(plan.deviceTree),
    ...(prefix && { prefix }),
  };
}

/** The pools' CPUs looked up in DEVICE_TREE (a file that is no tree is left to the type check, which says so as upstream does). */
function cpuPoolsIn(dir: string, plan: ImageBuilderPlan): CpuPool[] {
  const tree = readUserFile(path.resolve(dir, plan.deviceTree), DEVICE_TREE_FILE);
  if (detectFile(tree.subarray(0, 65536), tree.length).kind !== 'dtb') return [];
  return resolveCpuPools(plan.cpuPools, new Uint8Array(tree));
}

const TEXT_LIMIT = 1_000_000;
const XEN_FILE = { what: 'XEN', maxBytes: 256 * 1024 * 1024, hint: 'Give XEN the hypervisor binary.' };
const DEVICE_TREE_FILE = { what: 'DEVICE_TREE', maxBytes: 64 * 1024 * 1024, hint: "Give DEVICE_TREE the board's .dtb." };
const CONFIG_FILE = {
  what: 'ImageBuilder config',
  maxBytes: TEXT_LIMIT,
  hint: 'Give -c the config file (NAME=value lines), as uboot-script-gen takes it.',
};
const EXTRA_COMMANDS_FILE = {
  what: 'APPEND_EXTRA_CMDS file',
  maxBytes: TEXT_LIMIT,
  hint: 'Write the extra U-Boot commands as a plain text file.',
};
const OUTPUT_FOLDER = {
  what: 'folder for -d',
  hint: 'Give -d the folder that holds the files the config names; the outputs go there too.',
};

/** APPEND_EXTRA_CMDS must be plain ASCII text; its bytes go in as they are. */
function extraCommands(dir: string, file: string): string {
  const absolute = path.resolve(dir, file);
  if (!existsSync(absolute)) throw new MissingFile(`File ${file} doesn't exist, exiting`);
  const bytes = readUserFile(absolute, EXTRA_COMMANDS_FILE);
  if (detectFile(bytes.subarray(0, 65536), bytes.length).description !== 'ASCII text') {
    throw new ImagerError({
      code: 'WRONG_FILE_TYPE',
      subject: 'APPEND_EXTRA_CMDS',
      details: { exitStatus: 1, imageBuilderMessage: `Wrong file type ${file}. It should be ASCII text, exiting.` },
      message: `${file} (APPEND_EXTRA_CMDS) is not plain ASCII text.`,
      hint: 'Write the extra U-Boot commands as a plain text file.',
    });
  }
  return bytes.toString('latin1');
}

/** BOOT_CMD=bootm: writes "$XEN".ub as ImageBuilder's mkimage call does, prints what mkimage prints, returns its path. */
function writeXenImage(io: CliIO, dir: string, xen: string, image: NonNullable<Stage2Result['xenImage']>, timestamp: number): string {
  const file = path.resolve(dir, `${xen}.ub`);
  checkUserOutputFile(file, OUTPUT_FOLDER);
  const kernel = readUserFile(path.resolve(dir, xen), XEN_FILE);
  writeUserFile(file, writeKernelImage(kernel, { arch: image.arch, address: image.address, timestamp }), OUTPUT_FOLDER);
  const listing = describeKernelImage({ arch: image.arch, address: image.address, timestamp, size: kernel.length });
  io.stdout(`${listing.join('\n')}\n`);
  if (image.arch === 'arm')
    io.stderr(
      `xen-pi-imager imagebuilder: warning: ${xen} has no arm64 Image header (a 32-bit or compressed Xen), so ${xen}.ub is marked arm as upstream marks it; a 64-bit U-Boot will not boot it: give XEN an uncompressed arm64 Xen.\n`,
    );
  return file;
}

/** Runs a step that reads the config: its errors name the config file (stdout keeps uboot-script-gen's line). */
function fromConfig<T>(file: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (!(error instanceof ImagerError)) throw error;
    const imageBuilderMessage = typeof error.details?.imageBuilderMessage === 'string' ? error.details.imageBuilderMessage : error.message;
    throw new ImagerError({
      ...error.toJSON(),
      subject: `${file}${error.subject ? `, ${error.subject}` : ''}`,
      message: `${file}: ${error.message}`,
      details: { ...error.details, imageBuilderMessage },
    });
  }
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const options = parseOptions(argv);
  if (options === 'unknown') return fail(io, 'Unknown option, see "xen-pi-imager imagebuilder -h"');
  if (!options.config || !options.dir) return fail(io, 'Undefined arguments, see "xen-pi-imager imagebuilder -h"');
  const dir = path.resolve(io.cwd, options.dir);
  const configFile = path.resolve(io.cwd, options.config);
  let outputs: string[] = [];
  try {
    checkUserFolder(dir, OUTPUT_FOLDER);
    let configText: string;
    try {
      configText = readUserTextFile(configFile, CONFIG_FILE);
    } catch (error) {
      // uboot-script-gen's own words for a config that is not there
      if ((error as ImagerError).details?.systemCode === 'ENOENT')
        return fail(io, `${options.config}: No such file or directory`, error as ImagerError);
      throw error;
    }
    const plan = fromConfig(options.config, () =>
      planFromVariables(parseImageBuilderConfig(configText), {
        ...(options.load !== undefined && { loadCommand: options.load }),
        ...(options.output !== undefined && { outputName: options.output }),
      }),
    );
    outputs = [path.resolve(dir, plan.sourceName), path.resolve(dir, plan.scriptName)];
    for (const file of outputs) checkUserOutputFile(file, OUTPUT_FOLDER);
    for (const file of outputs) rmSync(file, { force: true });
    const input = stage2Input(plan, dir, options.prefix);
    if (plan.extraCommandsFile) input.extraCommands = extraCommands(dir, plan.extraCommandsFile);
    if (plan.cpuPools.length > 0) input.cpuPools = cpuPoolsIn(dir, plan);
    const result = generateStage2(input);
    const timestamp = scriptTimestamp(io.env.SOURCE_DATE_EPOCH);
    for (const notice of result.notices) io.stdout(`${notice}\n`);
    for (const warning of plan.warnings) io.stderr(`xen-pi-imager imagebuilder: warning: ${warning}\n`);
    if (result.xenImage) outputs.push(writeXenImage(io, dir, plan.xen, result.xenImage, timestamp));
    writeUserFile(outputs[0]!, result.text, OUTPUT_FOLDER);
    writeUserFile(outputs[1]!, writeScriptImage(result.text, { loadAddress: result.scriptAddress, timestamp }), OUTPUT_FOLDER);
    const address = `0x${result.scriptAddress.toString(16).toUpperCase()}`;
    io.stdout(`Generated uboot script ${plan.scriptName}, to be loaded at address ${address}:\n`);
    io.stdout(`${plan.loadCommand} ${address} ${plan.scriptName}; source ${address}\n`);
    return 0;
  } catch (caught) {
    const error =
      (caught as NodeJS.ErrnoException).code && !(caught instanceof ImagerError)
        ? userPathError(caught, dir, 'write', OUTPUT_FOLDER)
        : caught;
    for (const file of outputs) {
      try {
        if (statSync(file, { throwIfNoEntry: false })?.isFile()) rmSync(file, { force: true });
      } catch {
        // nothing of ours to remove there
      }
    }
    if (error instanceof MissingFile) return fail(io, error.message);
    if (error instanceof ImagerError) {
      const message = typeof error.details?.imageBuilderMessage === 'string' ? error.details.imageBuilderMessage : error.message;
      return fail(io, message, error);
    }
    throw error;
  }
}

export const imagebuilderCommand: CliCommand = {
  name: 'imagebuilder',
  summary: "Generate boot.source/boot.scr like ImageBuilder's uboot-script-gen",
  usage,
  run,
};
