// The app shell: header with what hosts the UI, and the current screen.
import { useEffect, useState } from 'react';
import type { AppInfo } from '../../shared/api';
import type { ImagerErrorData } from '../../shared/errors';
import { api } from './api/client';

export function App() {
  const [info, setInfo] = useState<AppInfo | undefined>();
  const [error, setError] = useState<ImagerErrorData | undefined>();

  useEffect(() => {
    api.appInfo().then(setInfo, (reason: ImagerErrorData) => setError(reason));
  }, []);

  return (
    <div className="shell">
      <header className="app-header">
        <h1>Xen Pi Imager</h1>
        {info && (
          <span className="badge" data-testid="transport">
            {info.transport === 'browser' ? 'Browser mode' : 'Desktop'} · v{info.version}
          </span>
        )}
      </header>
      <main className="content" aria-live="polite">
        {error && (
          <div role="alert" className="error-box">
            <p>{error.message}</p>
            {error.hint && <p>{error.hint}</p>}
          </div>
        )}
        {!info && !error && <p>Connecting to the app…</p>}
        {info && <Welcome info={info} />}
      </main>
    </div>
  );
}

function Welcome({ info }: { info: AppInfo }) {
  return (
    <section aria-labelledby="welcome-title" className="card">
      <h2 id="welcome-title">From a blank SD card to Xen on a Raspberry Pi 4</h2>
      <p>
        This app writes the card, generates the U-Boot boot scripts for Xen, serves them over TFTP, and can try the
        whole chain in QEMU first.
      </p>
      <dl className="facts" data-testid="app-info">
        <dt>Running on</dt>
        <dd>
          {info.platform} ({info.arch})
        </dd>
        <dt>Writing SD cards</dt>
        <dd className={info.canWriteDrives ? 'ok' : 'warn'}>{info.driveWriteNote}</dd>
        <dt>Try in QEMU</dt>
        <dd className={info.qemuAvailable ? 'ok' : 'warn'}>{info.qemuAvailable ? 'Available' : info.qemuNote}</dd>
        <dt>Profiles and logs</dt>
        <dd>
          <code>{info.userDataDir}</code>
        </dd>
      </dl>
    </section>
  );
}
