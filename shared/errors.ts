// Errors as values: a code, the thing that failed, what happened, and what the user can do next.

/**
 * Every error code the app can report: a closed list, so a misspelt code does not compile.
 * Each has its sentence and its way forward in `shared/messages.ts`; code is for logs, tests and scripts.
 */
export type ErrorCode =
  // general
  | 'OFFLINE'
  | 'BUSY'
  | 'INVALID_ARGUMENT'
  | 'UNKNOWN_METHOD'
  | 'NOT_AVAILABLE'
  | 'NOT_FOUND'
  | 'PERMISSION_DENIED'
  | 'IO_ERROR'
  | 'CANCELLED'
  | 'INTERNAL'
  // user files
  | 'NOT_A_FILE'
  | 'NOT_A_FOLDER'
  | 'NOT_TEXT'
  | 'FILE_TOO_LARGE'
  | 'EXISTS'
  | 'NO_SPACE'
  // profiles
  | 'INVALID_PROFILE'
  | 'PROFILE_DAMAGED'
  | 'PROFILE_TOO_NEW'
  // boot files
  | 'WRONG_FILE_TYPE'
  | 'NO_LOAD_COMMAND'
  | 'NO_DOMAINS'
  | 'NOT_ENOUGH_MEMORY'
  | 'ROOT_DEVICE_UNKNOWN'
  | 'INVALID_STAGE1'
  | 'STAGE2_OVERLAPS_STAGE1'
  | 'INVALID_SCRIPT_IMAGE'
  | 'BAD_DEVICE_TREE'
  | 'NO_DEVICE_TREE'
  // ImageBuilder
  | 'IMAGEBUILDER_CONFIG'
  | 'IMAGEBUILDER_CONFIG_SYNTAX'
  | 'IMAGEBUILDER_UNSUPPORTED'
  | 'IMAGEBUILDER_CPUPOOL'
  // TFTP
  | 'NOTHING_TO_SERVE'
  | 'ADDRESS_IN_USE'
  // sources and card images
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_NOT_A_FILE'
  | 'SOURCE_CORRUPT'
  | 'UNSUPPORTED_FORMAT'
  | 'CHECKSUM_MISMATCH'
  | 'NO_PARTITION_TABLE'
  | 'NO_FAT_PARTITION'
  | 'NO_FAT_FILESYSTEM'
  // drives
  | 'NOT_A_DRIVE'
  | 'NOT_A_TARGET'
  | 'TARGET_TOO_SMALL'
  | 'TARGET_REMOVED'
  | 'DEVICE_BUSY'
  | 'DRIVE_REFUSED'
  | 'CONFIRMATION_NEEDED'
  // writing
  | 'ELEVATION_DECLINED'
  | 'NO_POLKIT_AGENT'
  | 'WRITER_FAILED'
  | 'WRITE_FAILED'
  | 'VERIFY_FAILED'
  | 'VERIFY_READ_FAILED'
  | 'READBACK_FAILED'
  // Debian parts and the emulator
  | 'DOWNLOAD_FAILED'
  | 'BAD_PACKAGE'
  | 'EMULATOR_FAILED'
  /** A base image's boot partition lacks the Raspberry Pi 4 firmware (start4.elf, fixup4.dat). */
  | 'NO_FIRMWARE'
  /** The app's own TFTP server holds the port a trial needs: stop it (details.stop names the method). */
  | 'TFTP_SERVER_RUNNING';

export interface ImagerErrorData {
  code: ErrorCode;
  /** What failed: a file, a device, a field path, a method name. */
  subject?: string;
  /** One sentence saying what went wrong. */
  message: string;
  /** One sentence saying what the user can do next. */
  hint?: string;
  /** Extra machine-readable facts (phase, byte range, field paths...). */
  details?: Record<string, unknown>;
}

export class ImagerError extends Error implements ImagerErrorData {
  readonly code: ErrorCode;
  readonly subject?: string;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(data: ImagerErrorData) {
    super(data.message);
    this.name = 'ImagerError';
    this.code = data.code;
    if (data.subject !== undefined) this.subject = data.subject;
    if (data.hint !== undefined) this.hint = data.hint;
    if (data.details !== undefined) this.details = data.details;
  }

  toJSON(): ImagerErrorData {
    return {
      code: this.code,
      message: this.message,
      ...(this.subject !== undefined && { subject: this.subject }),
      ...(this.hint !== undefined && { hint: this.hint }),
      ...(this.details !== undefined && { details: this.details }),
    };
  }

  static is(value: unknown): value is ImagerError {
    return value instanceof ImagerError;
  }
}

/** Turns anything thrown into plain error data that can cross a process or a socket. */
export function toErrorData(error: unknown): ImagerErrorData {
  if (error instanceof ImagerError) return error.toJSON();
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      code: typeof code === 'string' && /^E[A-Z]+$/.test(code) ? systemErrorCode(code) : 'INTERNAL',
      message: error.message,
      ...(typeof code === 'string' && { details: { systemCode: code } }),
    };
  }
  return { code: 'INTERNAL', message: String(error) };
}

function systemErrorCode(code: string): ErrorCode {
  switch (code) {
    case 'ENOENT':
      return 'NOT_FOUND';
    case 'EACCES':
    case 'EPERM':
      return 'PERMISSION_DENIED';
    default:
      return 'IO_ERROR';
  }
}

/** Rebuilds an ImagerError on the receiving side of a transport. */
export function fromErrorData(data: ImagerErrorData): ImagerError {
  return new ImagerError(data);
}
