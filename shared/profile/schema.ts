// The profile: the whole recipe (board, Xen, console, boot mode, Dom0, DomUs, files, outputs) as a versioned zod schema.
import { z } from 'zod';
import { isIpv4 } from '../network/ipv4';

export const PROFILE_SCHEMA_VERSION = 2;

const hexAddress = z.string().regex(/^0x[0-9a-fA-F]+$/, { message: 'Expected an address in hex, such as 0xC00000.' });
const ipv4 = z
  .string()
  .refine(isIpv4, { message: 'Expected an IPv4 address: four numbers 0-255 separated by dots, such as 192.168.1.10.' });
const filePath = z.string().min(1, { message: 'Expected a file path.' });
const logLevel = z.enum(['default', 'error', 'warning', 'info', 'debug', 'all']);

export const domUSchema = z.object({
  name: z.string().optional().describe('A label for the wizard; Xen names DomUs domU0, domU1, ...'),
  kernel: filePath.describe('The DomU kernel (arm64 Image).'),
  ramdisk: filePath.optional().describe('The DomU ramdisk (cpio, optionally gzip).'),
  passthroughDtb: filePath.optional().describe('Partial device tree of the devices handed to this DomU.'),
  commandLine: z.string().optional().describe('Linux command line; default console=ttyAMA0.'),
  memoryMb: z.number().int().positive().max(1048576, { message: 'DomU memory is given in MB; no board has more than 1 TB.' }).default(512),
  vcpus: z.number().int().positive().max(1024, { message: 'A DomU cannot have more than 1024 vCPUs.' }).default(1),
  enhanced: z.boolean().optional().describe('xen,enhanced (PV drivers from Dom0); default: when Dom0 exists.'),
  staticMemory: z
    .array(z.object({ base: hexAddress, size: hexAddress }))
    .optional()
    .describe('Fixed physical memory banks.'),
  directMap: z.boolean().optional().describe('With static memory: guest addresses equal host addresses (default true).'),
  colors: z
    .string()
    .regex(/^\d+-\d+$/, { message: 'Expected a colour range such as 4-7.' })
    .optional(),
  viommu: z.boolean().optional(),
  noBoot: z.boolean().optional().describe('Not started at boot: only its passthrough devices are marked.'),
  passthroughPaths: z.array(z.string().startsWith('/')).optional().describe('Host device-tree nodes given to this DomU (xen,passthrough).'),
});

export const networkSchema = z.discriminatedUnion('method', [
  z.object({
    method: z.literal('static'),
    serverIp: ipv4.describe('The TFTP server as the board sees it (255.255.255.255 under QEMU).'),
    boardIp: ipv4,
    netmask: ipv4.optional(),
    gateway: ipv4.optional(),
  }),
  z.object({ method: z.literal('dhcp'), serverIp: ipv4.optional() }),
]);

export const profileSchema = z.object({
  $schema: z.string().optional(),
  schemaVersion: z.literal(PROFILE_SCHEMA_VERSION),
  name: z.string().default('Xen on Raspberry Pi 4'),
  board: z.enum(['rpi4', 'qemu-virt']),
  ramMb: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("The board's RAM in MB (a Pi 4 has 1024, 2048, 4096 or 8192); Dom0 and DomU memory must fit what U-Boot declares on it."),
  xen: z.object({
    version: z.string().regex(/^\d+\.\d+/, { message: 'Expected a release number such as 4.17.' }),
    binary: filePath.describe('The Xen hypervisor (arm64, e.g. /boot/xen-4.17-arm64).'),
    commandLine: z.string().optional().describe('The whole Xen command line, replacing the one built from the console and Dom0 settings.'),
    extraArgs: z.string().default('').describe('Words appended to the built command line.'),
  }),
  console: z.object({
    uart: z.enum(['mini', 'pl011']).describe('mini = serial1 on GPIO 14/15; pl011 = serial0 with Bluetooth disabled.'),
    baud: z.number().int().positive().default(115200),
    syncConsole: z.boolean().default(false).describe('sync_console: flush every character (debugging early crashes; slow).'),
    logLevel: logLevel.default('default').describe("Xen's loglvl."),
    guestLogLevel: logLevel.default('default').describe("Xen's guest_loglvl."),
  }),
  boot: z.object({
    mode: z.enum(['tftp', 'sd']).describe('tftp: stage 1 on the card fetches the rest over the network; sd: everything on the card.'),
    network: networkSchema.optional(),
    memoryStart: hexAddress,
    memoryEnd: hexAddress,
    stage2Address: hexAddress.describe('Where stage 1 loads stage 2; the files follow 2 MiB above it.'),
    loadCommand: z.string().optional().describe("Overrides the U-Boot load command (tftpb, or the board's card command)."),
    pathPrefix: z.string().optional().describe('Prepended to every file name the scripts load (a folder in the TFTP root).'),
    bootCommand: z.enum(['booti', 'none']).default('booti'),
    extraCommands: z.string().optional().describe('U-Boot commands run just before booting Xen.'),
    tftp: z
      .object({
        server: z
          .enum(['built-in', 'external'])
          .default('built-in')
          .describe(
            "Who serves the board: this app's TFTP server (windows of 16 blocks by default) or another one (lock-step by default).",
          ),
        windowsize: z
          .number()
          .int()
          .min(1, { message: 'The TFTP windowsize is at least 1 (lock-step).' })
          .max(64, { message: 'Expected at most 64 blocks (the built-in server answers no more).' })
          .optional()
          .describe('Blocks per ACK (RFC 7440, U-Boot 2020.10 on: tftpwindowsize). Default: 16 with the built-in server, 1 with another.'),
        blocksize: z
          .number()
          .int()
          .min(512, { message: 'The TFTP block size is at least 512 bytes.' })
          .max(65464, { message: 'Expected at most 65464 bytes (RFC 2348); 1468 fits one Ethernet frame.' })
          .optional()
          .describe('Bytes per block (tftpblocksize). Default 1468, the most U-Boot takes without IP reassembly.'),
      })
      .optional()
      .describe('How U-Boot fetches over TFTP; absent: the built-in server, windows of 16, 1468-byte blocks.'),
  }),
  dom0: z
    .object({
      kernel: filePath.describe('Dom0 Linux (arm64 Image, 5.9 or newer on the Pi 4).'),
      ramdisk: filePath.optional(),
      commandLine: z.string().optional().describe('Default: console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused, plus root=.'),
      memoryMb: z
        .number()
        .int()
        .positive()
        .max(1048576, { message: 'Dom0 memory is given in MB; no board has more than 1 TB.' })
        .default(1024),
      vcpus: z.number().int().positive().max(1024, { message: 'Dom0 cannot have more than 1024 vCPUs.' }).default(1),
      rootOnCard: z.boolean().default(false).describe("Dom0's root filesystem is the card's second partition."),
    })
    .optional()
    .describe('Absent: true dom0less (only DomUs).'),
  deviceTree: filePath.describe("The device tree Xen boots with (upstream Linux's broadcom/bcm2711-rpi-4-b.dtb on a Pi 4)."),
  deviceTreeSource: z
    .enum(['file', 'firmware'])
    .default('file')
    .describe(
      'file: stage 2 loads deviceTree; firmware (Pi 4): Xen boots with the tree the Raspberry Pi firmware handed U-Boot (${fdt_addr}), keeping its memory, MAC address and overlay edits.',
    ),
  overlays: z.array(filePath).default([]),
  domUs: z.array(domUSchema).default([]),
  firmware: z
    .array(filePath)
    .default([])
    .describe(
      'Files for the root of a fresh card (no base image): the Raspberry Pi firmware (start4.elf, fixup4.dat) and the tree it hands to U-Boot.',
    ),
  provenance: z
    .record(
      z.string(),
      z.object({
        package: z.string().describe('The Debian package the file came from.'),
        version: z.string(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, { message: 'Expected a SHA-256 in lower-case hex.' }),
      }),
    )
    .optional()
    .describe(
      'Where each file came from (written by fetch-parts), keyed by the path as the profile gives it; profile check reports a file whose bytes changed.',
    ),
  baseImage: filePath
    .optional()
    .describe(
      'A disk image (e.g. Raspberry Pi OS) whose card layout and config.txt are kept; absent: the app builds a fresh card (MBR, one FAT32 boot partition).',
    ),
  ubootBinary: filePath.optional().describe('U-Boot for the board (Debian u-boot-rpi: /usr/lib/u-boot/rpi_4/u-boot.bin).'),
  output: z
    .object({
      stage1Name: z.string().default('boot').describe('Stage 1 is written as <name>.source and <name>.scr.'),
      stage2Name: z.string().default('boot2'),
      scriptImageName: z.string().default('').describe('mkimage -n for both scripts.'),
      writeConfigTxt: z.boolean().default(true),
    })
    .default({ stage1Name: 'boot', stage2Name: 'boot2', scriptImageName: '', writeConfigTxt: true }),
});

export type Profile = z.output<typeof profileSchema>;
export type ProfileInput = z.input<typeof profileSchema>;
export type DomUProfile = z.output<typeof domUSchema>;
export type NetworkProfile = z.output<typeof networkSchema>;

/** The JSON Schema published as resources/profile.schema.json (the input shape: defaulted fields are optional). */
export function profileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(profileSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $id: 'https://xen-pi-imager.invalid/profile.schema.json',
    title: 'Xen Pi Imager profile',
    description:
      'The whole recipe for booting Xen on a Raspberry Pi 4 (or QEMU virt): board, Xen, console, boot mode, Dom0, DomUs and outputs.',
    ...schema,
  };
}
