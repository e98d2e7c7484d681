// The boot timeline beside a console: milestones, TFTP transfers with their rates, Xen's input switches, resets, a stall
// and the failure with its diagnosis — one list for the serial console and the QEMU trial.
import { useEffect, useRef } from 'react';
import type { TimelineEntry } from '../../../shared/console/timeline';

/** Adds an entry, or replaces the one with its id (a transfer that was asked for and is now done). */
export function upsertEntry(list: TimelineEntry[], entry: TimelineEntry): TimelineEntry[] {
  const index = list.findIndex((e) => e.id === entry.id);
  if (index < 0) return [...list, entry].slice(-2000);
  const next = [...list];
  next[index] = entry;
  return next;
}

function entryText(entry: TimelineEntry): string {
  switch (entry.kind) {
    case 'milestone':
      return entry.milestone.label;
    case 'failure':
      return entry.diagnosis.message;
    default:
      return entry.label;
  }
}

function entryClass(entry: TimelineEntry): string {
  if (entry.kind === 'failure' || (entry.kind === 'transfer' && entry.state === 'failed')) return 'tl-failure';
  if (entry.kind === 'stall') return 'tl-stall';
  if (entry.kind === 'transfer') return 'tl-transfer';
  if (entry.kind === 'milestone' && (entry.milestone.kind === 'dom0-userspace' || entry.milestone.kind === 'dom0-shell'))
    return 'tl-reached';
  return `tl-${entry.kind}`;
}

export function TimelineView({
  entries,
  label,
  testId,
  empty,
}: {
  entries: TimelineEntry[];
  label: string;
  testId: string;
  empty: string;
}) {
  // a stall that later progress answered is history, not news: only the last one is shown
  const panel = useRef<HTMLDivElement>(null);
  const followNewest = useRef(true);
  // the newest entry stays in view, unless the user scrolled up to read an older one
  useEffect(() => {
    const element = panel.current;
    if (element && followNewest.current) element.scrollTop = element.scrollHeight;
  }, [entries]);
  const onScroll = () => {
    const element = panel.current;
    if (element) followNewest.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
  };
  const lastIndex = entries.length - 1;
  const shown = entries.filter((entry, index) => entry.kind !== 'stall' || index === lastIndex);
  return (
    // scrollable, so it takes the keyboard focus to be scrolled without a mouse
    <div className="timeline-panel" ref={panel} onScroll={onScroll} tabIndex={0} role="region" aria-label={`${label}, scrollable`}>
      {shown.length === 0 && <p className="field-hint">{empty}</p>}
      <ol className="timeline" aria-label={label} data-testid={testId}>
        {shown.map((entry) => (
          <li key={entry.id} data-kind={entry.kind === 'milestone' ? entry.milestone.kind : entry.kind} className={entryClass(entry)}>
            <span className="num">{(entry.timeMs / 1000).toFixed(1)} s</span> {entryText(entry)}
            {entry.kind === 'failure' && (
              <>
                {entry.diagnosis.line && <code className="tl-line">{entry.diagnosis.line}</code>}
                <span className="tl-hint">{entry.diagnosis.hint}</span>
              </>
            )}
            {entry.kind === 'stall' && <span className="tl-hint">{entry.hint}</span>}
          </li>
        ))}
      </ol>
    </div>
  );
}
