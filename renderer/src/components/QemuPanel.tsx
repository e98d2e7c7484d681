// "Try it": boots the profile on QEMU — a Pi 4 profile on the emulated Pi 4 (raspi4b), the very card the Write step
// makes — with a live console, the milestone timeline, and the verdict with what the trial changed and did not boot.
import { useCallback, useEffect, useState } from 'react';
import type { EmulatorOptions, EmulatorResult } from '../../../shared/api/emulator';
import type { TimelineEntry } from '../../../shared/console/timeline';
import type { ImagerErrorData } from '../../../shared/errors';
import type { Profile } from '../../../shared/profile/schema';
import type { AppInfo } from '../../../shared/api';
import { onHostEvent, stopEmulator, stopTftpServer, tryOnEmulator } from '../actions';
import type { StepProps } from '../wizard/step-props';
import { ErrorNotice, asErrorData } from './ErrorNotice';
import { LazyConsoleView } from '../console/LazyConsoleView';
import { TimelineView, upsertEntry } from '../console/TimelineView';

/** What a Pi 4 profile is tried with: its own card on the emulated Pi 4, or Debian's parts on QEMU's virt board. */
type TrialMode = 'pi4' | 'debian-virt';

const MACHINE_WORDS: Record<NonNullable<EmulatorResult['machine']>, string> = {
  raspi4b: 'QEMU raspi4b, the emulated Raspberry Pi 4: it booted the card the Write step makes',
  virt: 'QEMU virt, the generic arm64 board: the profile was retargeted to it (its addresses, console and device tree)',
};

function trialOptions(profile: Profile, mode: TrialMode): EmulatorOptions {
  if (profile.board !== 'rpi4') return { components: 'profile' };
  return mode === 'pi4' ? { components: 'profile', machine: 'auto' } : { components: 'debian', machine: 'virt' };
}

/** Why the Try button cannot be pressed, in words shown next to it; undefined when it can. */
function whyDisabled(profile: Profile, mode: TrialMode, info: AppInfo, problems: string | undefined): string | undefined {
  if (problems) return problems;
  if (profile.board === 'rpi4' && mode === 'pi4') {
    if (!profile.ubootBinary) return 'The emulated Pi 4 starts the card’s own U-Boot: name u-boot.bin on the Components step.';
    return undefined; // QEMU with raspi4b may be in the app's cache even when the system's QEMU is missing or older
  }
  return info.qemuAvailable ? undefined : info.qemuNote;
}

export function QemuPanel({ wizard, info, disabledBecause }: StepProps & { disabledBecause: string | undefined }) {
  const { draft } = wizard.state;
  const [mode, setMode] = useState<TrialMode>('pi4');
  const [running, setRunning] = useState(false);
  const [trialRun, setTrialRun] = useState(0);
  const [entries, setEntries] = useState<TimelineEntry[]>([]);
  const [progress, setProgress] = useState('');
  const [result, setResult] = useState<EmulatorResult | undefined>();
  const [error, setError] = useState<ImagerErrorData | undefined>();
  const pi4 = draft.board === 'rpi4' && mode === 'pi4';
  const reason = running ? undefined : whyDisabled(draft, mode, info, disabledBecause);

  useEffect(() => {
    const offs = [
      // the same timeline as the serial console's: milestones, the trial's TFTP transfers, the failure
      onHostEvent('emulator:timeline', (e) => setEntries((list) => upsertEntry(list, e.entry))),
      onHostEvent('emulator:progress', (e) => setProgress(e.message)),
    ];
    return () => offs.forEach((off) => off());
  }, []);
  const attachConsole = useCallback((write: (data: string) => void) => onHostEvent('emulator:console', (e) => write(e.text)), []);

  const start = () => {
    setRunning(true);
    setTrialRun((n) => n + 1);
    setEntries([]);
    setResult(undefined);
    setError(undefined);
    tryOnEmulator(draft, trialOptions(draft, mode))
      .then(setResult, (failure: unknown) => setError(asErrorData(failure)))
      .finally(() => {
        setRunning(false);
        setProgress('');
      });
  };

  return (
    <section aria-labelledby="qemu-title" className="card qemu">
      <h3 id="qemu-title">{draft.board === 'rpi4' ? 'Try it on an emulator' : 'Try in QEMU'}</h3>
      <p className="field-hint card-intro">
        {pi4
          ? 'QEMU’s raspi4b boots the card the Write step makes — U-Boot, Xen, Dom0 and xl — before you touch hardware (about 30–60 s).'
          : 'Boot this configuration on an emulated arm64 board before touching hardware (about 10–30 s).'}
      </p>
      {draft.board === 'rpi4' && (
        <fieldset>
          <legend>What the trial boots</legend>
          <label className="choice">
            <input
              type="radio"
              name="trial-mode"
              checked={mode === 'pi4'}
              onChange={() => setMode('pi4')}
              disabled={running}
              data-testid="qemu-mode-pi4"
            />
            <span>
              This profile’s card on an emulated Pi 4
              <small>
                Your files, as the Write step puts them on the card. Needs QEMU 9.0 or newer (“Get everything from Debian” fetches one);
                without it the trial runs on QEMU virt and says so.
                {draft.boot.mode === 'tftp' && ' The emulated Pi 4 has no Ethernet: a TFTP profile boots as its SD-only twin.'}
              </small>
            </span>
          </label>
          <label className="choice">
            <input
              type="radio"
              name="trial-mode"
              checked={mode === 'debian-virt'}
              onChange={() => setMode('debian-virt')}
              disabled={running}
              data-testid="qemu-mode-debian"
            />
            <span>
              Debian’s Xen and kernel on QEMU virt
              <small>
                Checks the boot scripts and the TFTP chain; Xen, the Dom0 kernel, its ramdisk and the device tree are Debian’s and QEMU’s,
                not yours.
              </small>
            </span>
          </label>
        </fieldset>
      )}
      {!info.qemuAvailable && !pi4 && <p className="notice warn">{info.qemuNote}</p>}
      <div className="row">
        <button
          type="button"
          className="primary"
          disabled={running || reason !== undefined}
          onClick={start}
          data-testid="qemu-try"
          aria-describedby={reason ? 'qemu-why-disabled' : undefined}
        >
          {pi4 ? 'Try on an emulated Pi 4' : draft.board === 'rpi4' ? 'Try on QEMU virt' : 'Try in QEMU'}
        </button>
        {reason && (
          <span className="field-problem warning" id="qemu-why-disabled" data-testid="qemu-why-disabled">
            {reason}
          </span>
        )}
        {running && (
          <button type="button" className="danger" onClick={() => void stopEmulator()}>
            Stop
          </button>
        )}
        {running && (
          <span className="busy" role="status">
            {progress || 'Starting…'}
          </span>
        )}
      </div>
      {error && <ErrorNotice error={error} />}
      {error?.code === 'TFTP_SERVER_RUNNING' && !running && (
        // the trial serves its own (retargeted) files on port 69, so it cannot share the server a real Pi may be using
        <button
          type="button"
          className="secondary"
          data-testid="qemu-stop-tftp"
          onClick={() => void stopTftpServer().then(start, (failure: unknown) => setError(asErrorData(failure)))}
        >
          Stop the app’s TFTP server and try again
        </button>
      )}
      {result && <TrialVerdict result={result} />}
      {trialRun > 0 && (
        <div className="console-layout">
          <LazyConsoleView label="QEMU console" testId="qemu-console" attach={attachConsole} resetKey={trialRun} />
          <TimelineView
            entries={entries}
            label="Boot milestones"
            testId="qemu-timeline"
            empty="The milestones appear here as the emulated board reaches them."
          />
        </div>
      )}
    </section>
  );
}

/** "Domain-0  0  768  1  r-----  7.1" (columns lose their meaning once HTML folds the spaces) in words. */
function xlListWords(line: string): string {
  const [name, id, memory, vcpus, state, seconds] = line.trim().split(/\s+/);
  if (!name || !memory || !vcpus) return line;
  return `${name} (ID ${id}), ${memory} MB, ${vcpus} vCPU${vcpus === '1' ? '' : 's'}${state ? `, state ${state}` : ''}${seconds ? `, ${seconds} s of CPU time` : ''}`;
}

/** The verdict, then — with the same weight — which machine ran it, what the trial changed, and which of your files it did not boot. */
function TrialVerdict({ result }: { result: EmulatorResult }) {
  const substituted = result.substituted ?? [];
  return (
    <div className={`notice verdict ${result.ok ? 'ok-border' : 'error'}`} role="status" data-testid="qemu-result">
      <p>
        <strong>{result.ok ? 'Booted: ' : 'Did not boot: '}</strong>
        {result.summary}
      </p>
      {result.diagnosis && <p>{result.diagnosis.hint}</p>}
      {result.machine && (
        <p data-testid="qemu-machine">
          <strong>Ran on: </strong>
          {MACHINE_WORDS[result.machine]}.
        </p>
      )}
      <div data-testid="qemu-changes">
        <strong>What the trial changed for the emulator: </strong>
        {result.changes.length === 0 ? (
          'nothing.'
        ) : (
          <ul>
            {result.changes.map((change) => (
              <li key={change}>{change}</li>
            ))}
          </ul>
        )}
      </div>
      <div data-testid="qemu-substituted">
        <strong>Files of yours it did not boot: </strong>
        {substituted.length === 0 ? (
          'none — every file it booted is the profile’s own.'
        ) : (
          <ul>
            {substituted.map((what) => (
              <li key={what}>{what}</li>
            ))}
          </ul>
        )}
      </div>
      {result.dom0.xlListLine && (
        <p data-testid="qemu-xl-list">
          <strong>xl list in Dom0: </strong>
          {xlListWords(result.dom0.xlListLine)}
        </p>
      )}
    </div>
  );
}
