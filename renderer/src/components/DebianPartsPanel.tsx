// "Get everything from Debian": every part of a Pi 4 card fetched into the components folder, with live progress,
// cancel, the offline message, and what was fetched from which package.
import { useEffect, useRef, useState } from 'react';
import type { PartsFetchResult } from '../../../shared/api/parts';
import type { ImagerErrorData } from '../../../shared/errors';
import { takeFetchedParts } from '../../../shared/profile/take-parts';
import { cancelDebianParts, fetchDebianParts, onHostEvent } from '../actions';
import type { StepProps } from '../wizard/step-props';
import { asErrorData, ErrorNotice } from './ErrorNotice';

/** The major.minor partsFetch takes ("4.17.3" → "4.17"), or undefined when the version is not one. */
function xenSeries(version: string): string | undefined {
  return /^(\d+\.\d+)(\.\d+)?$/.exec(version.trim())?.[1];
}

export function DebianPartsPanel({ wizard }: Pick<StepProps, 'wizard'>) {
  const { draft } = wizard.state;
  const [running, setRunning] = useState(false);
  const [messages, setMessages] = useState<string[]>([]);
  const [refresh, setRefresh] = useState(false);
  const [result, setResult] = useState<PartsFetchResult | undefined>();
  const [error, setError] = useState<ImagerErrorData | undefined>();
  const series = xenSeries(draft.xen.version);

  // subscribed before the request goes out, so the first message is never missed
  const listening = useRef(false);
  useEffect(() => {
    const off = onHostEvent('parts:progress', (event) => listening.current && setMessages((list) => [...list, event.message]));
    return () => {
      off();
    };
  }, []);

  const start = () => {
    if (!series) return;
    setRunning(true);
    listening.current = true;
    setMessages([]);
    setResult(undefined);
    setError(undefined);
    fetchDebianParts({ board: 'rpi4', xenVersion: series, ...(refresh && { refresh: true }) })
      .then(
        (fetched) => {
          setResult(fetched);
          // the functional edit lands even when the user has moved to another step meanwhile
          wizard.edit((d) => takeFetchedParts(d, fetched.profile));
        },
        (reason: unknown) => setError(asErrorData(reason)),
      )
      .finally(() => {
        listening.current = false;
        setRunning(false);
      });
  };

  return (
    <section aria-labelledby="debian-parts-title" className="card debian-parts" aria-busy={running}>
      <h3 id="debian-parts-title">Get everything from Debian</h3>
      <p className="field-hint card-intro">
        U-Boot for the Pi 4, the Raspberry Pi firmware, Xen {series ?? draft.xen.version}, Debian’s arm64 kernel with the Pi 4’s device
        tree, and a Dom0 initramfs with a shell and Xen’s toolstack (<code>xl</code>): downloaded from Debian’s archive (about 100 MB the
        first time, then cached) into the app’s components folder. The fields below then name them; your name, console, network and memory
        choices stay.
      </p>
      <label className="choice">
        <input type="checkbox" checked={refresh} disabled={running} onChange={(e) => setRefresh(e.target.checked)} />
        <span>Download again, even when cached</span>
      </label>
      <div className="row">
        <button type="button" className="primary" onClick={start} disabled={running || !series} data-testid="parts-fetch">
          Get everything from Debian
        </button>
        {running && (
          <button type="button" className="danger" onClick={() => void cancelDebianParts()} data-testid="parts-cancel">
            Cancel
          </button>
        )}
        {running && (
          <span className="busy" data-testid="parts-busy">
            Fetching…
          </span>
        )}
      </div>
      {!series && <p className="field-problem error">The Xen version on the Board step must be a release such as 4.17 to fetch it.</p>}
      {messages.length > 0 && (
        <div role="log" aria-label="Fetch progress" className="progress-log" data-testid="parts-progress" tabIndex={0}>
          <ol>
            {messages.map((message, i) => (
              <li key={i}>{message}</li>
            ))}
          </ol>
        </div>
      )}
      {error?.code === 'CANCELLED' ? (
        <p className="notice" role="status" data-testid="parts-cancelled">
          Cancelled: the profile was not changed. Parts already downloaded stay in the cache.
        </p>
      ) : (
        error && <ErrorNotice error={error} />
      )}
      {result && <FetchedParts result={result} />}
    </section>
  );
}

function FetchedParts({ result }: { result: PartsFetchResult }) {
  return (
    <div data-testid="parts-fetched">
      <p className="notice" role="status">
        Fetched {result.files.length} files into <code className="break">{result.dir}</code>; the fields below now name them.
      </p>
      <table className="data">
        <thead>
          <tr>
            <th>File</th>
            <th>Package</th>
            <th>Version</th>
          </tr>
        </thead>
        <tbody>
          {result.files.map((file) => (
            <tr key={file.file}>
              <td>
                <code className="nowrap">{file.file}</code>
              </td>
              <td className="break">{file.package}</td>
              <td className="break">{file.version}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="field-hint">Trying it on the Review step: {result.qemuNote}</p>
    </div>
  );
}
