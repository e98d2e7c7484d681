// A QEMU boot whose console UART is on a pty, opened through the serial service as a USB-UART adapter is: the runners
// of the serial console's boot tests share it. QEMU starts paused (-S) so nothing the UART prints is lost before the
// console is open; the monitor on its stdin says "cont" once it is.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { EventName } from '../../shared/api';
import type { SerialDataEvent, SerialTimelineEvent } from '../../shared/api/serial';
import type { TimelineEntry } from '../../shared/console/timeline';
import { stopQemu } from '../../electron/services/emulator/qemu';
import { createSerialService, type SerialService } from '../../electron/services/serial/service';

export const print = (line: unknown) => process.stdout.write(JSON.stringify(line) + '\n');

export interface SerialBoot {
  service: SerialService;
  qemu: ChildProcessWithoutNullStreams;
  timeline: TimelineEntry[];
  /** Everything the console has shown so far. */
  text(): string;
  reached(milestone: string): boolean;
  /** Waits for `test`, failing with the console's tail when QEMU exits or time runs out. */
  waitFor(test: () => boolean, what: string): Promise<void>;
  /** Opens QEMU's pty at `baud` and lets the machine run; the session's keystrokes go through `type`. */
  open(baud: number): Promise<{ sessionId: number; pty: string }>;
  type(text: string): Promise<void>;
  stop(): Promise<void>;
}

export function startSerialBoot(options: { qemu: string; args: string[]; cwd: string; logsDir: string; limitMs: number }): SerialBoot {
  let consoleText = '';
  const timeline: TimelineEntry[] = [];
  const service = createSerialService(
    {
      transport: 'browser',
      openExternal: async () => undefined,
      emit: (name: EventName, payload: unknown) => {
        if (name === 'serial:data') consoleText += (payload as SerialDataEvent).data;
        else if (name === 'serial:timeline') timeline.push((payload as SerialTimelineEvent).entry);
        if (name !== 'serial:data') print({ type: 'event', name, payload });
      },
    },
    { logsDir: options.logsDir },
  );
  const args = options.args.concat('-S');
  args[args.indexOf('-monitor') + 1] = 'stdio';
  const qemu = spawn(options.qemu, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  qemu.stdin.on('error', () => undefined);
  let qemuOutput = '';
  qemu.stdout.on('data', (chunk: Buffer) => (qemuOutput += chunk.toString()));
  qemu.stderr.on('data', (chunk: Buffer) => (qemuOutput += chunk.toString()));
  const started = Date.now();
  let sessionId = 0;
  const waitFor = async (test: () => boolean, what: string) => {
    while (!test()) {
      if (Date.now() - started > options.limitMs)
        throw new Error(`timed out waiting for ${what}; console so far:\n${consoleText.slice(-3000)}\nQEMU: ${qemuOutput}`);
      if (qemu.exitCode !== null && !test())
        throw new Error(`QEMU exited (${qemu.exitCode}) before ${what}: ${qemuOutput}\n${consoleText.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const ptyLine = /char device redirected to (\/dev\/pts\/\d+)/;
  return {
    service,
    qemu,
    timeline,
    text: () => consoleText,
    reached: (milestone) => timeline.some((e) => e.kind === 'milestone' && e.milestone.kind === milestone),
    waitFor,
    async open(baud) {
      await waitFor(() => ptyLine.test(qemuOutput), 'QEMU to name its pty');
      const pty = ptyLine.exec(qemuOutput)![1]!;
      sessionId = (await service.serialOpen({ path: pty, baud })).sessionId;
      qemu.stdin.write('cont\n');
      return { sessionId, pty };
    },
    type: (text) => service.serialWrite(sessionId, text),
    async stop() {
      await service.dispose?.();
      await stopQemu(qemu);
    },
  };
}
