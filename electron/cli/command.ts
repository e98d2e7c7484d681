// What a CLI command is: a name, a one-line summary, its usage text, and a run function on injected I/O.
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stdout is a terminal (progress bars); false for pipes and --json. */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on Ctrl-C: long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
  /** Keyboard or piped input, for commands that pass it on (the serial console). */
  stdin?: CliInput;
}

/** What the console needs of stdin: bytes, and raw mode when it is a terminal. */
export interface CliInput {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  removeListener(event: 'data', listener: (chunk: Buffer) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface CliCommand {
  name: string;
  summary: string;
  /** Full usage text shown by `xen-pi-imager help NAME` and `NAME --help`. */
  usage: string;
  /** Returns the process exit status. */
  run(argv: string[], io: CliIO): Promise<number>;
}

/** A usage error: printed with the command's usage, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A UDP port option (`--port`, `--tftp-port`): 69 when not given, the only port U-Boot's TFTP uses. */
export function parseUdpPort(option: string, text: string | undefined): number {
  if (text === undefined) return 69;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new UsageError(`${option} must be a number from 1 to 65535, not "${text}".`);
  return port;
}
