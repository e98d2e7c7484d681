// Whether the serial console panel is shown, and with which baud rate: any step can open it with one call.
import { useSyncExternalStore } from 'react';

export interface ConsoleRequest {
  /** The profile's console baud rate, when the step knows it. */
  baud?: number;
  /** Bumped on every open, so the panel scrolls into view again. */
  serial: number;
}

let request: ConsoleRequest | undefined;
const listeners = new Set<() => void>();

function publish(next: ConsoleRequest | undefined): void {
  request = next;
  for (const listener of listeners) listener();
}

/** Shows the serial console (from the Start, Network and Write steps and the QEMU panel). */
export function openConsole(options: { baud?: number } = {}): void {
  publish({ ...(options.baud !== undefined && { baud: options.baud }), serial: (request?.serial ?? 0) + 1 });
}

/** Hides the panel; an open port stays open and keeps its timeline. */
export function hideConsole(): void {
  if (request) publish(undefined);
}

export function useConsoleRequest(): ConsoleRequest | undefined {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => request,
  );
}
