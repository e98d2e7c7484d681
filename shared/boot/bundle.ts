// A profile's boot bundle: every generated file and component grouped by where it goes, the memory map, and every problem by JSON path.
import { boards } from '../boards';
import { ImagerError } from '../errors';
import type { Profile } from '../profile/schema';
import { configTxtWantedFor, type ConfigTxtWanted } from './config-txt';
import {
  generateBootFiles,
  kernelWarnings,
  type ComponentCopy,
  type ComponentFacts,
  type Destination,
  type GeneratedFile,
  type GenerateOptions,
} from './generate';
import type { MemoryMapEntry } from './stage2';

/** A problem of a profile, at the JSON path of the field to change. */
export interface BootProblem {
  /** JSONPath of the field: $.boot.network.serverIp, $.domUs[0].kernel */
  path: string;
  severity: 'error' | 'warning';
  message: string;
}

/** What goes to one destination: the generated files (bytes in memory) and the profile's files copied beside them. */
export interface DestinationFiles {
  generated: GeneratedFile[];
  /** By the profile's path (`source`), to be read from disk under `target`. */
  components: ComponentCopy[];
}

export interface BootBundle {
  /** Every generated file in the boot chain's order (stage 1, stage 2, config.txt), as the Review step reads them. */
  files: GeneratedFile[];
  /** The card's FAT boot partition (also the emulated virt board's card). */
  bootPartition: DestinationFiles;
  /** The TFTP server's root (empty for an SD-only profile). */
  tftpRoot: DestinationFiles;
  /** The config.txt rules to merge into a base image's own (undefined when the board or profile writes none). */
  configTxt?: ConfigTxtWanted;
  /** Where stage 2 itself is loaded (its 2 MiB slot precedes the memory map). */
  stage2Address?: number;
  memoryMap: MemoryMapEntry[];
  /** Every problem found while generating, by JSON path; no files when one is an error. */
  problems: BootProblem[];
  /** What ImageBuilder says while it works that is no problem (the dom0less notice). */
  notices: string[];
}

const noFiles = (): DestinationFiles => ({ generated: [], components: [] });

/** The profile field behind a stage-1/stage-2 refusal that names no file (a file names its own field). */
const fieldOfSubject: Record<string, string> = {
  memoryEnd: '$.boot.memoryEnd',
  loadCommand: '$.boot.loadCommand',
  'dom0.kernel': '$.dom0',
  'dom0.commandLine': '$.dom0.commandLine',
  'boot.stage2Address': '$.boot.stage2Address',
};

function problemOf(error: ImagerError): BootProblem {
  const subject = error.subject ?? '';
  return { path: subject.startsWith('$') ? subject : (fieldOfSubject[subject] ?? '$'), severity: 'error', message: error.message };
}

/** The bundle without files: for a profile that cannot be generated. */
export function emptyBundle(problems: BootProblem[]): BootBundle {
  return { files: [], bootPartition: noFiles(), tftpRoot: noFiles(), memoryMap: [], problems, notices: [] };
}

/**
 * Generates a profile's boot files once, from the facts of the files it names, and sorts them by destination.
 * What generation refuses comes back as a problem at the field to change, never as a throw.
 */
export function bundleBoot(profile: Profile, components: Record<string, ComponentFacts>, options: GenerateOptions): BootBundle {
  let generated: ReturnType<typeof generateBootFiles>;
  try {
    generated = generateBootFiles(profile, components, options);
  } catch (error) {
    if (error instanceof ImagerError) return emptyBundle([problemOf(error)]);
    throw error;
  }
  const byDestination = (destination: Destination): DestinationFiles => ({
    generated: generated.files.filter((file) => file.destination === destination),
    components: generated.components.filter((copy) => copy.destination === destination),
  });
  const skipped = generated.stage2.skippedDomUs;
  const problems: BootProblem[] = [
    ...skipped.map(({ index, notice }): BootProblem => ({ path: `$.domUs[${index}]`, severity: 'warning', message: notice })),
    ...kernelWarnings(profile, components).map((message): BootProblem => ({ path: '$.dom0.kernel', severity: 'warning', message })),
  ];
  const usesConfigTxt = boards[profile.board].usesConfigTxt && profile.output.writeConfigTxt;
  return {
    files: generated.files,
    bootPartition: byDestination('boot-partition'),
    tftpRoot: byDestination('tftp-root'),
    ...(usesConfigTxt && { configTxt: configTxtWantedFor(profile) }),
    stage2Address: generated.stage2.scriptAddress,
    memoryMap: generated.memoryMap,
    problems,
    notices: generated.stage2.notices.filter((notice) => !skipped.some((s) => s.notice === notice)),
  };
}

/** Every component copy of a bundle, boot partition first. */
export function componentFiles(bundle: BootBundle): ComponentCopy[] {
  return [...bundle.bootPartition.components, ...bundle.tftpRoot.components];
}

export const hasErrors = (problems: BootProblem[]): boolean => problems.some((problem) => problem.severity === 'error');
