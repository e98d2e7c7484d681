// Watches one emulated boot: QEMU's console through the recogniser, keystrokes for an interactive Dom0, the verdict.
import type { ChildProcess } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { EmulatorOptions, EmulatorResult } from '../../../shared/api/emulator';
import type { TftpTransferEvent } from '../../../shared/api/tftp';
import { BootTimeline, type TimelineEntry } from '../../../shared/console/timeline';
import type { ConsoleRecogniser, Milestone, RecogniserEvent } from '../../../shared/emulator/milestones';
import type { Profile } from '../../../shared/profile/schema';
import { stopQemu } from './qemu';

export const DEFAULT_TIMEOUT_SECONDS = 120;
/** After a failure is recognised, a moment for the lines that explain it (a panic's reason) before QEMU is stopped. */
const FAILURE_GRACE_MS = 500;
/** After Dom0 userspace: how long our test /init may take to power off, or a user's init to prove it does not crash. */
const MARKER_POWER_OFF_MS = 15_000;
const USER_INIT_SETTLE_MS = 5_000;

export interface TrialRequest {
  profile: Profile;
  options: EmulatorOptions;
  /** Where relative component paths of the profile are found. */
  componentsDir: string;
  /** Root of the Debian parts cache (components 'debian'). */
  cacheDir?: string;
  /** The full console is saved here when given. */
  logsDir?: string;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** TFTP port: 69 is the only one U-Boot uses; other values only make sense for tests of failure paths. */
  tftpPort?: number;
  /** Where the app's own TFTP server (the Network step's) listens, when it runs: the trial's would need the same port. */
  appTftpServer?: () => Promise<{ address: string; port: number } | undefined>;
}

export interface TrialCallbacks {
  onConsole?: (text: string, timeMs: number) => void;
  onMilestone?: (milestone: Milestone) => void;
  /** Steps before QEMU starts, in words ("Dumping the virt device tree"). */
  onProgress?: (message: string) => void;
  /** Transfers of the trial's own TFTP server (request, progress, done, error). */
  onTftp?: (event: TftpTransferEvent) => void;
  /** The boot timeline (milestones, the trial's TFTP transfers with their rates, failures), entry by entry. */
  onTimeline?: (entry: TimelineEntry) => void;
}

export type TrialResult = Omit<EmulatorResult, 'runId'>;

export async function saveConsole(logsDir: string, text: string): Promise<string> {
  await fsp.mkdir(logsDir, { recursive: true });
  const file = path.join(logsDir, `qemu-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  await fsp.writeFile(file, text);
  return file;
}

export interface Watched {
  verdict: Omit<TrialResult, 'changes'>;
  console: string;
}

/** How long an interactive Dom0 (a shell on hvc0) may take from its first line to the shell, and from there to halting. */
const INTERACTIVE_SETTLE_MS = 60_000;
const HALT_GRACE_MS = 500;
/** U-Boot's countdown before it boots by itself (bootdelay, 2 s in Debian's builds): nothing to test in it. */
const AUTOBOOT_PROMPT = 'Hit any key to stop autoboot';
/** A key stops the countdown, `boot` runs the very bootcmd the countdown would have run. */
const AUTOBOOT_NOW = '\rboot\r';

/**
 * Streams QEMU's console through the recogniser until the boot passes, fails, times out or is cancelled.
 * `interactive`: the console takes keyboard input (QEMU's stdin): once the Dom0 shell is ready, the trial types
 * `xl list`, then `poweroff -f`, and ends on Xen's "Hardware Dom0 halted" (raspi4b does not exit by itself).
 */
export function watchBoot(
  child: ChildProcess,
  request: TrialRequest,
  callbacks: TrialCallbacks,
  interactive = false,
  timeline: BootTimeline = new BootTimeline(),
): Promise<Watched> {
  const started = timeline.startedAt;
  const elapsed = () => Date.now() - started;
  const recogniser = timeline.current;
  const timeoutSeconds = request.options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  // our test initramfs reports and powers off by itself; a user's init is given a few seconds to crash or not
  const ourInitramfs = request.options.components === 'debian';
  const consoleParts: string[] = [];
  let stderr = '';
  let stopTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  let markerSeen = false;
  /** The console's last bytes, so a prompt split across two reads is still seen. */
  let consoleTail = '';
  let autobootSkipped = false;

  const stopSoon = (delayMs: number) => {
    if (stopTimer || stopping) return;
    stopTimer = setTimeout(() => {
      stopping = true;
      void stopQemu(child);
    }, delayMs);
  };
  const type = (text: string) => {
    if (child.stdin?.writable) child.stdin.write(text);
  };
  // the same timeline a hardware console uses: its entries go out, the trial acts on the recogniser's events behind them
  const feed = (entries: TimelineEntry[]) => {
    for (const entry of entries) callbacks.onTimeline?.(entry);
    handle(timeline.lastRecognised);
  };
  const handle = (events: RecogniserEvent[]) => {
    for (const event of events) {
      if (event.type === 'milestone') {
        callbacks.onMilestone?.(event.milestone);
        const kind = event.milestone.kind;
        if (
          interactive &&
          (kind === 'dom0-shell' || kind === 'xl-list' || kind === 'power-off' || (kind === 'dom0-userspace' && recogniser.dom0.markerSeen))
        ) {
          clearTimeout(stopTimer);
          stopTimer = undefined;
          if (kind === 'dom0-shell') type('xl list\n');
          if (kind === 'xl-list') type('poweroff -f\n');
          stopSoon(kind === 'power-off' ? HALT_GRACE_MS : INTERACTIVE_SETTLE_MS);
          continue;
        }
        if (kind === 'dom0-userspace') stopSoon(ourInitramfs ? MARKER_POWER_OFF_MS : USER_INIT_SETTLE_MS);
      } else if (event.type === 'failure') {
        clearTimeout(stopTimer);
        stopTimer = undefined;
        stopSoon(FAILURE_GRACE_MS);
      }
    }
  };
  const onAbort = () => {
    feed(timeline.cancel(elapsed()));
    stopping = true;
    void stopQemu(child);
  };

  child.stdout!.setEncoding('latin1');
  child.stdout!.on('data', (text: string) => {
    const time = elapsed();
    consoleParts.push(text);
    callbacks.onConsole?.(text, time);
    feed(timeline.console(text, time));
    if (!autobootSkipped) {
      consoleTail = (consoleTail + text).slice(-2 * AUTOBOOT_PROMPT.length);
      if (consoleTail.includes(AUTOBOOT_PROMPT)) {
        autobootSkipped = true;
        type(AUTOBOOT_NOW);
      }
    }
    if (recogniser.dom0.markerSeen && !markerSeen && !interactive) {
      // the imager's own /init is running (also when the profile names it): give it time to report and power off
      markerSeen = true;
      if (stopTimer && !recogniser.diagnosis) {
        clearTimeout(stopTimer);
        stopTimer = undefined;
        stopSoon(MARKER_POWER_OFF_MS);
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr += text;
  });
  const overall = setTimeout(() => {
    feed(timeline.timeout(timeoutSeconds, elapsed()));
  }, timeoutSeconds * 1000);
  request.signal?.addEventListener('abort', onAbort, { once: true });
  if (request.signal?.aborted) onAbort();
  // should this process end abruptly, QEMU must not outlive it
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  return new Promise((resolve) => {
    let finished = false;
    const finish = (exitCode: number | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(overall);
      clearTimeout(stopTimer);
      request.signal?.removeEventListener('abort', onAbort);
      process.removeListener('exit', killOnExit);
      feed(timeline.finish(exitCode, elapsed()));
      if (interactive && recogniser.reached.has('dom0-shell') && !recogniser.reached.has('xl-list') && !recogniser.diagnosis) {
        recogniser.diagnosis = {
          kind: 'dom0-init-failed',
          message: 'The Dom0 shell started, but `xl list` did not show Domain-0.',
          hint: 'Read the console after "xl list" for xl’s error; the toolstack needs xenstored running and the Xen modules loaded.',
          after: 'dom0-shell',
          timeMs: elapsed(),
        };
      }
      const diagnosis = recogniser.diagnosis;
      if (diagnosis?.kind === 'emulator-exited' && stderr.trim() && !recogniser.reached.has('uboot')) {
        diagnosis.message += ` QEMU said: ${stderr.trim().split('\n').slice(-3).join(' ')}`;
      }
      const ok = recogniser.dom0UserspaceReached && !diagnosis;
      resolve({
        verdict: {
          ok,
          summary: ok ? passSummary(recogniser, elapsed()) : diagnosis!.message,
          milestones: recogniser.milestones,
          ...(diagnosis && { diagnosis }),
          ...(recogniser.xenVersionLine && { xenVersionLine: recogniser.xenVersionLine }),
          dom0: recogniser.dom0,
          durationMs: elapsed(),
          exitCode,
        },
        console: consoleParts.join(''),
      });
    };
    child.once('error', (error) => {
      stderr += String(error.message);
      finish(null);
    });
    child.once('close', (code) => finish(stopping ? null : code));
  });
}

export function passSummary(recogniser: ConsoleRecogniser, durationMs: number): string {
  const userspace = recogniser.milestones.find((m) => m.kind === 'dom0-userspace')!;
  const facts = [
    recogniser.dom0.xenVersion ? `Dom0 runs on Xen ${recogniser.dom0.xenVersion}` : undefined,
    recogniser.dom0.capabilities ? `capabilities ${recogniser.dom0.capabilities}` : undefined,
    recogniser.dom0.xlListLine ? '`xl list` shows Domain-0' : undefined,
  ].filter(Boolean);
  return `Dom0 userspace reached after ${(userspace.timeMs / 1000).toFixed(1)} s${facts.length ? ` (${facts.join(', ')})` : ''}; the trial took ${(durationMs / 1000).toFixed(1)} s.`;
}
