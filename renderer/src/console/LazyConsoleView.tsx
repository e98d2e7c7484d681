// The console view for panels that show it only after an action (the QEMU trial): the terminal's code, the app's
// largest part, is fetched when first shown instead of with the app.
import { lazy, Suspense } from 'react';
import type { ConsoleViewProps } from './ConsoleView';

const ConsoleView = lazy(() => import('./ConsoleView').then((module) => ({ default: module.ConsoleView })));

export function LazyConsoleView(props: ConsoleViewProps) {
  return (
    <Suspense fallback={<p className="field-hint">Loading the terminal…</p>}>
      <ConsoleView {...props} />
    </Suspense>
  );
}
