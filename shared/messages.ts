// Every user-facing word about an error code, in one place: what the code means and the way forward from it.
import type { ErrorCode, ImagerErrorData } from './errors';

export interface CodeMessage {
  /** One sentence saying what this kind of failure is. */
  sentence: string;
  /** One sentence saying what the user can do next when the error itself names nothing more precise. */
  wayForward: string;
}

/** One entry per code: the compiler refuses a code without its message, and a message for a code that does not exist. */
export const errorMessages: Record<ErrorCode, CodeMessage> = {
  OFFLINE: {
    sentence: 'This computer could not reach the package archive.',
    wayForward: 'Connect to the network (or check the proxy settings), then try again.',
  },
  BUSY: {
    sentence: 'The same job is already running.',
    wayForward: 'Wait for it to finish or cancel it, then try again.',
  },
  INVALID_ARGUMENT: {
    sentence: 'A value given to the app is not one it accepts.',
    wayForward: 'Correct the value the message names and try again.',
  },
  UNKNOWN_METHOD: {
    sentence: 'The window asked the app for something it does not offer.',
    wayForward: 'Reload the window; if it happens again, report it as a bug.',
  },
  NOT_AVAILABLE: {
    sentence: 'A tool or feature this needs is not available on this computer.',
    wayForward: 'Install what the message names, or choose another way to do it.',
  },
  NOT_FOUND: {
    sentence: 'A file, folder or item the app needs does not exist.',
    wayForward: 'Check the name and path, or pick the file again.',
  },
  PERMISSION_DENIED: {
    sentence: 'The operating system did not allow this.',
    wayForward: 'Check the file or device permissions, or run as a user who may use it.',
  },
  IO_ERROR: {
    sentence: 'Reading or writing failed at the operating-system level.',
    wayForward: 'Check the disk or card (and its connection), then try again.',
  },
  CANCELLED: {
    sentence: 'The job was cancelled before it finished.',
    wayForward: 'Start it again when you are ready.',
  },
  INTERNAL: {
    sentence: 'Something went wrong inside the app.',
    wayForward: 'Try again; if it happens again, report it as a bug with the message shown.',
  },
  NOT_A_FILE: {
    sentence: 'The path names something other than a regular file.',
    wayForward: 'Pick a file, not a folder or a device.',
  },
  NOT_A_FOLDER: {
    sentence: 'The path names something other than a folder.',
    wayForward: 'Pick a folder.',
  },
  NOT_TEXT: {
    sentence: 'The file holds binary data where text was expected.',
    wayForward: 'Pick the text file itself (a profile or configuration), not an image or archive.',
  },
  FILE_TOO_LARGE: {
    sentence: 'The file is larger than this kind of file can be.',
    wayForward: 'Pick the right file; this one is too large for the role it was given.',
  },
  EXISTS: {
    sentence: 'Something with that name exists already.',
    wayForward: 'Choose another name, or say that it may be overwritten.',
  },
  NO_SPACE: {
    sentence: 'There is not enough free space.',
    wayForward: 'Free some space or choose another place, then try again.',
  },
  INVALID_PROFILE: {
    sentence: 'The profile has fields that are missing or wrong.',
    wayForward: 'Correct the fields named by their JSON paths, or start again from a board default.',
  },
  PROFILE_DAMAGED: {
    sentence: 'A saved profile could not be read.',
    wayForward: 'Open the file to repair it, or delete it; it is kept untouched until you do.',
  },
  PROFILE_TOO_NEW: {
    sentence: 'The profile was saved by a newer version of this app.',
    wayForward: 'Update Xen Pi Imager to open it.',
  },
  WRONG_FILE_TYPE: {
    sentence: 'A component is not the kind of file its role needs.',
    wayForward: 'Pick the file for that role (a kernel image, a cpio archive or a .dtb).',
  },
  NO_LOAD_COMMAND: {
    sentence: 'The boot script cannot say how to load the files.',
    wayForward: 'Set the load command, or choose TFTP or SD-card boot.',
  },
  NO_DOMAINS: {
    sentence: 'Xen would have nothing to boot.',
    wayForward: 'Give a Dom0 kernel or at least one DomU.',
  },
  NOT_ENOUGH_MEMORY: {
    sentence: 'The files to load do not fit the board’s memory.',
    wayForward: 'Use smaller files, fewer DomUs, or a board with more RAM.',
  },
  ROOT_DEVICE_UNKNOWN: {
    sentence: 'Dom0’s root partition cannot be derived from the load command.',
    wayForward: 'Put root=... in the Dom0 command line yourself.',
  },
  INVALID_STAGE1: {
    sentence: 'The first boot script cannot be built from these settings.',
    wayForward: 'Correct the boot settings the message names.',
  },
  STAGE2_OVERLAPS_STAGE1: {
    sentence: 'The second boot script would be loaded over the first one.',
    wayForward: 'Move the stage 2 address at least 2 MiB away from where stage 1 runs.',
  },
  INVALID_SCRIPT_IMAGE: {
    sentence: 'The file is not a valid U-Boot script image.',
    wayForward: 'Pick a script image made by mkimage (-T script), or regenerate it.',
  },
  BAD_DEVICE_TREE: {
    sentence: 'The device tree blob could not be read.',
    wayForward: 'Pick a valid .dtb for the board, or fetch the parts again.',
  },
  NO_DEVICE_TREE: {
    sentence: 'No device tree was given for Xen to boot with.',
    wayForward: 'Choose the board’s .dtb, or boot with the tree the Raspberry Pi firmware hands U-Boot.',
  },
  IMAGEBUILDER_CONFIG: {
    sentence: 'The ImageBuilder configuration is incomplete or contradicts itself.',
    wayForward: 'Correct the variable the message names.',
  },
  IMAGEBUILDER_CONFIG_SYNTAX: {
    sentence: 'The ImageBuilder configuration has a line this app cannot parse.',
    wayForward: 'Write that line as a plain VARIABLE=value assignment.',
  },
  IMAGEBUILDER_UNSUPPORTED: {
    sentence: 'The ImageBuilder configuration uses a feature this app does not support.',
    wayForward: 'Remove that setting, or use Xen’s own ImageBuilder for it.',
  },
  IMAGEBUILDER_CPUPOOL: {
    sentence: 'A CPU pool names a CPU the device tree does not have, or one another pool already has.',
    wayForward: 'Name CPU nodes under /cpus of DEVICE_TREE (such as cpu@1), each in one pool only.',
  },
  NOTHING_TO_SERVE: {
    sentence: 'The profile boots from the card, so there is nothing to serve over TFTP.',
    wayForward: 'Switch the profile to network boot (TFTP) first, or serve a folder.',
  },
  ADDRESS_IN_USE: {
    sentence: 'The network address or port is taken or not on this computer.',
    wayForward: 'Stop the other server, or choose another address or port.',
  },
  SOURCE_NOT_FOUND: {
    sentence: 'The image to write does not exist.',
    wayForward: 'Check the image’s path or URL, or pick it again.',
  },
  SOURCE_NOT_A_FILE: {
    sentence: 'The image to write is not a regular file.',
    wayForward: 'Pick an image file (.img, .img.xz, .img.gz or .zip).',
  },
  SOURCE_CORRUPT: {
    sentence: 'The image to write is damaged or truncated.',
    wayForward: 'Download the image again.',
  },
  UNSUPPORTED_FORMAT: {
    sentence: 'The image is in a format this app does not read.',
    wayForward: 'Decompress it first, or use .img, .img.xz, .img.gz or .zip.',
  },
  CHECKSUM_MISMATCH: {
    sentence: 'The image’s SHA-256 is not the one expected.',
    wayForward: 'Download the image again, or check the checksum you gave.',
  },
  NO_PARTITION_TABLE: {
    sentence: 'The image or card has no partition table.',
    wayForward: 'Use a Raspberry Pi OS image (or any image with an MBR), or start from a fresh card.',
  },
  NO_FAT_PARTITION: {
    sentence: 'The image or card has no FAT boot partition.',
    wayForward: 'Use an image whose first partition is FAT, or start from a fresh card.',
  },
  NO_FAT_FILESYSTEM: {
    sentence: 'The boot partition does not hold a FAT file system.',
    wayForward: 'Use an image whose boot partition is FAT16 or FAT32, or start from a fresh card.',
  },
  NOT_A_DRIVE: {
    sentence: 'The target is not a drive this computer can write.',
    wayForward: 'Choose one of the drives listed (xen-pi-imager drives), or an image file.',
  },
  NOT_A_TARGET: {
    sentence: 'The target is neither a drive nor an image file.',
    wayForward: 'Give a drive, or a file name ending in .img or .img.xz.',
  },
  TARGET_TOO_SMALL: {
    sentence: 'The target is smaller than the image.',
    wayForward: 'Use a larger card.',
  },
  TARGET_REMOVED: {
    sentence: 'The card was removed while it was being written.',
    wayForward: 'Put the card back in and write it again.',
  },
  DEVICE_BUSY: {
    sentence: 'The drive is in use by another program.',
    wayForward: 'Close programs using the card, unmount it, then try again.',
  },
  DRIVE_REFUSED: {
    sentence: 'The drive is not safe to write.',
    wayForward: 'Choose another drive; the message says what is wrong with this one.',
  },
  CONFIRMATION_NEEDED: {
    sentence: 'Writing would erase a drive, and that was not confirmed.',
    wayForward: 'Check the drive’s name and size, then confirm.',
  },
  ELEVATION_DECLINED: {
    sentence: 'Permission to write the drive was not given.',
    wayForward: 'Try again and allow it when the system asks for your password.',
  },
  NO_POLKIT_AGENT: {
    sentence: 'No program is there to ask for the password needed to write the drive.',
    wayForward: 'Run the app in a desktop session with a polkit agent, or run the command line as root.',
  },
  WRITER_FAILED: {
    sentence: 'The process that writes drives stopped unexpectedly.',
    wayForward: 'Try again; if it happens again, report it as a bug with the message shown.',
  },
  WRITE_FAILED: {
    sentence: 'Writing the card failed part way.',
    wayForward: 'Check the card and its reader, then write again; the card is not usable as it is.',
  },
  VERIFY_FAILED: {
    sentence: 'What was read back from the card differs from what was written.',
    wayForward: 'Write again; if it fails again, the card or its reader is faulty.',
  },
  VERIFY_READ_FAILED: {
    sentence: 'The card could not be read back to verify it.',
    wayForward: 'Check the card and its reader, then write again.',
  },
  READBACK_FAILED: {
    sentence: 'A file written to the boot partition reads back different.',
    wayForward: 'Write again; if it fails again, the card or its reader is faulty.',
  },
  DOWNLOAD_FAILED: {
    sentence: 'A package could not be downloaded.',
    wayForward: 'Check the network and try again.',
  },
  BAD_PACKAGE: {
    sentence: 'A downloaded package is damaged or not what was expected.',
    wayForward: 'Fetch the parts again with --refresh (or Get everything from Debian again).',
  },
  EMULATOR_FAILED: {
    sentence: 'The emulated boot did not reach its goal.',
    wayForward: 'Read where the boot stopped in the console, correct the profile, and try again.',
  },
  NO_FIRMWARE: {
    sentence: 'The base image has no Raspberry Pi 4 firmware, so a Pi 4 would not start from the card.',
    wayForward: 'Choose a Raspberry Pi OS image for the Pi 4, or leave the base image empty for a fresh card with Debian’s firmware.',
  },
  TFTP_SERVER_RUNNING: {
    sentence: 'The app’s own TFTP server holds the port the trial needs.',
    wayForward: 'Stop the TFTP server on the Network boot step, try again, then start it again for your Pi.',
  },
};

/** What a code means and what to do about it; an unknown code from an older process reads as INTERNAL. */
export function messageOf(code: ErrorCode): CodeMessage {
  return errorMessages[code] ?? errorMessages.INTERNAL;
}

/** The error's own hint when it has one, else the way forward from its code. */
export function wayForwardOf(error: Pick<ImagerErrorData, 'code' | 'hint'>): string {
  return error.hint ?? messageOf(error.code).wayForward;
}

/** One line for a terminal or a log: "message [subject]", then the way forward. */
export function formatError(error: ImagerErrorData): string {
  const subject = error.subject ? ` [${error.subject}]` : '';
  return `${error.message}${subject}\n  ${wayForwardOf(error)}`;
}
