// Two connected pseudo-terminals from socat, named by symlinks: one end plays the board's UART, the other the adapter.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findExecutable } from '../../electron/node/host-tools';

export const haveSocat = findExecutable('socat') !== undefined;

export interface PtyPair {
  /** The end the console opens (the USB-UART adapter's side). */
  adapter: string;
  /** The other end (the board's UART). */
  board: string;
  /** Ends socat: both ptys vanish, as an unplugged adapter does. */
  unplug(): Promise<void>;
}

/** Starts `socat pty,raw,echo=0 pty,raw,echo=0` with its ends linked at DIR/adapter and DIR/board. */
export async function startPtyPair(dir: string, names = { adapter: 'adapter', board: 'board' }): Promise<PtyPair> {
  const adapter = path.join(dir, names.adapter);
  const board = path.join(dir, names.board);
  const child: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${adapter}`, `pty,raw,echo=0,link=${board}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const started = Date.now();
  while (!/starting data transfer loop/.test(stderr)) {
    if (child.exitCode !== null || Date.now() - started > 5000) throw new Error(`socat did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    adapter,
    board,
    unplug: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => {
          for (const link of [adapter, board]) fs.rmSync(link, { force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
