// The built-in TFTP server on the Network step: start/stop it for this profile and watch the Pi ask for each file.
import { useEffect, useState } from 'react';
import type { LocalAddress, TftpLimitEvent, TftpServeStatus, TftpTransferEvent } from '../../../shared/api/tftp';
import type { ImagerErrorData } from '../../../shared/errors';
import { localAddresses, onHostEvent, startTftpServer, stopTftpServer, tftpStatus } from '../actions';
import type { StepProps } from '../wizard/step-props';
import { asErrorData, ErrorNotice } from './ErrorNotice';

interface TransferRow {
  id: number;
  file: string;
  client: string;
  state: 'asked' | 'sending' | 'done' | 'failed';
  bytes: number;
  total?: number;
  detail: string;
}

const MAX_ROWS = 50;
/** Limit notices kept on screen, newest first (the server already sends at most one per limit every 10 s). */
const MAX_NOTICES = 5;

function limitLine(event: TftpLimitEvent): string {
  const time = new Date(event.time).toLocaleTimeString();
  return `${time} ${event.message}${event.suppressed > 0 ? ` (and ${event.suppressed} more like it)` : ''}`;
}

function applyEvent(rows: TransferRow[], event: TftpTransferEvent): TransferRow[] {
  const client = `${event.client.address}:${event.client.port}`;
  const existing = rows.find((row) => row.id === event.id);
  const base: TransferRow = existing ?? { id: event.id, file: event.file, client, state: 'asked', bytes: 0, detail: '' };
  const next: TransferRow =
    event.kind === 'request'
      ? {
          ...base,
          state: 'asked',
          detail: Object.entries(event.options)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
        }
      : event.kind === 'progress'
        ? { ...base, state: 'sending', bytes: event.bytes, ...(event.total !== undefined && { total: event.total }) }
        : event.kind === 'done'
          ? {
              ...base,
              state: 'done',
              bytes: event.bytes,
              detail: `${(event.rate / 1e6).toFixed(1)} MB/s, blksize ${event.blksize}${event.windowsize > 1 ? `, windowsize ${event.windowsize}` : ''}`,
            }
          : { ...base, state: 'failed', detail: event.why };
  return [next, ...rows.filter((row) => row.id !== event.id)].slice(0, MAX_ROWS);
}

export function TftpPanel({ wizard, validation }: StepProps) {
  const { draft } = wizard.state;
  const [addresses, setAddresses] = useState<LocalAddress[]>([]);
  const [status, setStatus] = useState<TftpServeStatus | undefined>();
  const [transfers, setTransfers] = useState<TransferRow[]>([]);
  const [limits, setLimits] = useState<TftpLimitEvent[]>([]);
  const [error, setError] = useState<ImagerErrorData | undefined>();
  const [listen, setListen] = useState('');
  const [busy, setBusy] = useState(false);
  const serverIp = draft.boot.network?.serverIp;

  useEffect(() => {
    void localAddresses().then(setAddresses, () => undefined);
    void tftpStatus().then(setStatus, () => undefined);
    const offTransfers = onHostEvent('tftp:transfer', (event) => setTransfers((rows) => applyEvent(rows, event)));
    const offLimits = onHostEvent('tftp:limit', (event) => setLimits((shown) => [event, ...shown].slice(0, MAX_NOTICES)));
    return () => {
      offTransfers();
      offLimits();
    };
  }, []);

  // listen where the board will look: the profile's server address when it is one of ours, else everywhere
  const ours = addresses.some((a) => a.address === serverIp);
  const listenAddress = listen || (serverIp && ours ? serverIp : '0.0.0.0');

  const start = () => {
    setBusy(true);
    setError(undefined);
    startTftpServer(draft, listenAddress)
      .then(setStatus, (reason: unknown) => setError(asErrorData(reason)))
      .finally(() => setBusy(false));
  };
  const stop = () => {
    setBusy(true);
    stopTftpServer()
      .then(() => tftpStatus().then(setStatus))
      .catch((reason: unknown) => setError(asErrorData(reason)))
      .finally(() => setBusy(false));
  };

  return (
    <section aria-labelledby="tftp-title" className="card">
      <datalist id="local-addresses">
        {addresses.map((a) => (
          <option key={a.interface + a.address} value={a.address}>{`${a.interface} ${a.cidr ?? a.address}`}</option>
        ))}
      </datalist>
      <div className="row">
        <h3 id="tftp-title">Built-in TFTP server</h3>
        <span className={status?.running ? 'ok' : 'field-hint'} data-testid="tftp-state">
          {status?.running ? `Serving on ${status.address}:${status.port}` : 'Stopped'}
        </span>
      </div>
      {/* an address that is not one at all has its own message on the field */}
      {serverIp &&
        addresses.length > 0 &&
        !ours &&
        serverIp !== '255.255.255.255' &&
        validation.at('$.boot.network.serverIp')?.severity !== 'error' && (
          <p className="notice warn">
            {serverIp} is not an address of this computer (
            {addresses
              .filter((a) => !a.internal)
              .map((a) => a.address)
              .join(', ') || 'no network address found'}
            ). The Pi will ask that address for its files.
          </p>
        )}
      <div className="row">
        <label htmlFor="tftp-listen">Listen on</label>
        <select id="tftp-listen" value={listenAddress} onChange={(e) => setListen(e.target.value)} disabled={status?.running}>
          <option value="0.0.0.0">every address (0.0.0.0)</option>
          {addresses.map((a) => (
            <option key={a.interface + a.address} value={a.address}>
              {a.address} ({a.interface})
            </option>
          ))}
        </select>
        <span className="field-hint">UDP port 69 (U-Boot asks no other)</span>
        <span className="header-spacer" />
        {status?.running ? (
          <button type="button" className="secondary" onClick={stop} disabled={busy} data-testid="tftp-stop">
            Stop server
          </button>
        ) : (
          <button type="button" className="primary" onClick={start} disabled={busy} data-testid="tftp-start">
            Start server
          </button>
        )}
      </div>
      {error && <ErrorNotice error={error} />}
      {status?.serving && status.running && (
        <p className="field-hint" data-testid="tftp-serving">
          Serving: {status.serving.join(', ')}
        </p>
      )}
      {limits.length > 0 && (
        <div className="notice warn" role="status" aria-label="Limits the server applied" data-testid="tftp-limits">
          <p>Requests the server refused or trimmed to protect itself (a client asking too much, or too many at once):</p>
          <ul>
            {limits.map((event) => (
              <li key={`${event.time}-${event.limit}-${event.message}`}>{limitLine(event)}</li>
            ))}
          </ul>
        </div>
      )}
      {transfers.length > 0 && (
        <table className="data transfers" aria-label="Transfers, newest first" data-testid="tftp-transfers">
          <thead>
            <tr>
              <th>File</th>
              <th>From</th>
              <th>State</th>
              <th className="num">Bytes</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {transfers.map((row) => (
              <tr key={row.id}>
                <td>
                  <code>{row.file}</code>
                </td>
                <td>{row.client}</td>
                <td className={row.state === 'failed' ? 'field-problem error' : row.state === 'done' ? 'ok' : undefined}>{row.state}</td>
                <td className="num">
                  {row.bytes.toLocaleString('en')}
                  {row.total !== undefined && row.state === 'sending' ? ` / ${row.total.toLocaleString('en')}` : ''}
                </td>
                <td>{row.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
