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
