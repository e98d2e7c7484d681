// The app's own facts: who it is, where it runs, and what this machine can do.
import { z } from 'zod';
import { event, method } from './contract';

export interface AppInfo {
  name: string;
  productName: string;
  version: string;
  /** node's process.platform of the host (linux, darwin, win32). */
  platform: string;
  arch: string;
  /** 'electron' when the desktop app hosts the services, 'browser' for browser mode. */
  transport: 'electron' | 'browser';
  /** Whether this machine can write drives (root, or an elevation helper such as pkexec is present). */
  canWriteDrives: boolean;
  /** How drive writing would be elevated, or why it cannot be. */
  driveWriteNote: string;
  /** Whether qemu-system-aarch64 and QEMU's U-Boot are installed (for "Try in QEMU"). */
  qemuAvailable: boolean;
  qemuNote: string;
  /** Where profiles and logs live. */
  userDataDir: string;
  /** The user's home folder on the host: what a typed `~/…` means. */
  homeDir: string;
}

export const appMethods = {
  appInfo: method(z.tuple([])).returns<AppInfo>(),
  /** Opens an http(s) link in the system browser (the only external navigation the UI may cause). */
  openExternal: method(z.tuple([z.url({ protocol: /^https?$/ })])).returns<void>(),
};

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  source: string;
  message: string;
  time: number;
}

export const appEvents = {
  'app:log': event<LogLine>(),
};
