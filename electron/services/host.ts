// What every domain service is given (the host: transport, events, links) and the shape each returns: its own module, so
// no service imports the composition root that imports every service.
import type { EmitImagerEvent, ImagerApi } from '../../shared/api';
import type { PickRequest } from '../../shared/api/files';

export interface ServiceHost {
  transport: 'electron' | 'browser';
  /** Pushes an event to every connected UI. */
  emit: EmitImagerEvent;
  /** Opens an http(s) link outside the app (Electron's shell, or the system browser). */
  openExternal: (url: string) => Promise<void>;
  userDataDir?: string;
  /** The native open/save dialog (Electron); absent in browser mode, where the page browses host folders instead. */
  pickPath?: (request: PickRequest) => Promise<string | null>;
}

/** One domain's part of the API, plus what it must stop when the app quits. */
export type DomainService<K extends keyof ImagerApi> = Pick<ImagerApi, K> & { dispose?: () => Promise<void> };
