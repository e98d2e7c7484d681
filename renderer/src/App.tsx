// The app shell: header with what hosts the UI, and the wizard.
import { useEffect, useState } from 'react';
import type { AppInfo } from '../../shared/api';
import type { ImagerErrorData } from '../../shared/errors';
import { appInfo } from './actions';
import { AppInfoContext } from './components/app-info';
import { ErrorNotice } from './components/ErrorNotice';
import { ConsoleDock } from './console/ConsoleDock';
import { Wizard } from './wizard/Wizard';

export function App() {
  const [info, setInfo] = useState<AppInfo | undefined>();
  const [error, setError] = useState<ImagerErrorData | undefined>();

  useEffect(() => {
    appInfo().then(setInfo, (reason: ImagerErrorData) => setError(reason));
  }, []);

  return (
    <div className="shell">
      <header className="app-header">
        <h1>Xen Pi Imager</h1>
        {info && (
          <span className="badge" data-testid="transport" title={`Profiles and logs: ${info.userDataDir}`}>
            {info.transport === 'browser' ? 'Browser mode' : 'Desktop'} · v{info.version}
          </span>
        )}
      </header>
      <main className="content">
        {error && <ErrorNotice error={error} />}
        {!info && !error && <p>Connecting to the app…</p>}
        {info && (
          <AppInfoContext.Provider value={info}>
            <ConsoleDock />
            <Wizard info={info} />
          </AppInfoContext.Provider>
        )}
      </main>
    </div>
  );
}
