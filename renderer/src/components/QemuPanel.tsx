// "Try in QEMU": boots the profile on the emulated virt board, with a live console and the milestone timeline.
import { useEffect, useRef, useState } from 'react';
import type { EmulatorResult, Milestone } from '../../../shared/api/emulator';
import { api } from '../api/client';
import type { StepProps } from '../wizard/Wizard';
import { ErrorNotice, asErrorData } from './ErrorNotice';
import type { ImagerErrorData } from '../../../shared/errors';

const CONSOLE_LIMIT = 200_000;

export function QemuPanel({ wizard, info, disabled }: StepProps & { disabled: boolean }) {
  const { draft } = wizard.state;
  const [running, setRunning] = useState(false);
  const [consoleText, setConsoleText] = useState('');
  const [milestones, setMilestones] = useState<Milestone[]>([]);
  const [progress, setProgress] = useState('');
  const [result, setResult] = useState<EmulatorResult | undefined>();
  const [error, setError] = useState<ImagerErrorData | undefined>();
  const consoleRef = useRef<HTMLPreElement>(null);

  useEffect(() => {
    const offs = [
      api.on('emulator:console', (e) => setConsoleText((text) => (text + e.text).slice(-CONSOLE_LIMIT))),
      api.on('emulator:milestone', (e) => setMilestones((list) => [...list, e.milestone])),
      api.on('emulator:progress', (e) => setProgress(e.message)),
    ];
    return () => offs.forEach((off) => off());
  }, []);

  useEffect(() => {
    const pre = consoleRef.current;
    if (pre) pre.scrollTop = pre.scrollHeight;
  }, [consoleText]);

  const start = () => {
    setRunning(true);
    setConsoleText('');
    setMilestones([]);
    setResult(undefined);
    setError(undefined);
    // the Pi's own files cannot boot on the virt board: the trial uses Debian's arm64 parts for a Pi profile
    const components = draft.board === 'qemu-virt' ? 'profile' : 'debian';
    api
      .emulatorTry(draft, { components })
      .then(setResult, (reason: unknown) => setError(asErrorData(reason)))
      .finally(() => {
        setRunning(false);
        setProgress('');
      });
  };

  return (
    <section aria-labelledby="qemu-title" className="card qemu">
      <div className="row">
        <h3 id="qemu-title">Try in QEMU</h3>
        <span className="field-hint">Boot this configuration on an emulated arm64 board before touching hardware (about 10–30 s).</span>
      </div>
      {!info.qemuAvailable && <p className="notice warn">{info.qemuNote}</p>}
      <div className="row">
        <button type="button" className="primary" disabled={disabled || running || !info.qemuAvailable} onClick={start} data-testid="qemu-try">
          Try in QEMU
        </button>
        {running && (
          <button type="button" className="danger" onClick={() => void api.emulatorCancel()}>
            Stop
          </button>
        )}
        {progress && <span className="field-hint">{progress}</span>}
      </div>
      {error && <ErrorNotice error={error} />}
      {result && (
        <p className={`notice ${result.ok ? '' : 'error'}`} role="status" data-testid="qemu-result">
          <strong>{result.ok ? 'Booted: ' : 'Did not boot: '}</strong>
          {result.summary}
          {result.diagnosis && <span className="block">{result.diagnosis.hint}</span>}
          {result.changes.length > 0 && <span className="block field-hint">For the emulator: {result.changes.join('; ')}</span>}
        </p>
      )}
      {milestones.length > 0 && (
        <ol className="timeline" aria-label="Boot milestones">
          {milestones.map((m, i) => (
            <li key={i}>
              <span className="num">{(m.timeMs / 1000).toFixed(1)} s</span> {m.label}
            </li>
          ))}
        </ol>
      )}
      {(running || consoleText) && (
        <pre className="code-block console" ref={consoleRef} aria-label="Serial console" data-testid="qemu-console" tabIndex={0}>
          {consoleText}
        </pre>
      )}
    </section>
  );
}
