// Step 8: the write itself — phase, progress, speed, ETA, cancel — then exactly what was written where and what to do next.
import { useEffect, useRef, useState } from 'react';
import type { ExportResult } from '../../../shared/api/boot';
import type { FlashDone } from '../../../shared/api/drives';
import { boards } from '../../../shared/boards';
import { replacedFilesSentence, type FlashPhase, type FlashProgress } from '../../../shared/drives/flash';
import { formatDriveSize } from '../../../shared/drives/types';
import { tftpServerNextStep } from '../../../shared/network/next-step';
import type { ImagerErrorData } from '../../../shared/errors';
import { cancelWrite, exportBootFiles, localAddresses, onHostEvent, startFlash } from '../actions';
import { asErrorData, ErrorNotice } from '../components/ErrorNotice';
import type { StepProps } from '../wizard/step-props';
import { OpenConsoleButton } from '../console/OpenConsoleButton';
import { writesFreshCard } from '../wizard/write-source';

const PHASE_WORDS: Record<FlashPhase, string> = {
  preparing: 'Preparing',
  decompressing: 'Decompressing the image',
  composing: 'Adding the boot files',
  flashing: 'Writing',
  verifying: 'Verifying',
  finishing: 'Finishing',
};

type Outcome = { kind: 'flash'; done: FlashDone } | { kind: 'folder'; result: ExportResult } | { kind: 'error'; error: ImagerErrorData };

function formatRate(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${(bytesPerSecond / 1e6).toFixed(1)} MB/s` : '';
}

function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  return seconds < 60 ? `${Math.ceil(seconds)} s left` : `${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s left`;
}

export function WriteStep(props: StepProps) {
  const { wizard } = props;
  const { state } = wizard;
  const request = state.write;
  const [progress, setProgress] = useState<FlashProgress | undefined>();
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  const [jobId, setJobId] = useState<string | undefined>();
  const started = useRef<number | undefined>(undefined);

  useEffect(() => {
    if (!request || started.current === request.id) return;
    started.current = request.id;
    setOutcome(undefined);
    setProgress(undefined);
    const target = request.target;
    if (target.kind === 'folder') {
      exportBootFiles(state.draft, target.folder).then(
        (result) => setOutcome({ kind: 'folder', result }),
        (error: unknown) => setOutcome({ kind: 'error', error: asErrorData(error) }),
      );
      return;
    }
    let id: string | undefined;
    const offProgress = onHostEvent('flash:progress', (p) => (id === undefined || p.jobId === id) && setProgress(p));
    const offDone = onHostEvent('flash:done', (done) => {
      if (id !== undefined && done.jobId !== id) return;
      setOutcome({ kind: 'flash', done });
      setJobId(undefined);
    });
    const start = (overwrite: boolean) =>
      startFlash(state, target, overwrite).then(
        (reply) => {
          id = reply.jobId;
          setJobId(reply.jobId);
        },
        (error: unknown) => {
          const data = asErrorData(error);
          // the image file exists: the service refuses until the user says to replace it
          if (data.code === 'EXISTS' && !overwrite && window.confirm(`${data.message} Replace it?`)) void start(true);
          else setOutcome({ kind: 'error', error: data });
        },
      );
    void start(false);
    return () => {
      offProgress();
      offDone();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- runs once per confirmed write request
  }, [request?.id]);

  if (!request) {
    return <p>Choose where to write on the Target step first.</p>;
  }
  if (!outcome) {
    return (
      <div data-testid="writing" aria-busy="true">
        {writesFreshCard(state) && request.target.kind !== 'folder' && (
          <p>A fresh card: the app builds its partition table and FAT32 boot partition itself.</p>
        )}
        <p>
          <strong>{progress ? PHASE_WORDS[progress.phase] : 'Starting'}…</strong> {progress && `${Math.floor(progress.percent)} %`}
        </p>
        <progress className="progress" max={100} value={progress?.percent ?? 0} aria-label="Progress of this phase" />
        <p className="field-hint">
          {progress && progress.totalBytes > 0 && `${formatDriveSize(progress.bytes)} of ${formatDriveSize(progress.totalBytes)} `}
          {progress && formatRate(progress.speed)} {progress && formatEta(progress.eta)}
        </p>
        {jobId && (
          <button type="button" className="danger" onClick={() => void cancelWrite(jobId).catch(props.showError)}>
            Cancel
          </button>
        )}
      </div>
    );
  }
  return <WriteResult outcome={outcome} {...props} />;
}

/** What a fresh card holds, as a sentence's list. */
function freshCardContents(sdOnly: boolean): string {
  const items = [
    'the Raspberry Pi firmware',
    'config.txt',
    'U-Boot',
    'the boot scripts',
    ...(sdOnly ? ['Xen', 'Dom0’s kernel and ramdisk', 'the device tree'] : []),
  ];
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function WriteResult({ outcome, wizard }: { outcome: Outcome } & StepProps) {
  const { draft, path } = wizard.state;
  const [ownAddresses, setOwnAddresses] = useState<string[] | undefined>();
  useEffect(() => {
    if (draft.boot.mode !== 'tftp') return;
    // the next step names this computer only when the profile's server address is one of its own
    localAddresses().then(
      (found) => setOwnAddresses(found.map((entry) => entry.address)),
      () => undefined,
    );
  }, [draft.boot.mode]);
  if (outcome.kind === 'error' || (outcome.kind === 'flash' && outcome.done.error)) {
    const error = outcome.kind === 'error' ? outcome.error : outcome.done.error!;
    return (
      <div data-testid="write-failed">
        <h3>The write did not finish</h3>
        <ErrorNotice error={error} />
        <p>Fix the problem above, then go back to the Target step and write again.</p>
      </div>
    );
  }
  const board = boards[draft.board];
  return (
    <div data-testid="write-done">
      <h3>Done</h3>
      {outcome.kind === 'folder' ? (
        <>
          <p>
            Written to <code>{outcome.result.dir}</code>:
          </p>
          <pre className="code-block" tabIndex={0}>
            {outcome.result.written.join('\n')}
          </pre>
        </>
      ) : (
        <>
          {outcome.done.freshCardMiB !== undefined && (
            <p className="notice" data-testid="fresh-card">
              <strong>A fresh card, built from nothing:</strong> a partition table and one FAT32 boot partition, {outcome.done.freshCardMiB}{' '}
              MiB in all, holding {freshCardContents(draft.boot.mode === 'sd')}. No base image was used.
            </p>
          )}
          <ul data-testid="written-where">
            {outcome.done.savedAs && (
              <li>
                Image file <code>{outcome.done.savedAs}</code>
                {outcome.done.imageBytes !== undefined && ` (${formatDriveSize(outcome.done.imageBytes)})`}
                {outcome.done.savedVerified ? ': written and verified' : ': written (not verified)'}
              </li>
            )}
            {outcome.done.result?.targets.map((t) => (
              <li key={t.target}>
                <code>{t.target}</code>:{' '}
                {t.ok
                  ? t.verified
                    ? 'written and verified'
                    : 'written (not verified)'
                  : `failed — ${t.error?.message ?? 'unknown error'}`}
              </li>
            ))}
          </ul>
          {outcome.done.result && (
            <p className="field-hint">
              {formatDriveSize(outcome.done.result.writtenBytes)} written of a {formatDriveSize(outcome.done.result.imageBytes)} image in{' '}
              {((outcome.done.result.flashMs + outcome.done.result.verifyMs) / 1000).toFixed(1)} s.
            </p>
          )}
          {outcome.done.bootFiles && outcome.done.bootFiles.length > 0 && (
            <p>
              On the boot partition: <code>{outcome.done.bootFiles.join(', ')}</code>
            </p>
          )}
          {outcome.done.replacedFiles && (
            <p className="notice" data-testid="replaced-files">
              {replacedFilesSentence(outcome.done.replacedFiles)}
            </p>
          )}
          {outcome.done.sourceSha256 && (
            <p className="field-hint">
              {/* a fresh card has no source image: the hash is of the card image the app built */}
              {outcome.done.freshCardMiB !== undefined ? 'Card image SHA-256' : 'Source image SHA-256'}:{' '}
              <code className="break">{outcome.done.sourceSha256}</code>
            </p>
          )}
          {outcome.done.configTxtDiff && (
            <>
              <p className="field-hint">config.txt on the card:</p>
              <pre className="code-block" tabIndex={0}>
                {outcome.done.configTxtDiff}
              </pre>
            </>
          )}
        </>
      )}
      {path === 'xen' && (
        <>
          <h3>What to do next</h3>
          <ol>
            <li>
              Connect a 3.3 V USB serial adapter to the {board.name}’s UART (GPIO 14 TX, 15 RX, ground) and open it at {draft.console.baud}{' '}
              8N1.
            </li>
            {draft.boot.mode === 'tftp' && (
              <li data-testid="next-tftp">{tftpServerNextStep(draft.boot.network?.serverIp, ownAddresses)}</li>
            )}
            <li>
              Put the card in the Pi and power it. U-Boot runs the boot script; Xen prints “(XEN) Xen version …”, then Dom0 boots on hvc0.
            </li>
            <li>Press Ctrl-A three times to switch the console between Xen and Dom0.</li>
          </ol>
          <p className="row">
            Connect the UART, then open the console: <OpenConsoleButton baud={draft.console.baud} testId="write-open-console" />
          </p>
        </>
      )}
    </div>
  );
}
