// The serial console panel: pick the USB-UART adapter, open it at the profile's baud rate, watch and type into the board's
// console with the boot timeline beside it (the TFTP server's transfers included), switch Xen's input, save the log.
import { useCallback, useEffect, useState } from 'react';
import type { SerialPortInfo, SerialSavedLog, SerialSessionInfo, SerialState } from '../../../shared/api/serial';
import type { TftpStatus } from '../../../shared/api/tftp';
import { xenInputWords, type TimelineEntry } from '../../../shared/console/timeline';
import type { ImagerErrorData } from '../../../shared/errors';
import {
  closeSerialPort,
  listSerialPorts,
  onHostEvent,
  openSerialPort,
  openSerialSessions,
  saveSerialLog,
  serialTimeline,
  tftpStatus,
  typeOnSerial,
} from '../actions';
import { asErrorData, ErrorNotice } from '../components/ErrorNotice';
import { ConsoleView } from './ConsoleView';
import { hideConsole } from './open-console';
import { TimelineView, upsertEntry } from './TimelineView';

const BAUD_RATES = [9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600];
const XEN_SWITCH = '\x01\x01\x01';

const STATE_WORDS: Record<SerialState, string> = { open: 'Connected', lost: 'Adapter unplugged — waiting for it', closed: 'Closed' };

/** The panel itself; loaded on first use with the terminal (see ConsoleDock). */
export default function SerialConsole({ baud: requestedBaud }: { baud: number | undefined }) {
  const [ports, setPorts] = useState<SerialPortInfo[] | undefined>();
  const [path, setPath] = useState('');
  const [baud, setBaud] = useState(requestedBaud ?? 115200);
  const [session, setSession] = useState<SerialSessionInfo | undefined>();
  const [stateMessage, setStateMessage] = useState('');
  const [entries, setEntries] = useState<TimelineEntry[]>([]);
  const [tftp, setTftp] = useState<TftpStatus | undefined>();
  const [saved, setSaved] = useState<SerialSavedLog | undefined>();
  const [error, setError] = useState<ImagerErrorData | undefined>();
  const [busy, setBusy] = useState(false);
  const sessionId = session?.sessionId;

  const refreshPorts = useCallback(() => {
    listSerialPorts().then(
      (list) => {
        setPorts(list);
        setPath((current) => current || (list.find((p) => p.newest) ?? list[0])?.openPath || '');
      },
      (reason: unknown) => setError(asErrorData(reason)),
    );
  }, []);

  useEffect(() => {
    if (requestedBaud !== undefined && !session) setBaud(requestedBaud);
  }, [requestedBaud, session]);

  useEffect(() => {
    refreshPorts();
    void tftpStatus().then(setTftp, () => undefined);
    // a page loaded again finds the console it had open
    void openSerialSessions().then(
      (open) => {
        const live = open.find((s) => s.state !== 'closed');
        if (!live) return;
        setSession(live);
        void serialTimeline(live.sessionId).then(setEntries, () => undefined);
      },
      () => undefined,
    );
  }, [refreshPorts]);

  useEffect(() => {
    const offs = [
      onHostEvent('serial:state', (event) => {
        if (event.sessionId !== sessionId) return;
        setStateMessage(event.message);
        setSession((current) => current && { ...current, state: event.state });
      }),
      onHostEvent('serial:timeline', (event) => {
        if (event.sessionId !== sessionId) return;
        setEntries((list) => upsertEntry(list, event.entry));
        if (event.entry.kind === 'input') {
          const owner = event.entry.owner;
          setSession((current) => current && { ...current, xenInput: owner });
        }
      }),
      onHostEvent('tftp:transfer', () => void tftpStatus().then(setTftp, () => undefined)),
    ];
    return () => offs.forEach((off) => off());
  }, [sessionId]);

  const attach = useCallback(
    (write: (data: string) => void) =>
      onHostEvent('serial:data', (event) => {
        if (event.sessionId === sessionId) write(event.data);
      }),
    [sessionId],
  );
  const type = useCallback(
    (text: string) => {
      if (sessionId !== undefined) typeOnSerial(sessionId, text).catch((reason: unknown) => setError(asErrorData(reason)));
    },
    [sessionId],
  );

  const open = () => {
    setBusy(true);
    setError(undefined);
    setSaved(undefined);
    openSerialPort(path, baud)
      .then(
        (opened) => {
          setEntries([]);
          setStateMessage('');
          setSession(opened);
        },
        (reason: unknown) => setError(asErrorData(reason)),
      )
      .finally(() => setBusy(false));
  };
  const close = () => {
    if (sessionId === undefined) return;
    void closeSerialPort(sessionId).then(
      () => setSession(undefined),
      (reason: unknown) => setError(asErrorData(reason)),
    );
  };
  const saveLog = () => {
    if (sessionId !== undefined) saveSerialLog(sessionId).then(setSaved, (reason: unknown) => setError(asErrorData(reason)));
  };

  return (
    <>
      <div className="row serial-head">
        <h2 id="serial-title">Serial console</h2>
        {session && (
          <span className={`badge serial-state-${session.state}`} role="status" data-testid="serial-state">
            {STATE_WORDS[session.state]} · {session.path} · {session.baud} 8N1
          </span>
        )}
        <button type="button" className="secondary push-right" onClick={hideConsole} data-testid="serial-hide">
          Hide
        </button>
      </div>
      {!session && (
        <div className="serial-open">
          <p className="field-hint">
            Wire a 3.3 V USB-UART adapter to the Pi’s GPIO 14 (TX, pin 8) and 15 (RX, pin 10) with ground on pin 6, plug it in, open it
            here, then power the Pi.
          </p>
          {ports && ports.length > 0 && (
            <fieldset>
              <legend>Serial ports on this computer</legend>
              {ports.map((port) => (
                <label className="choice" key={port.path}>
                  <input
                    type="radio"
                    name="serial-port"
                    checked={path === port.openPath}
                    onChange={() => setPath(port.openPath)}
                    data-testid="serial-port"
                  />
                  <span>
                    {port.label}
                    {port.newest && <strong className="ok"> · plugged in last</strong>}
                    <small>{port.byId ?? port.path}</small>
                  </span>
                </label>
              ))}
            </fieldset>
          )}
          {ports && ports.length === 0 && (
            <p className="notice warn">No USB-UART adapter is plugged in. Plug one in and press Refresh, or type its device path.</p>
          )}
          <div className="grid-2">
            <label className="field">
              <span>Device path</span>
              <input
                type="text"
                value={path}
                onChange={(event) => setPath(event.target.value)}
                placeholder="/dev/ttyUSB0"
                spellCheck={false}
                className="mono"
                data-testid="serial-path"
              />
            </label>
            <label className="field">
              <span>Baud rate (8N1, no flow control)</span>
              <select value={baud} onChange={(event) => setBaud(Number(event.target.value))} data-testid="serial-baud">
                {[...new Set([...BAUD_RATES, baud])]
                  .sort((a, b) => a - b)
                  .map((rate) => (
                    <option key={rate} value={rate}>
                      {rate}
                    </option>
                  ))}
              </select>
            </label>
          </div>
          <div className="row">
            <button type="button" className="primary" disabled={!path.trim() || busy} onClick={open} data-testid="serial-open">
              Open the console
            </button>
            <button type="button" className="secondary" onClick={refreshPorts}>
              Refresh
            </button>
          </div>
        </div>
      )}
      {error && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
      {stateMessage && session?.state === 'lost' && <p className="notice warn">{stateMessage}</p>}
      {session && (
        <>
          <p className="field-hint" data-testid="serial-tftp">
            {tftp?.running
              ? `The TFTP server on ${tftp.address}:${tftp.port} is running: its transfers appear on the timeline.`
              : 'The TFTP server is not running: a network boot needs it (Network step). Its transfers appear on the timeline once it runs.'}
          </p>
          <div className="console-layout">
            <ConsoleView
              label="Serial console"
              testId="serial-terminal"
              attach={attach}
              onInput={type}
              resetKey={sessionId}
              actions={
                <>
                  <button
                    type="button"
                    onClick={() => type(XEN_SWITCH)}
                    title="Sends Ctrl-A three times: Xen hands the keyboard between itself and Dom0"
                    data-testid="xen-switch"
                  >
                    Switch Xen/Dom0 input
                  </button>
                  <span className="field-hint" data-testid="xen-input">
                    {xenInputWords(session.xenInput)}
                  </span>
                  <button type="button" onClick={saveLog} data-testid="serial-save-log">
                    Save log
                  </button>
                  <button type="button" className="danger" onClick={close} data-testid="serial-close">
                    Close port
                  </button>
                </>
              }
            />
            <TimelineView
              entries={entries}
              label="Boot timeline"
              testId="serial-timeline"
              empty="Power the Pi: U-Boot, each TFTP transfer, Xen and Dom0 appear here as they happen."
            />
          </div>
          {saved && (
            <p className="notice ok-border" role="status" data-testid="serial-saved">
              Log saved with every line’s time: <code>{saved.path}</code> ({saved.bytes.toLocaleString('en')} bytes)
            </p>
          )}
        </>
      )}
    </>
  );
}
