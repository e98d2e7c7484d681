// Starts the writer process (elevated when it must write drives and we are not root) and speaks its JSON-lines protocol.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FlashProgress, FlashRequest, FlashResult } from '../../../shared/drives/flash';
import type { DriveInfo } from '../../../shared/drives/types';
import { fromErrorData, ImagerError } from '../../../shared/errors';
import type { EditBootRequest, WriterMessage, WriterRequest, WriterResults } from '../../../shared/drives/writer-protocol';
import { findExecutable } from '../../node/host-tools';

export interface WriterLaunch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  elevated: boolean;
}

export interface WriterOptions {
  /** Run as root (pkexec on Linux) when not already root. Scanning needs no privileges; writing drives does. */
  elevate?: boolean;
  /** The writer entry to run; by default the bundled out/writer/index.mjs, else the TypeScript source through tsx. */
  script?: string;
  env?: NodeJS.ProcessEnv;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where the writer's entry lives: next to the bundle in a build, or the source file when running from the tree. */
export function writerScript(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XEN_PI_IMAGER_WRITER) return env.XEN_PI_IMAGER_WRITER;
  const candidates = [
    path.join(here, '../writer/index.mjs'),
    path.join(here, '../../out/writer/index.mjs'),
    path.join(here, '../../writer/index.ts'),
  ];
  // From source, prefer the TypeScript entry (a stale bundle would hide edits); from a bundle, the bundle.
  const fromSource = here.endsWith(path.join('electron', 'services', 'drives'));
  const ordered = fromSource ? [candidates[2], ...candidates.slice(0, 2)] : candidates;
  return ordered.find((candidate) => candidate && fs.existsSync(candidate)) ?? (candidates[2] as string);
}

/** The command line that runs the writer: Node (or Electron as Node), tsx for .ts sources, pkexec when elevating. */
export function writerLaunch(options: WriterOptions = {}): WriterLaunch {
  const script = options.script ?? writerScript(options.env);
  // tsx by its file: `--import tsx` would resolve from the working folder, which may be anywhere
  const runtimeArgs = script.endsWith('.ts')
    ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, script]
    : [script];
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
  const needsElevation = Boolean(options.elevate) && process.platform === 'linux' && process.getuid?.() !== 0;
  if (!needsElevation) return { command: process.execPath, args: runtimeArgs, env, elevated: false };
  const pkexec = findExecutable('pkexec');
  if (!pkexec) {
    throw new ImagerError({
      code: 'PERMISSION_DENIED',
      subject: 'pkexec',
      message: 'Writing a drive needs administrator rights, and polkit (pkexec) is not installed.',
      hint: 'Install polkit (Debian/Ubuntu: sudo apt-get install pkexec), or run the CLI with sudo.',
    });
  }
  // pkexec clears the environment: pass what the writer needs explicitly, and run from the same folder (tsx resolves from it).
  const carried = ['ELECTRON_RUN_AS_NODE', 'NODE_PATH', 'XEN_PI_IMAGER_HOME'].filter((k) => env[k]).map((k) => `${k}=${env[k]}`);
  return { command: pkexec, args: ['env', ...carried, `--chdir=${process.cwd()}`, process.execPath, ...runtimeArgs], env, elevated: true };
}

/** Explains why an elevated writer never said hello: no polkit agent, the user said no, or something else. */
export function elevationError(exitCode: number | null, stderr: string): ImagerError {
  const text = stderr.trim();
  if (/no authentication agent/i.test(text) || /polkit-agent-helper/i.test(text)) {
    return new ImagerError({
      code: 'NO_POLKIT_AGENT',
      subject: 'pkexec',
      message: 'No password prompt could be shown: no polkit authentication agent is running.',
      hint: 'Log in to a desktop session (it runs one), start one such as lxpolkit, or run the CLI with sudo.',
      details: { exitCode, stderr: text },
    });
  }
  if (exitCode === 126 || /dismissed|not authorized|authentication failed/i.test(text)) {
    return new ImagerError({
      code: 'ELEVATION_DECLINED',
      subject: 'pkexec',
      message: 'Administrator rights were not granted, so the drive was not written.',
      hint: 'Write again and enter your password when asked; your account must be allowed to administer the system.',
      details: { exitCode, stderr: text },
    });
  }
  return new ImagerError({
    code: 'WRITER_FAILED',
    subject: 'writer',
    message: `The writer process stopped before it was ready (exit code ${exitCode ?? 'none'}).`,
    hint: text ? `It said: ${text.split('\n').slice(-3).join(' ')}` : 'Reinstall the app; if it persists, report a bug.',
    details: { exitCode, stderr: text },
  });
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export interface WriterEvents {
  drives: [{ drives: DriveInfo[]; attached: string[]; detached: string[] }];
  progress: [FlashProgress];
  log: [{ level: string; message: string }];
  exit: [{ code: number | null; signal: NodeJS.Signals | null }];
}

/** One running writer process. Requests are answered in any order; events arrive in between. */
export class WriterClient extends EventEmitter<WriterEvents> {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private stderr = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly elevated: boolean,
  ) {
    super();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  static start(options: WriterOptions = {}): Promise<WriterClient> {
    const launch = writerLaunch(options);
    const child = spawn(launch.command, launch.args, { env: launch.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const client = new WriterClient(child, launch.elevated);
    return new Promise((resolve, reject) => {
      let ready = false;
      child.stderr?.on('data', (chunk: Buffer) => {
        client.stderr = (client.stderr + chunk.toString()).slice(-8192);
      });
      // 'error' can come more than once (a failed spawn, a failed kill): every one is handled.
      child.on('error', (error) =>
        reject(
          new ImagerError({
            code: 'WRITER_FAILED',
            subject: launch.command,
            message: `Could not start the writer: ${error.message}.`,
            hint: 'Reinstall the app.',
          }),
        ),
      );
      // A writer that dies or closes its stdin turns our next request into EPIPE on the pipe: fail the requests, not the app.
      child.stdin?.on('error', (error) => client.lostRequests(error));
      child.stdout?.on('error', () => undefined);
      child.stderr?.on('error', () => undefined);
      child.once('exit', (code, signal) => {
        client.exited = true;
        const error = ready
          ? new ImagerError({
              code: 'WRITER_FAILED',
              subject: 'writer',
              message: `The writer process stopped (exit code ${code ?? signal}).`,
              hint: 'Try again; if it persists, report a bug with the log.',
              details: { stderr: client.stderr.trim() },
            })
          : elevationError(code, client.stderr);
        for (const pending of client.pending.values()) pending.reject(error);
        client.pending.clear();
        client.emit('exit', { code, signal });
        if (!ready) reject(error);
      });
      const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        let message: WriterMessage;
        try {
          message = JSON.parse(line) as WriterMessage;
        } catch {
          client.emit('log', { level: 'warn', message: `writer: ${line}` });
          return;
        }
        if (message.type === 'ready') {
          ready = true;
          resolve(client);
        } else client.dispatch(message);
      });
    });
  }

  private dispatch(message: WriterMessage): void {
    switch (message.type) {
      case 'result':
      case 'error': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (message.type === 'result') pending.resolve(message.value);
        else pending.reject(fromErrorData(message.error));
        return;
      }
      case 'drives':
        this.emit('drives', { drives: message.drives, attached: message.attached, detached: message.detached });
        return;
      case 'progress':
        this.emit('progress', message.progress);
        return;
      case 'log':
        this.emit('log', { level: message.level, message: message.message });
        return;
    }
  }

  /** The writer no longer reads its requests: every one waiting fails, and the process is ended. */
  private lostRequests(error: Error): void {
    const failure = new ImagerError({
      code: 'WRITER_FAILED',
      subject: 'writer',
      message: `The writer process stopped taking requests (${(error as NodeJS.ErrnoException).code ?? error.message}).`,
      hint: 'Try again; if it persists, report a bug with the log.',
      details: { stderr: this.stderr.trim() },
    });
    for (const pending of this.pending.values()) pending.reject(failure);
    this.pending.clear();
    this.child.kill('SIGKILL');
  }

  private request<K extends WriterRequest['type']>(request: Omit<Extract<WriterRequest, { type: K }>, 'id'>): Promise<WriterResults[K]> {
    if (this.exited || this.child.stdin?.destroyed) {
      return Promise.reject(
        new ImagerError({ code: 'WRITER_FAILED', subject: 'writer', message: 'The writer process is not running.', hint: 'Try again.' }),
      );
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.stdin?.write(JSON.stringify({ ...request, id }) + '\n');
    });
  }

  ping() {
    return this.request<'ping'>({ type: 'ping' });
  }

  scan(): Promise<DriveInfo[]> {
    return this.request<'scan'>({ type: 'scan' });
  }

  watch(enabled: boolean, intervalMs?: number): Promise<DriveInfo[]> {
    return this.request<'watch'>({ type: 'watch', enabled, ...(intervalMs !== undefined && { intervalMs }) });
  }

  flash(jobId: string, request: FlashRequest): Promise<FlashResult> {
    return this.request<'flash'>({ type: 'flash', jobId, request });
  }

  /** Reads the targets back and compares them with the image, without writing. */
  verify(jobId: string, request: FlashRequest): Promise<FlashResult> {
    return this.request<'verify'>({ type: 'verify', jobId, request });
  }

  /** Updates only the boot partition of a card or image file, then reads the files back. */
  editBoot(request: EditBootRequest) {
    return this.request<'edit-boot'>({ type: 'edit-boot', request });
  }

  cancel(jobId: string) {
    return this.request<'cancel'>({ type: 'cancel', jobId });
  }

  /** Asks the writer to exit, and kills it if it has not after `graceMs`. */
  async close(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.once('exit', () => resolve()));
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
