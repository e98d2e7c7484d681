// The single typed contract between the UI and the host: every method and event, from every domain.
import type { ApiOf, ClientOf, EmitEvent, EventPayloads } from './contract';
import type { Reply } from './reply';
import { appEvents, appMethods } from './app';
import { profileEvents, profileMethods } from './profiles';
import { drivesEvents, drivesMethods } from './drives';
import { bootMethods } from './boot';
import { tftpEvents, tftpMethods } from './tftp';
import { emulatorEvents, emulatorMethods } from './emulator';
import { partsEvents, partsMethods } from './parts';
import { serialEvents, serialMethods } from './serial';
import { filesMethods } from './files';

export * from './contract';
export type { Reply } from './reply';
export type { AppInfo, LogLine } from './app';
export type { LoadedProfile, ProfileSummary } from './profiles';

/** Every request the UI can make. Adding a domain: spread its methods here. */
export const methods = {
  ...appMethods,
  ...profileMethods,
  ...drivesMethods,
  ...bootMethods,
  ...tftpMethods,
  ...emulatorMethods,
  ...partsMethods,
  ...serialMethods,
  ...filesMethods,
};

/** Every event the host can push. */
export const events = {
  ...appEvents,
  ...profileEvents,
  ...drivesEvents,
  ...tftpEvents,
  ...emulatorEvents,
  ...partsEvents,
  ...serialEvents,
};

export type Methods = typeof methods;
export type Events = typeof events;
export type MethodName = keyof Methods & string;
export type EventName = keyof Events & string;

/** What a host implements (the services) and what the UI calls. */
export type ImagerApi = ApiOf<Methods>;
export type ImagerEvents = EventPayloads<Events>;
export type EmitImagerEvent = EmitEvent<Events>;
/** What `window.imager` (Electron) and the WebSocket client (browser mode) both provide. */
export type ImagerClient = ClientOf<Methods, Events>;

/** What Electron's preload exposes as window.imager: each method resolves to a reply, never rejects with lost detail. */
export type ImagerBridge = { [K in MethodName]: (...args: unknown[]) => Promise<Reply> } & Pick<ImagerClient, 'on'> & {
    /** The path of a file dropped on the page (Electron's webUtils.getPathForFile); a browser never tells it. */
    pathForFile?: (file: object) => string;
  };

export const methodNames = Object.keys(methods) as MethodName[];
export const eventNames = Object.keys(events) as EventName[];

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(events, name);
}
