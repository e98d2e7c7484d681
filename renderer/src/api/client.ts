// The UI's one way to the host: window.imager in Electron, a WebSocket in browser mode; same contract either way.
import {
  eventNames,
  methodNames,
  type EventName,
  type ImagerBridge,
  type ImagerClient,
  type ImagerEvents,
  type MethodName,
} from '../../../shared/api';
import { fromErrorData, ImagerError } from '../../../shared/errors';
import { WS_PATH, type ClientMessage, type ServerMessage } from '../../../shared/api/wire';

declare global {
  interface Window {
    /** Exposed by Electron's preload: the contract's methods (returning replies) and event subscription. */
    imager?: ImagerBridge;
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (error: unknown) => void };

/** Builds the browser-mode client: one WebSocket, calls matched to replies by id, events fanned out. */
export function createWebSocketClient(url: string): ImagerClient {
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let nextId = 1;
  let socket: Promise<WebSocket> | undefined;

  const connect = (): Promise<WebSocket> => {
    socket ??= new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(ws);
      ws.onerror = () =>
        reject(
          new ImagerError({
            code: 'NOT_AVAILABLE',
            message: 'The app could not reach its server.',
            hint: 'Check that `npm start` (or `xen-pi-imager ui`) is still running, then reload this page.',
          }),
        );
      ws.onclose = () => {
        socket = undefined;
        for (const [id, call] of pending) {
          pending.delete(id);
          call.reject(
            new ImagerError({
              code: 'NOT_AVAILABLE',
              message: 'The connection to the app closed.',
              hint: 'Reload the page once the app runs again.',
            }),
          );
        }
      };
      ws.onmessage = (message) => {
        const data = JSON.parse(String(message.data)) as ServerMessage;
        if (data.type === 'event') {
          for (const listener of listeners.get(data.name) ?? []) listener(data.payload);
          return;
        }
        const call = pending.get(data.id);
        if (!call) return;
        pending.delete(data.id);
        if (data.ok) call.resolve(data.value);
        else call.reject(fromErrorData(data.error));
      };
    });
    return socket;
  };

  const client: Record<string, unknown> = {
    on(name: EventName, listener: (payload: unknown) => void) {
      if (!eventNames.includes(name)) throw new Error(`unknown event ${name}`);
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener);
      void connect().catch(() => undefined);
      return () => set.delete(listener);
    },
  };
  for (const method of methodNames) {
    client[method] = async (...args: unknown[]) => {
      const ws = await connect();
      const id = nextId++;
      // JSON has no undefined: a trailing optional argument left out must not arrive as null
      const sent = [...args];
      while (sent.length > 0 && sent[sent.length - 1] === undefined) sent.pop();
      const message: ClientMessage = { type: 'call', id, method, args: sent };
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify(message));
      });
    };
  }
  return client as ImagerClient;
}

/** Electron's bridge returns replies (errors cannot cross contextBridge intact); unwrap them into values or ImagerErrors. */
function wrapElectronClient(bridge: ImagerBridge): ImagerClient {
  const client: Record<string, unknown> = { on: bridge.on };
  for (const method of methodNames) {
    client[method] = async (...args: unknown[]) => {
      const reply = await bridge[method](...args);
      if (reply.ok) return reply.value;
      throw fromErrorData(reply.error);
    };
  }
  return client as ImagerClient;
}

function createClient(): ImagerClient {
  if (window.imager) return wrapElectronClient(window.imager);
  const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createWebSocketClient(`${protocol}//${location.host}${WS_PATH}`);
}

export const api: ImagerClient = createClient();

/** Whether the host shows native file dialogs (the desktop app); browser mode browses host folders in the page. */
export const hasNativeDialogs = window.imager !== undefined;

/** The path of a dropped file: Electron's preload knows it; a browser never tells a page where a file lives. */
export function droppedFilePath(file: File): string | undefined {
  return window.imager?.pathForFile?.(file) || undefined;
}
export type { EventName, ImagerEvents, MethodName };
