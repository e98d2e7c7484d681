// Errors as values: a code, the thing that failed, what happened, and what the user can do next.

/** Every error code the app can report. The UI and CLI show `message` and `hint`; code is for logs and tests. */
export type ErrorCode =
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
  | (string & {});

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

/** One line for a terminal or a log: "message (subject). hint" */
export function formatError(error: ImagerErrorData): string {
  const subject = error.subject ? ` [${error.subject}]` : '';
  const hint = error.hint ? `\n  ${error.hint}` : '';
  return `${error.message}${subject}${hint}`;
}
