// Preload: exposes exactly the contract as window.imager (one function per method, plus `on` for events), and the path
// of a file dropped on the page (the sandboxed page cannot learn it), nothing else.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { eventNames, isEventName, methodNames, type Reply } from '../../shared/api';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from './channels';

type Listener = (payload: unknown) => void;
const listeners = new Map<string, Set<Listener>>(eventNames.map((name) => [name, new Set<Listener>()]));

ipcRenderer.on(EVENT_CHANNEL, (_event: IpcRendererEvent, name: unknown, payload: unknown) => {
  if (!isEventName(name)) return;
  for (const listener of listeners.get(name) ?? []) listener(payload);
});

const bridge: Record<string, unknown> = {
  on(name: unknown, listener: unknown) {
    if (!isEventName(name) || typeof listener !== 'function') throw new Error('window.imager.on(name, listener): unknown event');
    const set = listeners.get(name)!;
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  },
  pathForFile(file: unknown): string {
    // only a real File from a drop or an <input type=file> has a path; anything else is no path at all
    return file instanceof File ? webUtils.getPathForFile(file) : '';
  },
};
for (const method of methodNames) {
  bridge[method] = (...args: unknown[]): Promise<Reply> => ipcRenderer.invoke(INVOKE_CHANNEL, method, args);
}

contextBridge.exposeInMainWorld('imager', bridge);
