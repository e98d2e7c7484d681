// Reads a boot's serial console as it streams and recognises milestones (U-Boot → stage 1 → TFTP → stage 2 → Xen → Dom0) and failures in plain words.
import { DOM0_MARKER, dom0MarkerLines } from './markers';

export type MilestoneKind =
  | 'uboot'
  | 'boot-script-found'
  | 'stage1'
  | 'tftp-load'
  | 'card-load'
  | 'stage2'
  | 'starting-kernel'
  | 'xen'
  | 'dom0-kernel'
  | 'dom0-userspace'
  | 'toolstack'
  | 'dom0-shell'
  | 'xl-list'
  | 'power-off';

export interface Milestone {
  kind: MilestoneKind;
  /** Plain words for the timeline ("Xen 4.17.7 started"). */
  label: string;
  /** Milliseconds since the emulator started. */
  timeMs: number;
  /** The console line that showed it. */
  line: string;
  /** For tftp-load: the file and its size. */
  file?: string;
  bytes?: number;
}

export type FailureKind =
  | 'no-boot-script'
  | 'tftp-unreachable'
  | 'tftp-error'
  | 'file-not-found'
  | 'script-failed'
  | 'device-tree'
  | 'bad-kernel-image'
  | 'xen-panic'
  | 'dom0-panic'
  | 'dom0-init-failed'
  | 'emulator-exited'
  | 'timeout'
  | 'cancelled';

export interface Diagnosis {
  kind: FailureKind;
  /** One sentence: what went wrong, where. */
  message: string;
  /** One sentence: what to check or change. */
  hint: string;
  /** The last milestone reached before the failure. */
  after?: MilestoneKind;
  /** The console line that showed it. */
  line?: string;
  timeMs: number;
}

/** What Dom0's /init reported about the hypervisor it runs on. */
export interface Dom0Report {
  /** The imager's own test initramfs printed its first line. */
  markerSeen?: boolean;
  xenVersion?: string;
  capabilities?: string;
  failures: string[];
  /** The `xl list` line of Domain-0, when the console showed one. */
  xlListLine?: string;
}

export type RecogniserEvent =
  | { type: 'milestone'; milestone: Milestone }
  | { type: 'failure'; diagnosis: Diagnosis }
  /** U-Boot's banner again after a boot got somewhere: the board was reset and a new boot begins (a real board, not QEMU's -no-reboot). */
  | { type: 'new-boot'; timeMs: number }
  /** Xen's "Serial input to DOM0/Xen" line: who gets the keystrokes now (Ctrl-A three times switches). */
  | { type: 'input'; owner: string; line: string; timeMs: number };

export interface RecogniserOptions {
  /** A "Loading:" line with this many TFTP timeouts (`T`) and no data means no server answered. */
  tftpRetriesBeforeFailure?: number;
}

/** A console line longer than this is cut: a garbled or hostile stream without newlines must not grow memory. */
export const MAX_LINE_CHARS = 4096;

// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\x1b(?:\[[0-9;?]*[A-Za-z]|[78=>])/g;

/** Removes what a terminal would hide: ANSI escapes, and characters erased by backspace ("*\b#" is "#"). */
export function cleanConsoleLine(raw: string): string {
  const kept: string[] = [];
  for (const char of raw.replace(ANSI_ESCAPE, '')) {
    if (char === '\b') kept.pop();
    else if (char !== '\r') kept.push(char);
  }
  return kept.join('');
}

/** Recognises boot milestones and failures from console text; feed it chunks in order. */
export class ConsoleRecogniser {
  readonly milestones: Milestone[] = [];
  diagnosis: Diagnosis | undefined;
  readonly dom0: Dom0Report = { markerSeen: false, failures: [] };
  xenVersionLine: string | undefined;
  /** Who has Xen's console input ("Xen", "DOM0", "DOM1"…), once Xen said so. */
  xenInput: string | undefined;

  private partial = '';
  private previousLine = '';
  private scriptsRun = 0;
  private tftpFile: string | undefined;
  private xenPanicPending: string | undefined;
  private dom0PanicLine: string | undefined;
  private tftpUnreachableReported = false;
  private readonly tftpRetries: number;

  constructor(options: RecogniserOptions = {}) {
    this.tftpRetries = options.tftpRetriesBeforeFailure ?? 3;
  }

  get last(): Milestone | undefined {
    return this.milestones[this.milestones.length - 1];
  }

  get reached(): ReadonlySet<MilestoneKind> {
    return new Set(this.milestones.map((m) => m.kind));
  }

  /** True once Dom0's own /init ran: the pass condition. */
  get dom0UserspaceReached(): boolean {
    return this.reached.has('dom0-userspace');
  }

  /** Feeds console text received at `timeMs`; returns what it newly recognised. */
  push(text: string, timeMs: number): RecogniserEvent[] {
    const events: RecogniserEvent[] = [];
    const lines = (this.partial + text).split('\n');
    this.partial = (lines.pop() ?? '').slice(-MAX_LINE_CHARS);
    for (const raw of lines) this.readLine(cleanConsoleLine(raw), timeMs, events);
    // U-Boot prints TFTP timeouts ("Loading: *T T T") without ending the line
    if (this.partial.startsWith('Loading:')) this.checkTftpRetries(cleanConsoleLine(this.partial), timeMs, events);
    return events;
  }

  /** The emulator ended (exit code, or null when killed): finishes pending lines and diagnoses an unexplained stop. */
  finish(exitCode: number | null, timeMs: number): RecogniserEvent[] {
    const events: RecogniserEvent[] = [];
    if (this.partial) this.readLine(cleanConsoleLine(this.partial), timeMs, events);
    this.partial = '';
    if (this.xenPanicPending !== undefined) this.failXenPanic(this.xenPanicPending, '', timeMs, events);
    if (!this.diagnosis && !this.dom0UserspaceReached) {
      const after = this.last;
      this.fail(events, {
        kind: 'emulator-exited',
        message: `QEMU stopped${exitCode === null ? '' : ` (exit status ${exitCode})`} ${afterText(after)} without reaching Dom0 userspace.`,
        hint: 'Read the console output above the stop for the last thing that happened.',
        timeMs,
      });
    }
    return events;
  }

  /** The overall time limit passed: says where the boot got stuck. */
  timeout(seconds: number, timeMs: number): RecogniserEvent[] {
    const events: RecogniserEvent[] = [];
    if (!this.diagnosis) {
      this.fail(events, {
        kind: 'timeout',
        message: `The boot did not finish within ${seconds} s: it got stuck ${afterText(this.last)}.`,
        hint: nextStepHint(this.last?.kind),
        timeMs,
      });
    }
    return events;
  }

  cancel(timeMs: number): RecogniserEvent[] {
    const events: RecogniserEvent[] = [];
    if (!this.diagnosis) {
      this.fail(events, {
        kind: 'cancelled',
        message: `The boot was cancelled ${afterText(this.last)}.`,
        hint: 'Start it again when you are ready.',
        timeMs,
      });
    }
    return events;
  }

  private reach(events: RecogniserEvent[], milestone: Omit<Milestone, 'timeMs'>, timeMs: number): void {
    const full: Milestone = { ...milestone, timeMs };
    this.milestones.push(full);
    events.push({ type: 'milestone', milestone: full });
  }

  private fail(events: RecogniserEvent[], diagnosis: Omit<Diagnosis, 'after'>): void {
    if (this.diagnosis) return; // the first failure is the cause; later ones are consequences
    const after = this.last?.kind;
    this.diagnosis = { ...diagnosis, ...(after && { after }) };
    events.push({ type: 'failure', diagnosis: this.diagnosis });
  }

  /** Forgets the boot so far: the board was reset. */
  private startNewBoot(timeMs: number, events: RecogniserEvent[]): void {
    this.milestones.length = 0;
    this.diagnosis = undefined;
    Object.assign(this.dom0, { markerSeen: false, failures: [] });
    for (const key of ['xenVersion', 'capabilities', 'xlListLine'] as const) delete this.dom0[key];
    this.xenVersionLine = undefined;
    this.xenInput = undefined;
    this.scriptsRun = 0;
    this.tftpFile = undefined;
    this.xenPanicPending = undefined;
    this.dom0PanicLine = undefined;
    this.tftpUnreachableReported = false;
    events.push({ type: 'new-boot', timeMs });
  }

  private readLine(rawLine: string, timeMs: number, events: RecogniserEvent[]): void {
    const line = rawLine.length > MAX_LINE_CHARS ? rawLine.slice(0, MAX_LINE_CHARS) : rawLine;
    const previous = this.previousLine;
    this.previousLine = line;
    // U-Boot's `version` command prints the banner again: that is not a reset
    if (/^U-Boot \d{4}\.\d\d/.test(line) && this.milestones.length > 0 && !/^(=>|U-Boot>)\s*\S/.test(previous))
      this.startNewBoot(timeMs, events);
    if (this.xenPanicPending !== undefined && this.readXenPanicReason(line, timeMs, events)) return;
    if (line.startsWith(DOM0_MARKER)) return this.readDom0Marker(line, timeMs, events);
    if (line.startsWith('(XEN)')) return this.readXenLine(line, timeMs, events);
    if (this.reached.has('starting-kernel')) return this.readLinuxLine(line, timeMs, events);
    this.readUBootLine(line, timeMs, events);
  }

  private readUBootLine(line: string, timeMs: number, events: RecogniserEvent[]): void {
    let match: RegExpExecArray | null;
    if ((match = /^U-Boot (\d{4}\.\d\d\S*)/.exec(line))) {
      if (this.reached.has('uboot')) return; // the `version` command's answer
      this.reach(events, { kind: 'uboot', label: `U-Boot ${match[1]} started`, line }, timeMs);
    } else if ((match = /^Found U-Boot script (\S+)/.exec(line))) {
      this.reach(events, { kind: 'boot-script-found', label: `U-Boot found ${match[1]} on the SD card`, line }, timeMs);
    } else if ((match = /^## Executing script at ([0-9a-fA-F]+)/.exec(line))) {
      this.scriptsRun += 1;
      const stage = this.scriptsRun === 1 ? 'stage1' : 'stage2';
      const label = stage === 'stage1' ? `Stage 1 (boot.scr) running at 0x${match[1]}` : `Stage 2 (boot2.scr) running at 0x${match[1]}`;
      if (this.scriptsRun <= 2) this.reach(events, { kind: stage, label, line }, timeMs);
    } else if ((match = /^Filename '([^']*)'/.exec(line))) {
      this.tftpFile = match[1];
    } else if ((match = /^(\d+) bytes read in (\d+) ms/.exec(line))) {
      const bytes = Number(match[1]);
      const ms = Number(match[2]);
      const rate = ms > 0 ? ` at ${formatBytes((bytes * 1000) / ms)}/s` : '';
      this.reach(
        events,
        { kind: 'card-load', label: `Loaded ${formatBytes(bytes)} from the SD card in ${(ms / 1000).toFixed(1)} s${rate}`, bytes, line },
        timeMs,
      );
    } else if ((match = /^Bytes transferred = (\d+)/.exec(line)) && this.tftpFile !== undefined) {
      const bytes = Number(match[1]);
      this.reach(
        events,
        { kind: 'tftp-load', label: `Loaded ${this.tftpFile} over TFTP (${formatBytes(bytes)})`, file: this.tftpFile, bytes, line },
        timeMs,
      );
      this.tftpFile = undefined;
    } else if (/^Starting kernel \.\.\./.test(line)) {
      this.reach(events, { kind: 'starting-kernel', label: 'U-Boot handed over to Xen', line }, timeMs);
    } else {
      this.readUBootFailure(line, timeMs, events);
    }
  }

  private readUBootFailure(line: string, timeMs: number, events: RecogniserEvent[]): void {
    let match: RegExpExecArray | null;
    const file = this.tftpFile;
    if ((match = /^TFTP error: '?File not found'?/i.exec(line))) {
      this.fail(events, {
        kind: 'file-not-found',
        message: `The TFTP server has no file called "${file ?? '?'}", which the boot script asked for.`,
        hint: 'Check that the file is in the TFTP folder under exactly that name (names are case-sensitive).',
        line,
        timeMs,
      });
    } else if ((match = /^TFTP error: (.*)$/.exec(line))) {
      this.fail(events, {
        kind: 'tftp-error',
        message: `The TFTP server refused "${file ?? '?'}": ${match[1]!.replace(/'/g, '')}.`,
        hint: /overwrite reserved memory/.test(line)
          ? 'A load address overlaps U-Boot’s own memory: check the board’s addresses in the profile.'
          : 'Check that the imager’s TFTP server is the one answering on port 69.',
        line,
        timeMs,
      });
    } else if (/^Retry count exceeded/.test(line)) {
      this.failTftpUnreachable(line, timeMs, events);
    } else if (/FDT_ERR_BADMAGIC|Could not find a valid device tree|Did not find a cmdline Flattened Device Tree/.test(line)) {
      this.fail(events, {
        kind: 'device-tree',
        message: 'U-Boot found no device tree at the address stage 2 uses.',
        hint: 'Stage 2 must load the device tree to the same address it passes to "fdt addr" and "booti"; regenerate the boot files.',
        line,
        timeMs,
      });
    } else if (/Bad Linux ARM64 Image magic/.test(line)) {
      this.fail(events, {
        kind: 'bad-kernel-image',
        message: 'U-Boot found no arm64 Image (Xen) at the address "booti" was given.',
        hint: 'Check that the Xen binary is an arm64 Image and that stage 2 boots the address it loaded Xen to.',
        line,
        timeMs,
      });
    } else if (/^SCRIPT FAILED|^Wrong image format for|^Bad (data|header) CRC|^Unknown command '/i.test(line)) {
      this.fail(events, {
        kind: 'script-failed',
        message: `A boot script failed ${afterText(this.last)}: ${line.trim()}`,
        hint: 'Regenerate the boot files; if you edited a script by hand, check that command.',
        line,
        timeMs,
      });
    } else if (!this.reached.has('stage1') && /^(BOOTP broadcast|EFI boot manager|No EFI system partition)/.test(line)) {
      this.fail(events, {
        kind: 'no-boot-script',
        message: 'U-Boot did not find or run boot.scr on the SD card and fell back to network and EFI boot.',
        hint: 'The SD image needs a bootable FAT partition holding boot.scr.',
        line,
        timeMs,
      });
    }
  }

  private checkTftpRetries(partial: string, timeMs: number, events: RecogniserEvent[]): void {
    if (this.tftpUnreachableReported || !partial.startsWith('Loading:')) return;
    const retries = (partial.match(/T/g) ?? []).length;
    if (retries >= this.tftpRetries && !partial.includes('#')) this.failTftpUnreachable(partial, timeMs, events);
  }

  private failTftpUnreachable(line: string, timeMs: number, events: RecogniserEvent[]): void {
    this.tftpUnreachableReported = true;
    this.fail(events, {
      kind: 'tftp-unreachable',
      message: `U-Boot could not reach the TFTP server while loading "${this.tftpFile ?? '?'}": its requests timed out (T T T).`,
      hint: 'Start the imager’s TFTP server on port 69 and check the server address in stage 1.',
      line: line.trim(),
      timeMs,
    });
  }

  private readXenLine(line: string, timeMs: number, events: RecogniserEvent[]): void {
    let match: RegExpExecArray | null;
    if ((match = /^\(XEN\) \*\*\* Serial input to (\S+)/.exec(line))) {
      this.xenInput = match[1]!;
      events.push({ type: 'input', owner: match[1]!, line, timeMs });
    } else if ((match = /^\(XEN\) Xen version (\S+)/.exec(line))) {
      this.xenVersionLine = line;
      this.reach(events, { kind: 'xen', label: `Xen ${match[1]} started`, line }, timeMs);
    } else if (/^\(XEN\) Panic on CPU/.test(line)) {
      this.xenPanicPending = line;
    } else if (/^\(XEN\) Hardware Dom0 (crashed|shutdown|halted)/.test(line) && !this.dom0UserspaceReached) {
      this.failDom0(line, timeMs, events);
    } else if (/^\(XEN\) Hardware Dom0 halted/.test(line) && !this.reached.has('power-off')) {
      this.reach(events, { kind: 'power-off', label: 'Dom0 halted the board (Xen: Hardware Dom0 halted)', line }, timeMs);
    }
  }

  /** Xen prints its panic reason on the line after "Panic on CPU n:". */
  private readXenPanicReason(line: string, timeMs: number, events: RecogniserEvent[]): boolean {
    const reason = line.replace(/^\(XEN\)\s*/, '').trim();
    if (!reason || /^\*+$/.test(reason)) return false;
    this.failXenPanic(this.xenPanicPending!, reason, timeMs, events);
    return true;
  }

  private failXenPanic(panicLine: string, reason: string, timeMs: number, events: RecogniserEvent[]): void {
    this.xenPanicPending = undefined;
    this.fail(events, {
      kind: 'xen-panic',
      message: `Xen panicked ${afterText(this.last)}: ${reason || panicLine.replace(/^\(XEN\)\s*/, '')}`,
      hint: xenPanicHint(reason),
      line: reason ? `(XEN) ${reason}` : panicLine,
      timeMs,
    });
  }

  private readLinuxLine(line: string, timeMs: number, events: RecogniserEvent[]): void {
    let match: RegExpExecArray | null;
    if (/Booting Linux on physical CPU/.test(line)) {
      this.reach(events, { kind: 'dom0-kernel', label: 'Dom0 Linux started', line }, timeMs);
    } else if ((match = /Run (\S+) as init process/.exec(line)) && !this.dom0UserspaceReached) {
      this.reach(events, { kind: 'dom0-userspace', label: `Dom0 userspace started (${match[1]})`, line }, timeMs);
    } else if ((match = /Kernel panic - not syncing: (.*)$/.exec(line))) {
      this.dom0PanicLine = match[1]!.trim();
      this.failDom0(line, timeMs, events);
    } else if ((match = /^Domain-0\s+0\s+(\d+)\s+(\d+)\s/.exec(line)) && this.dom0UserspaceReached && !this.reached.has('xl-list')) {
      this.dom0.xlListLine = line.trim();
      this.reach(
        events,
        { kind: 'xl-list', label: `xl list shows Domain-0 (${match[1]} MB, ${match[2]} vCPU${match[2] === '1' ? '' : 's'})`, line },
        timeMs,
      );
    } else if (/reboot: Power down/.test(line) && this.dom0UserspaceReached && !this.reached.has('power-off')) {
      this.reach(events, { kind: 'power-off', label: 'Dom0 powered the machine off', line }, timeMs);
    }
  }

  private failDom0(line: string, timeMs: number, events: RecogniserEvent[]): void {
    const reason = this.dom0PanicLine;
    this.fail(events, {
      kind: 'dom0-panic',
      message: reason
        ? `Dom0 Linux panicked ${afterText(this.last)}: ${reason}`
        : `Dom0 stopped ${afterText(this.last)} before its userspace ran (${line.replace(/^\(XEN\)\s*/, '')}).`,
      hint: dom0PanicHint(reason ?? ''),
      line: reason ? `Kernel panic - not syncing: ${reason}` : line,
      timeMs,
    });
  }

  private readDom0Marker(line: string, timeMs: number, events: RecogniserEvent[]): void {
    const value = (prefix: string) => line.slice(prefix.length).trim();
    if (line.startsWith(dom0MarkerLines.userspace)) {
      this.dom0.markerSeen = true;
      if (!this.dom0UserspaceReached)
        this.reach(events, { kind: 'dom0-userspace', label: 'Dom0 userspace reached (/init ran)', line }, timeMs);
    } else if (line.startsWith(dom0MarkerLines.xenVersion)) {
      this.dom0.xenVersion = value(dom0MarkerLines.xenVersion);
    } else if (line.startsWith(dom0MarkerLines.capabilities)) {
      this.dom0.capabilities = value(dom0MarkerLines.capabilities);
    } else if (line.startsWith(dom0MarkerLines.failed)) {
      const what = value(dom0MarkerLines.failed);
      this.dom0.failures.push(what);
      if (what === 'xenstored') {
        this.fail(events, {
          kind: 'dom0-init-failed',
          message: 'Xen’s toolstack did not start in Dom0: xenstored or xen-init-dom0 failed, so xl cannot work.',
          hint: 'Read the lines above for the error; check that the Xen modules (xen-evtchn, xen-gntdev, xenfs) loaded.',
          line,
          timeMs,
        });
      }
    } else if (line.startsWith(dom0MarkerLines.toolstack)) {
      this.reach(events, { kind: 'toolstack', label: 'Xen’s toolstack started in Dom0 (xenstored, xen-init-dom0)', line }, timeMs);
    } else if (line.startsWith(dom0MarkerLines.shell)) {
      this.reach(events, { kind: 'dom0-shell', label: 'A Dom0 shell is ready on the console (hvc0)', line }, timeMs);
    }
  }
}

function afterText(last: Milestone | undefined): string {
  return last ? `after “${last.label}”` : 'before U-Boot printed anything';
}

export function nextStepHint(kind: MilestoneKind | undefined): string {
  switch (kind) {
    case undefined:
      return 'QEMU printed nothing: check the QEMU U-Boot file (u-boot-qemu package).';
    case 'uboot':
    case 'boot-script-found':
      return 'U-Boot did not run boot.scr: check that the SD image holds it on a bootable FAT partition.';
    case 'stage1':
    case 'tftp-load':
    case 'stage2':
      return 'Loading stalled: check that the TFTP server is running and that the load addresses fit in memory.';
    case 'starting-kernel':
      return 'Xen printed nothing: check the Xen console setting (dtuart) and that the binary is Xen for arm64.';
    case 'xen':
      return 'Xen did not start Dom0: turn on sync_console and look at the last (XEN) lines.';
    case 'dom0-kernel':
      return 'Dom0 Linux did not reach its /init: check the Dom0 command line and ramdisk.';
    default:
      return 'Dom0 did not power off: check what its /init does last.';
  }
}

function xenPanicHint(reason: string): string {
  if (/dom0 memory|allocate/i.test(reason)) return 'Lower dom0_mem in the Xen command line so it fits in the board’s memory.';
  if (/DOM0 guest OS|kernel|module/i.test(reason))
    return 'Xen could not load the Dom0 kernel: check that every file in stage 2 was loaded and is an arm64 Linux Image.';
  if (/device tree|DTB|fdt/i.test(reason)) return 'Check the device tree passed to Xen.';
  return 'Read the (XEN) lines before the panic; turning on sync_console shows them all.';
}

function dom0PanicHint(reason: string): string {
  if (/mount root fs/i.test(reason))
    return 'Dom0 found no usable root file system: check the ramdisk (a cpio initramfs) and root= in its command line.';
  if (/No working init|kill init|init/i.test(reason)) return 'The Dom0 /init program failed: check the initramfs.';
  return 'Read the Dom0 kernel lines before the panic; check the Dom0 kernel and its command line.';
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
