// The profile's fields in the user's words: a JSON path's name ("the TFTP server address"), and a schema problem as a
// sentence about that field, so no validator's wording ("Too small: expected number to be >0") reaches the user.
import type { z } from 'zod';

/** What each field is called, as the subject of a sentence (the wizard's labels, in lower case where not a name). */
const FIELD_SUBJECTS: Record<string, string> = {
  $: 'the profile',
  '$.$schema': 'the profile’s schema link',
  '$.schemaVersion': 'the profile format version',
  '$.name': 'the profile name',
  '$.board': 'the board',
  '$.ramMb': 'the board’s RAM',
  '$.xen': 'Xen’s settings',
  '$.xen.version': 'the Xen version',
  '$.xen.binary': 'the Xen hypervisor file',
  '$.xen.commandLine': 'the Xen command line',
  '$.xen.extraArgs': 'the extra Xen options',
  '$.console': 'the console settings',
  '$.console.uart': 'the console UART',
  '$.console.baud': 'the baud rate',
  '$.console.syncConsole': 'the sync_console setting',
  '$.console.logLevel': 'the Xen log level',
  '$.console.guestLogLevel': 'the guest log level',
  '$.boot': 'the boot settings',
  '$.boot.mode': 'the boot mode (TFTP or SD card only)',
  '$.boot.network': 'the network settings',
  '$.boot.network.method': 'the board address method (static or DHCP)',
  '$.boot.network.serverIp': 'the TFTP server address',
  '$.boot.network.boardIp': 'the board address',
  '$.boot.network.netmask': 'the netmask',
  '$.boot.network.gateway': 'the gateway',
  '$.boot.memoryStart': 'the memory start address',
  '$.boot.memoryEnd': 'the memory end address',
  '$.boot.stage2Address': 'the stage 2 address',
  '$.boot.loadCommand': 'the U-Boot load command',
  '$.boot.pathPrefix': 'the path prefix',
  '$.boot.bootCommand': 'the boot command',
  '$.boot.extraCommands': 'the extra U-Boot commands',
  '$.boot.tftp': 'the TFTP transfer settings',
  '$.boot.tftp.server': 'the TFTP server kind (the app’s own or another)',
  '$.boot.tftp.windowsize': 'the TFTP window size',
  '$.boot.tftp.blocksize': 'the TFTP block size',
  '$.dom0': 'Dom0',
  '$.dom0.kernel': 'the Dom0 kernel',
  '$.dom0.ramdisk': 'the Dom0 ramdisk',
  '$.dom0.commandLine': 'the Dom0 command line',
  '$.dom0.memoryMb': 'Dom0’s memory',
  '$.dom0.vcpus': 'Dom0’s vCPUs',
  '$.dom0.rootOnCard': 'Dom0’s root on the card',
  '$.deviceTree': 'the device tree',
  '$.deviceTreeSource': 'where the device tree comes from',
  '$.overlays': 'the device-tree overlays',
  '$.domUs': 'the DomUs',
  '$.firmware': 'the firmware files',
  '$.provenance': 'where the files came from',
  '$.baseImage': 'the base image',
  '$.ubootBinary': 'U-Boot (u-boot.bin)',
  '$.output': 'the output names',
  '$.output.stage1Name': 'the stage 1 script name',
  '$.output.stage2Name': 'the stage 2 script name',
  '$.output.scriptImageName': 'the script image name',
  '$.output.writeConfigTxt': 'the config.txt choice',
};

const DOMU_FIELDS: Record<string, string> = {
  name: 'name',
  kernel: 'kernel',
  ramdisk: 'ramdisk',
  passthroughDtb: 'passthrough device tree',
  commandLine: 'command line',
  memoryMb: 'memory',
  vcpus: 'vCPUs',
  colors: 'cache colours',
  staticMemory: 'static memory',
  passthroughPaths: 'passthrough devices',
};

/** "the TFTP server address" for `$.boot.network.serverIp`; the nearest named parent for a path deeper than the table. */
export function fieldSubject(path: string): string {
  const known = FIELD_SUBJECTS[path];
  if (known) return known;
  const domU = /^\$\.domUs\[(\d+)\](?:\.(\w+))?/.exec(path);
  if (domU) return `DomU ${Number(domU[1]) + 1}’s ${DOMU_FIELDS[domU[2] ?? ''] ?? 'settings'}`.replace(/’s settings$/, '');
  const listed = /^\$\.(overlays|firmware)\[(\d+)\]$/.exec(path);
  if (listed) return `${listed[1] === 'overlays' ? 'device-tree overlay' : 'firmware file'} ${Number(listed[2]) + 1}`;
  const parent = path.replace(/(\.[^.[\]]+|\[[^\]]*\])$/, '');
  return parent === path ? 'the profile' : fieldSubject(parent);
}

/** The field's name as a label ("TFTP server address"), for lists of problems. */
export function fieldLabel(path: string): string {
  return capitalise(fieldSubject(path).replace(/^the /, ''));
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const UNIT_OF: Array<[RegExp, string]> = [
  [/(memoryMb|ramMb)$/, ' MB'],
  [/vcpus$/, ''],
  [/baud$/, ' baud'],
];

function unit(path: string): string {
  return UNIT_OF.find(([pattern]) => pattern.test(path))?.[1] ?? '';
}

/** A zod default message, as opposed to one the schema wrote for its field ("Expected an IPv4 address: …"). */
function isValidatorWording(message: string): boolean {
  return /^(Invalid|Too small|Too big|Expected (?:number|string|int|boolean|object|array))/.test(message);
}

/** One schema problem as a sentence about its field, saying what to give instead. */
export function fieldProblemSentence(path: string, issue: z.core.$ZodIssue): string {
  const subject = fieldSubject(path);
  const Subject = capitalise(subject);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return `${Subject} must be a whole number.`;
      if (issue.expected === 'number') return `Give a number for ${subject}.`;
      if (issue.expected === 'string') return `Give ${subject}.`;
      if (issue.expected === 'boolean') return `${Subject} must be on or off.`;
      return `${Subject} is missing or not in the form the app expects.`;
    case 'too_small':
      if (issue.origin === 'string') return `Give ${subject}: it is empty.`;
      if (issue.origin === 'number') {
        const least = Number(issue.minimum);
        return issue.inclusive
          ? `${Subject} must be ${least}${unit(path)} or more.`
          : `${Subject} must be more than ${least}${unit(path)}.`;
      }
      return `${Subject} needs at least ${String(issue.minimum)} entries.`;
    case 'too_big':
      if (!isValidatorWording(issue.message)) return schemaSentence(Subject, issue.message);
      if (issue.origin === 'number') return `${Subject} must be ${String(issue.maximum)}${unit(path)} or less.`;
      if (issue.origin === 'string') return `${Subject} is too long: at most ${String(issue.maximum)} characters.`;
      return `${Subject} has too many entries: at most ${String(issue.maximum)}.`;
    case 'invalid_value':
      return `${Subject} must be ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}.`;
    case 'invalid_union': {
      const options = 'options' in issue && Array.isArray(issue.options) ? (issue.options as unknown[]) : [];
      return options.length > 0
        ? `${Subject} must be ${options.map((o) => JSON.stringify(o)).join(' or ')}.`
        : `${Subject} is not in a form the app knows.`;
    }
    default:
      return isValidatorWording(issue.message) ? `${Subject} is not valid here.` : schemaSentence(Subject, issue.message);
  }
}

/** The schema's own message, tied to its field: "Expected an IPv4 address: …" → "The TFTP server address must be an IPv4 address: …". */
function schemaSentence(Subject: string, message: string): string {
  const expected = /^Expected (.*)$/s.exec(message);
  return expected ? `${Subject} must be ${expected[1]}` : `${Subject}: ${message}`;
}
