// The writer process: reads JSON-line requests on stdin, scans drives, runs flash jobs, writes results and events on stdout.
import readline from 'node:readline';
import { ImagerError, toErrorData } from '../../shared/errors';
import { editBootInPlace } from './edit-boot';
import { FlashJob } from './flash';
import { parseLine, WRITER_PROTOCOL_VERSION, type WriterMessage, type WriterRequest } from '../../shared/drives/writer-protocol';
import { DriveWatcher, listDrives } from './scan';

function send(message: WriterMessage): void {
  process.stdout.write(JSON.stringify(message) + '\n');
}

const jobs = new Map<string, FlashJob>();
let watcher: DriveWatcher | undefined;

async function handle(request: WriterRequest): Promise<unknown> {
  switch (request.type) {
    case 'ping':
      return { pid: process.pid };
    case 'scan':
      return (await listDrives()).drives;
    case 'watch':
      watcher?.stop();
      watcher = undefined;
      if (!request.enabled) return [];
      watcher = new DriveWatcher(
        (change) => send({ type: 'drives', ...change }),
        (error) => send({ type: 'log', level: 'warn', message: `drive scan failed: ${error.message}` }),
        request.intervalMs,
      );
      return watcher.start();
    case 'flash':
    case 'verify': {
      if (jobs.has(request.jobId)) {
        throw new ImagerError({
          code: 'INVALID_ARGUMENT',
          subject: request.jobId,
          message: 'A flash job with this id is already running.',
          hint: 'Wait for it to finish.',
        });
      }
      const job = new FlashJob(
        request.jobId,
        request.request,
        (progress) => send({ type: 'progress', progress }),
        (level, message) => send({ type: 'log', level, message }),
        { write: request.type === 'flash' },
      );
      jobs.set(request.jobId, job);
      try {
        return await job.run();
      } finally {
        jobs.delete(request.jobId);
      }
    }
    case 'edit-boot':
      return editBootInPlace(request.request);
    case 'cancel': {
      const job = jobs.get(request.jobId);
      job?.cancel();
      return { cancelled: Boolean(job) };
    }
    case 'exit':
      watcher?.stop();
      for (const job of jobs.values()) job.cancel();
      setImmediate(() => process.exit(0));
      return null;
    default:
      throw new ImagerError({
        code: 'UNKNOWN_METHOD',
        message: `The writer does not know "${(request as { type: string }).type}".`,
        hint: 'The app and its writer do not match; reinstall the app.',
      });
  }
}

function main(): void {
  const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  input.on('line', (line) => {
    const request = parseLine<WriterRequest>(line);
    if (!request || typeof request.id !== 'number') {
      if (line.trim()) send({ type: 'log', level: 'error', message: `ignored a malformed request: ${line.slice(0, 200)}` });
      return;
    }
    handle(request).then(
      (value) => send({ type: 'result', id: request.id, value }),
      (error: unknown) => send({ type: 'error', id: request.id, error: toErrorData(error) }),
    );
  });
  // The app went away: stop writing rather than linger as root.
  input.on('close', () => {
    for (const job of jobs.values()) job.cancel();
    watcher?.stop();
    setTimeout(() => process.exit(0), jobs.size ? 2000 : 0).unref();
  });
  send({ type: 'ready', version: WRITER_PROTOCOL_VERSION, pid: process.pid, root: process.getuid?.() === 0 });
}

main();
