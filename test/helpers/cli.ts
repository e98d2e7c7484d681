// A CLI I/O that records what a command prints, for calling runCli in-process.
import type { CliIO } from '../../electron/cli/command';

export type CapturedIO = CliIO & { out: string; err: string };

export function captureIO(options: { env?: NodeJS.ProcessEnv; cwd?: string; signal?: AbortSignal } = {}): CapturedIO {
  const io: CapturedIO = {
    out: '',
    err: '',
    stdout: (text) => void (io.out += text),
    stderr: (text) => void (io.err += text),
    isTTY: false,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal ?? new AbortController().signal,
  };
  return io;
}
