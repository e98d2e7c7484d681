// The way into the serial console from a step: one button that shows the console panel at the profile's baud rate.
import type { ReactNode } from 'react';
import { openConsole } from './open-console';

export function OpenConsoleButton({ baud, testId, children }: { baud?: number; testId: string; children?: ReactNode }) {
  return (
    <button type="button" className="secondary" onClick={() => openConsole(baud === undefined ? {} : { baud })} data-testid={testId}>
      {children ?? 'Open the serial console'}
    </button>
  );
}
