// Electron main: app lifecycle, the one window, the security baseline, and the contract over IPC.
import { app, BrowserWindow, dialog, ipcMain, Menu, session, shell, type IpcMainInvokeEvent } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dispatchCall } from '../../shared/api/dispatch';
import type { PickRequest } from '../../shared/api/files';
import { CONTENT_SECURITY_POLICY } from '../../shared/api/wire';
import { createServices } from '../services';
import { createEventHub } from '../services/events';
import { INVOKE_CHANNEL, EVENT_CHANNEL } from '../preload/channels';
import { isAppUrl, isExternalLinkAllowed } from './navigation';

const here = path.dirname(fileURLToPath(import.meta.url));
const preloadPath = path.join(here, '..', 'preload', 'index.cjs');
const pagePath = path.join(here, '..', 'renderer', 'index.html');

app.enableSandbox();
if (!app.requestSingleInstanceLock()) app.quit();

/** Profile files passed on the command line (a double-click on Linux and Windows starts the app with the path). */
function profileFilesIn(argv: string[]): string[] {
  return argv.slice(app.isPackaged ? 1 : 2).filter((arg) => !arg.startsWith('-') && /\.(xenpi|json)$/i.test(arg));
}

const events = createEventHub();
const services = createServices({
  transport: 'electron',
  emit: events.emit,
  openExternal: (url) => shell.openExternal(url),
  userDataDir: app.getPath('userData'),
  pickPath,
});

/** The native open or save dialog over the app's window, opening where the field points; null when cancelled. */
async function pickPath(request: PickRequest): Promise<string | null> {
  const parent = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
  const filters = request.extensions?.length
    ? [
        { name: 'Suggested', extensions: request.extensions },
        { name: 'All files', extensions: ['*'] },
      ]
    : [];
  const defaultPath = request.start?.trim() || app.getPath('home');
  if (request.want === 'new-file') {
    const options = { title: request.title, defaultPath, filters };
    const result = parent ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options);
    return result.canceled || !result.filePath ? null : result.filePath;
  }
  const options = {
    title: request.title,
    defaultPath,
    filters,
    properties: [request.want === 'folder' ? ('openDirectory' as const) : ('openFile' as const), 'showHiddenFiles' as const],
  };
  const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
  return result.canceled ? null : (result.filePaths[0] ?? null);
}
const trustedWebContents = new Set<number>();

function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return trustedWebContents.has(event.sender.id) && frame !== null && frame === event.sender.mainFrame && isAppUrl(frame.url, pageUrl());
}

function pageUrl(): string {
  return new URL(`file://${pagePath}`).href;
}

function createWindow(): void {
  // The security baseline, written out where the window is made so reviewers and scanners see it.
  const win = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 1024,
    minHeight: 700,
    title: 'Xen Pi Imager',
    show: false,
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      // middle-click would otherwise try to open links in new windows
      disableBlinkFeatures: 'Auxclick',
    },
  });
  const id = win.webContents.id;
  trustedWebContents.add(id);
  win.on('closed', () => trustedWebContents.delete(id));
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (isExternalLinkAllowed(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, pageUrl())) event.preventDefault();
  });
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  win.once('ready-to-show', () => win.show());
  void win.loadFile(pagePath);
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, pageUrl())) event.preventDefault();
  });
});

app.whenReady().then(() => {
  Menu.setApplicationMenu(null);
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });

  ipcMain.handle(INVOKE_CHANNEL, async (event, method: unknown, args: unknown) => {
    if (!isTrustedSender(event)) {
      return { ok: false, error: { code: 'PERMISSION_DENIED', message: 'Request from an untrusted page was refused.' } };
    }
    return dispatchCall(services, method, args);
  });
  events.subscribe((name, payload) => {
    for (const win of BrowserWindow.getAllWindows()) {
      if (trustedWebContents.has(win.webContents.id)) win.webContents.send(EVENT_CHANNEL, name, payload);
    }
  });

  createWindow();
  for (const file of profileFilesIn(process.argv)) void openProfileFile(file);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

function openProfileFile(file: string): Promise<void> {
  return services.openProfileFile(path.resolve(file)).then(
    () => undefined,
    (error: unknown) => console.error(`Could not open the profile ${file}:`, error),
  );
}

// a second launch (double-click while running) hands its files to this instance
app.on('second-instance', (_event, argv, workingDirectory) => {
  for (const file of profileFilesIn(argv)) void openProfileFile(path.resolve(workingDirectory, file));
  const [win] = BrowserWindow.getAllWindows();
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

// macOS delivers double-clicked files as events
app.on('open-file', (event, file) => {
  event.preventDefault();
  void app.whenReady().then(() => openProfileFile(file));
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('will-quit', () => {
  void services.dispose();
});
