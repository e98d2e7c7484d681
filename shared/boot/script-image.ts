// U-Boot legacy images as `mkimage -C none` writes them, byte for byte: the boot script (and its reader) and a wrapped kernel.
import { ImagerError } from '../errors';
import { crc32 } from './crc32';

export const UIMAGE_MAGIC = 0x27051956;
export const UIMAGE_HEADER_SIZE = 64;
export const UIMAGE_NAME_SIZE = 32;
const OS_LINUX = 5;
const ARCH_ARM = 2;
const ARCH_ARM64 = 22;
const TYPE_KERNEL = 2;
const TYPE_SCRIPT = 6;
const COMPRESSION_NONE = 0;

export interface ScriptImageOptions {
  /** `-a`: where U-Boot loads the image (its `scriptaddr` for stage 1). */
  loadAddress: number;
  /** `-e`: defaults to the load address, as our callers always pass the same value. */
  entryPoint?: number;
  /** `-n`: up to 32 bytes of UTF-8; longer names are cut like mkimage does. */
  name?: string;
  /** Seconds since the epoch: SOURCE_DATE_EPOCH when set, else now (see `scriptTimestamp`). */
  timestamp: number;
}

export interface ScriptImage {
  source: string;
  sourceBytes: Uint8Array;
  loadAddress: number;
  entryPoint: number;
  name: string;
  timestamp: number;
  os: number;
  arch: number;
  type: number;
  compression: number;
  headerCrc: number;
  dataCrc: number;
  /** Total bytes the image occupies (header + payload). */
  imageSize: number;
}

/** The timestamp mkimage would use: SOURCE_DATE_EPOCH when it is set, else the current time. */
export function scriptTimestamp(sourceDateEpoch: string | undefined, now: Date = new Date()): number {
  if (sourceDateEpoch !== undefined && sourceDateEpoch.trim() !== '') {
    const value = Number(sourceDateEpoch);
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new ImagerError({
        code: 'INVALID_ARGUMENT',
        subject: 'SOURCE_DATE_EPOCH',
        message: `SOURCE_DATE_EPOCH "${sourceDateEpoch}" is not a whole number of seconds that fits the image header.`,
        hint: 'Set SOURCE_DATE_EPOCH to seconds since 1970 (for example the output of `date +%s`), or unset it.',
      });
    }
    return value;
  }
  return Math.floor(now.getTime() / 1000);
}

function checkAddress(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ImagerError({
      code: 'INVALID_ARGUMENT',
      subject: what,
      message: `The ${what} ${value} does not fit the 32-bit field of a U-Boot legacy image.`,
      hint: 'Use an address below 4 GiB for the boot script.',
    });
  }
}

interface LegacyHeader {
  arch: number;
  type: number;
  loadAddress: number;
  entryPoint: number;
  name?: string;
  timestamp: number;
}

/** The 64-byte header mkimage puts before `payload`, and the payload after it. */
function writeLegacyImage(payload: Uint8Array, header: LegacyHeader): Uint8Array {
  checkAddress(header.loadAddress, 'load address');
  checkAddress(header.entryPoint, 'entry point');
  checkAddress(header.timestamp, 'timestamp');
  const image = new Uint8Array(UIMAGE_HEADER_SIZE + payload.length);
  const view = new DataView(image.buffer);
  image.set(payload, UIMAGE_HEADER_SIZE);
  view.setUint32(0, UIMAGE_MAGIC);
  view.setUint32(8, header.timestamp);
  view.setUint32(12, payload.length);
  view.setUint32(16, header.loadAddress);
  view.setUint32(20, header.entryPoint);
  view.setUint32(24, crc32(payload));
  image[28] = OS_LINUX;
  image[29] = header.arch;
  image[30] = header.type;
  image[31] = COMPRESSION_NONE;
  // strncpy semantics: at most 32 bytes, NUL padded, not necessarily NUL terminated.
  image.set(new TextEncoder().encode(header.name ?? '').subarray(0, UIMAGE_NAME_SIZE), 32);
  view.setUint32(4, crc32(image.subarray(0, UIMAGE_HEADER_SIZE)));
  return image;
}

/** Wraps a boot script as `mkimage -A arm64 -T script -C none -a A -e E [-n NAME] -d SRC` does. */
export function writeScriptImage(source: string | Uint8Array, options: ScriptImageOptions): Uint8Array {
  const sourceBytes = typeof source === 'string' ? new TextEncoder().encode(source) : source;
  // Payload of a multi-file image with one file: its length, a zero terminator, then the bytes (no padding after the last file).
  const payload = new Uint8Array(8 + sourceBytes.length);
  new DataView(payload.buffer).setUint32(0, sourceBytes.length);
  payload.set(sourceBytes, 8);
  return writeLegacyImage(payload, {
    arch: ARCH_ARM64,
    type: TYPE_SCRIPT,
    loadAddress: options.loadAddress,
    entryPoint: options.entryPoint ?? options.loadAddress,
    timestamp: options.timestamp,
    ...(options.name !== undefined && { name: options.name }),
  });
}

export type KernelImageArch = 'arm' | 'arm64';

/** Wraps a kernel (Xen, for BOOT_CMD=bootm) as `mkimage -A ARCH -T kernel -C none -a A -e A -d FILE` does. */
export function writeKernelImage(kernel: Uint8Array, options: { arch: KernelImageArch; address: number; timestamp: number }): Uint8Array {
  return writeLegacyImage(kernel, {
    arch: options.arch === 'arm64' ? ARCH_ARM64 : ARCH_ARM,
    type: TYPE_KERNEL,
    loadAddress: options.address,
    entryPoint: options.address,
    timestamp: options.timestamp,
  });
}

/** What mkimage prints after writing a kernel image (its `Created:` line in UTC). */
export function describeKernelImage(options: { arch: KernelImageArch; address: number; timestamp: number; size: number }): string[] {
  const when = new Date(options.timestamp * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][when.getUTCDay()]!;
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][when.getUTCMonth()]!;
  const time = `${two(when.getUTCHours())}:${two(when.getUTCMinutes())}:${two(when.getUTCSeconds())}`;
  const created = `${weekday} ${month} ${String(when.getUTCDate()).padStart(2, ' ')} ${time} ${when.getUTCFullYear()}`;
  const address = options.address.toString(16).padStart(8, '0');
  const kib = (options.size / 1024).toFixed(2);
  const mib = (options.size / 1024 / 1024).toFixed(2);
  return [
    'Image Name:   ',
    `Created:      ${created}`,
    `Image Type:   ${options.arch === 'arm64' ? 'AArch64' : 'ARM'} Linux Kernel Image (uncompressed)`,
    `Data Size:    ${options.size} Bytes = ${kib} KiB = ${mib} MiB`,
    `Load Address: ${address}`,
    `Entry Point:  ${address}`,
  ];
}

function invalid(subject: string, message: string, hint = 'Regenerate the script with Xen Pi Imager or mkimage -T script.'): ImagerError {
  return new ImagerError({ code: 'INVALID_SCRIPT_IMAGE', subject, message, hint });
}

/** Reads a script image back, checking what U-Boot's `source` checks (magic, both CRCs, type, length). */
export function readScriptImage(bytes: Uint8Array, subject = 'boot script'): ScriptImage {
  if (bytes.length < UIMAGE_HEADER_SIZE) {
    throw invalid(subject, `It is ${bytes.length} bytes long, shorter than a U-Boot image header (64 bytes).`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== UIMAGE_MAGIC) {
    throw invalid(subject, `It does not start with the U-Boot image magic 0x27051956 (found 0x${magic.toString(16).padStart(8, '0')}).`);
  }
  const headerCrc = view.getUint32(4);
  const header = new Uint8Array(bytes.subarray(0, UIMAGE_HEADER_SIZE)); // a copy, even for a Node Buffer (whose slice is a view)
  new DataView(header.buffer).setUint32(4, 0);
  if (crc32(header) !== headerCrc) throw invalid(subject, 'Its header CRC does not match: the header is damaged.');
  const payloadSize = view.getUint32(12);
  if (UIMAGE_HEADER_SIZE + payloadSize > bytes.length) {
    throw invalid(
      subject,
      `The header announces ${payloadSize} bytes of payload but only ${bytes.length - UIMAGE_HEADER_SIZE} follow: the file is truncated.`,
    );
  }
  const payload = bytes.subarray(UIMAGE_HEADER_SIZE, UIMAGE_HEADER_SIZE + payloadSize);
  const dataCrc = view.getUint32(24);
  if (crc32(payload) !== dataCrc) throw invalid(subject, 'Its data CRC does not match: the script is damaged.');
  const type = bytes[30]!;
  if (type !== TYPE_SCRIPT) {
    throw invalid(
      subject,
      `It is a U-Boot image of type ${type}, not a script (type 6).`,
      'Pick the boot script (boot.scr), not a kernel or ramdisk image.',
    );
  }
  return {
    ...parseScriptPayload(payload, subject),
    ...headerFields(bytes, view),
    headerCrc,
    dataCrc,
    imageSize: UIMAGE_HEADER_SIZE + payloadSize,
  };
}

function headerFields(bytes: Uint8Array, view: DataView) {
  const nameBytes = bytes.subarray(32, 64);
  const end = nameBytes.indexOf(0);
  return {
    timestamp: view.getUint32(8),
    loadAddress: view.getUint32(16),
    entryPoint: view.getUint32(20),
    os: bytes[28]!,
    arch: bytes[29]!,
    type: bytes[30]!,
    compression: bytes[31]!,
    name: new TextDecoder().decode(end < 0 ? nameBytes : nameBytes.subarray(0, end)),
  };
}

function parseScriptPayload(payload: Uint8Array, subject: string): { source: string; sourceBytes: Uint8Array } {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  // The length table ends with a zero word; the script is the first file after it.
  let tableEnd = 0;
  while (tableEnd + 4 <= payload.length && view.getUint32(tableEnd) !== 0) tableEnd += 4;
  if (tableEnd + 4 > payload.length) throw invalid(subject, 'Its file-length table has no end: this is not a script image.');
  if (tableEnd === 0) throw invalid(subject, 'It holds a script of length zero, which U-Boot refuses to run.');
  const length = view.getUint32(0);
  const start = tableEnd + 4;
  if (start + length > payload.length)
    throw invalid(subject, `The script claims ${length} bytes but the image holds only ${payload.length - start}.`);
  const sourceBytes = new Uint8Array(payload.subarray(start, start + length));
  return { source: new TextDecoder().decode(sourceBytes), sourceBytes };
}
