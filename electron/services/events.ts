// A tiny hub between the services (which emit events) and the transports (which forward them to every UI).
import type { EmitImagerEvent, EventName, ImagerEvents } from '../../shared/api';

export type EventListener = (name: EventName, payload: ImagerEvents[EventName]) => void;

export interface EventHub {
  emit: EmitImagerEvent;
  subscribe(listener: EventListener): () => void;
}

export function createEventHub(): EventHub {
  const listeners = new Set<EventListener>();
  return {
    emit(name, payload) {
      for (const listener of listeners) {
        try {
          listener(name, payload as ImagerEvents[EventName]);
        } catch (error) {
          // one broken transport must not stop the others
          console.error(`event listener failed for ${name}:`, error);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
