// One boot timeline for every console, QEMU's or a real board's: the milestone recogniser fed by console bytes, the TFTP
// server's transfers beside it, failures with their diagnosis, a stall when the board falls silent, and resets.
import type { TftpTransferEvent } from '../api/tftp';
import {
  ConsoleRecogniser,
  formatBytes,
  nextStepHint,
  type Diagnosis,
  type Milestone,
  type MilestoneKind,
  type RecogniserEvent,
} from '../emulator/milestones';

interface EntryBase {
  /** Stable per timeline: a transfer's entry is replaced by its later states under the same id. */
  id: string;
  /** Which boot of the session (1, then 2 after the board is reset…). */
  boot: number;
  /** Milliseconds since the timeline started. */
  timeMs: number;
}

export type TimelineEntry =
  | (EntryBase & { kind: 'milestone'; milestone: Milestone })
  | (EntryBase & {
      kind: 'transfer';
      file: string;
      /** "192.168.1.20:2070" */
      client: string;
      state: 'asked' | 'done' | 'failed';
      bytes?: number;
      ms?: number;
      /** Bytes per second. */
      rate?: number;
      /** Why the server refused or gave up. */
      why?: string;
      /** One line for the timeline: "boot2.scr: 2.1 KiB in 0.01 s (210 KiB/s)". */
      label: string;
    })
  | (EntryBase & { kind: 'failure'; diagnosis: Diagnosis })
  | (EntryBase & { kind: 'stall'; after?: MilestoneKind; label: string; hint: string })
  | (EntryBase & { kind: 'input'; owner: string; label: string })
  | (EntryBase & { kind: 'new-boot'; label: string });

export interface TimelineOptions {
  /** Epoch milliseconds the timeline counts from (TFTP events carry epoch times). Default: now. */
  startedAt?: number;
  /** Seconds of silence (no console byte, no transfer) between milestones before the timeline says the boot stalled. */
  stallSeconds?: number;
  /** At most this many entries are kept (the oldest go first); events still report every one. */
  maxEntries?: number;
}

const DEFAULT_STALL_SECONDS = 30;
const DEFAULT_MAX_ENTRIES = 2000;

/** Who has Xen's console input, in words for the console's switch button. */
export function xenInputWords(owner: string | undefined): string {
  if (owner === undefined) return 'Xen has not said yet';
  return /^xen$/i.test(owner) ? 'Xen has the input' : `${owner === 'DOM0' ? 'Dom0' : owner} has the input`;
}

/** Feeds console text and TFTP events; returns the entries each one added or changed, in order. */
export class BootTimeline {
  readonly startedAt: number;
  private recogniser = new ConsoleRecogniser();
  private boot = 1;
  private readonly list: TimelineEntry[] = [];
  private readonly stallMs: number;
  private readonly maxEntries: number;
  private lastActivityMs = 0;
  private stalledAt: number | undefined;
  private nextId = 1;

  constructor(options: TimelineOptions = {}) {
    this.startedAt = options.startedAt ?? Date.now();
    this.stallMs = (options.stallSeconds ?? DEFAULT_STALL_SECONDS) * 1000;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  /** The recogniser of the current boot: its milestones, diagnosis and Dom0 report. */
  get current(): ConsoleRecogniser {
    return this.recogniser;
  }

  get entries(): readonly TimelineEntry[] {
    return this.list;
  }

  get xenInput(): string | undefined {
    return this.recogniser.xenInput;
  }

  /** Console text received `timeMs` after the start. */
  console(text: string, timeMs: number): TimelineEntry[] {
    if (text.length > 0) this.activity(timeMs);
    return this.fromRecogniser(this.recogniser.push(text, timeMs));
  }

  /** A transfer of the TFTP server serving this board. Progress events only count as activity. */
  tftp(event: TftpTransferEvent): TimelineEntry[] {
    const timeMs = Math.max(0, event.time - this.startedAt);
    this.activity(timeMs);
    const id = `tftp-${event.id}-${event.client.address}:${event.client.port}`;
    const client = `${event.client.address}:${event.client.port}`;
    const base = { id, boot: this.boot, timeMs, kind: 'transfer' as const, file: event.file, client };
    switch (event.kind) {
      case 'request':
        return [this.put({ ...base, state: 'asked', label: `${event.file} asked for by ${client}` })];
      case 'done':
        return [
          this.put({
            ...base,
            state: 'done',
            bytes: event.bytes,
            ms: event.ms,
            rate: event.rate,
            label: `${event.file}: ${formatBytes(event.bytes)} in ${(event.ms / 1000).toFixed(2)} s (${formatBytes(event.rate)}/s)`,
          }),
        ];
      case 'error':
        return [this.put({ ...base, state: 'failed', why: event.why, label: `${event.file} not sent: ${event.why}` })];
      default:
        return [];
    }
  }

  /** Time passes: says once per silence that the boot stalled after its last milestone. */
  tick(timeMs: number): TimelineEntry[] {
    const last = this.recogniser.last;
    if (!last || this.recogniser.diagnosis || this.recogniser.dom0UserspaceReached) return [];
    if (this.stalledAt !== undefined || timeMs - this.lastActivityMs < this.stallMs) return [];
    this.stalledAt = timeMs;
    const seconds = Math.round((timeMs - this.lastActivityMs) / 1000);
    return [
      this.put({
        id: `e${this.nextId++}`,
        boot: this.boot,
        timeMs,
        kind: 'stall',
        after: last.kind,
        label: `Nothing for ${seconds} s after “${last.label}”`,
        hint: nextStepHint(last.kind),
      }),
    ];
  }

  /** The emulator ended, timed out or was cancelled: the recogniser's verdict, as entries. */
  finish(exitCode: number | null, timeMs: number): TimelineEntry[] {
    return this.fromRecogniser(this.recogniser.finish(exitCode, timeMs));
  }

  timeout(seconds: number, timeMs: number): TimelineEntry[] {
    return this.fromRecogniser(this.recogniser.timeout(seconds, timeMs));
  }

  cancel(timeMs: number): TimelineEntry[] {
    return this.fromRecogniser(this.recogniser.cancel(timeMs));
  }

  /** Entries as they follow from the recogniser's events; callers that need the raw events read them from here too. */
  private fromRecogniser(events: RecogniserEvent[]): TimelineEntry[] {
    this.lastRecognised = events;
    const added: TimelineEntry[] = [];
    for (const event of events) {
      const id = `e${this.nextId++}`;
      if (event.type === 'milestone') {
        added.push(this.put({ id, boot: this.boot, timeMs: event.milestone.timeMs, kind: 'milestone', milestone: event.milestone }));
      } else if (event.type === 'failure') {
        added.push(this.put({ id, boot: this.boot, timeMs: event.diagnosis.timeMs, kind: 'failure', diagnosis: event.diagnosis }));
      } else if (event.type === 'input') {
        added.push(
          this.put({
            id,
            boot: this.boot,
            timeMs: event.timeMs,
            kind: 'input',
            owner: event.owner,
            label: `Xen’s console input: ${xenInputWords(event.owner)}`,
          }),
        );
      } else {
        this.boot += 1;
        added.push(
          this.put({ id, boot: this.boot, timeMs: event.timeMs, kind: 'new-boot', label: `The board started again (boot ${this.boot})` }),
        );
      }
    }
    return added;
  }

  /** The recogniser events behind the last console/finish/timeout/cancel call (the trial acts on them). */
  lastRecognised: RecogniserEvent[] = [];

  private activity(timeMs: number): void {
    this.lastActivityMs = Math.max(this.lastActivityMs, timeMs);
    this.stalledAt = undefined;
  }

  /** Adds an entry, or replaces the one with its id (a transfer moving on). */
  private put(entry: TimelineEntry): TimelineEntry {
    const index = entry.kind === 'transfer' ? this.list.findIndex((e) => e.id === entry.id) : -1;
    if (index >= 0) this.list[index] = entry;
    else this.list.push(entry);
    if (this.list.length > this.maxEntries) this.list.splice(0, this.list.length - this.maxEntries);
    return entry;
  }
}
