// Where the serial console lives in the app: above the wizard once opened, kept mounted (hidden) so an open port keeps
// its screen and timeline while the user moves through the steps. The terminal's code loads only when first opened.
import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { useConsoleRequest } from './open-console';

const SerialConsole = lazy(() => import('./SerialConsole'));

export function ConsoleDock() {
  const request = useConsoleRequest();
  const [opened, setOpened] = useState(false);
  const section = useRef<HTMLElement>(null);
  useEffect(() => {
    if (!request) return;
    setOpened(true);
    section.current?.scrollIntoView({ block: 'start' });
  }, [request]);
  if (!opened && !request) return null;
  return (
    <section ref={section} className="card serial-console" aria-labelledby="serial-title" hidden={!request} data-testid="serial-console">
      <Suspense fallback={<p className="field-hint">Loading the console…</p>}>
        <SerialConsole baud={request?.baud} />
      </Suspense>
    </section>
  );
}
