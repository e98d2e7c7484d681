// Runs the real Electron main module against a stand-in for the `electron` package (the binary cannot exist here)
// and checks the security baseline it sets up: window options, navigation, permissions, CSP and IPC sender checks.
import { beforeAll, describe, expect, it, vi } from 'vitest';

type Handler = (...args: unknown[]) => unknown;

const recorded = vi.hoisted(() => ({
  windows: [] as {
    options: Record<string, unknown>;
    contents: { id: number; handlers: Map<string, Handler>; openHandler?: Handler; mainFrame: unknown };
  }[],
  ipcHandlers: new Map<string, Handler>(),
  permissionRequest: undefined as Handler | undefined,
  permissionCheck: undefined as Handler | undefined,
  headers: undefined as Handler | undefined,
  appHandlers: new Map<string, Handler>(),
  sandboxEnabled: false,
  opened: [] as string[],
  dialogs: [] as { kind: string; options: Record<string, unknown> }[],
}));

vi.mock('electron', () => {
  let nextId = 1;
  class BrowserWindow {
    webContents: {
      id: number;
      handlers: Map<string, Handler>;
      openHandler?: Handler;
      mainFrame: unknown;
      on: Handler;
      setWindowOpenHandler: Handler;
      send: Handler;
    };
    constructor(options: Record<string, unknown>) {
      const contents = {
        id: nextId++,
        handlers: new Map<string, Handler>(),
        mainFrame: { url: '' },
        openHandler: undefined as Handler | undefined,
        on(event: unknown, handler: unknown) {
          contents.handlers.set(event as string, handler as Handler);
        },
        setWindowOpenHandler(handler: unknown) {
          contents.openHandler = handler as Handler;
        },
        send() {},
      };
      this.webContents = contents;
      recorded.windows.push({ options, contents });
    }
    on() {}
    once() {}
    loadFile(file: string) {
      (this.webContents.mainFrame as { url: string }).url = new URL(`file://${file}`).href;
      return Promise.resolve();
    }
    static getAllWindows() {
      return [];
    }
    static getFocusedWindow() {
      return null;
    }
  }
  const app = {
    enableSandbox: () => (recorded.sandboxEnabled = true),
    requestSingleInstanceLock: () => true,
    getPath: () => '/tmp/xpi-main-test',
    whenReady: () => Promise.resolve(),
    on: (event: string, handler: Handler) => recorded.appHandlers.set(event, handler),
    quit: () => undefined,
  };
  const session = {
    defaultSession: {
      setPermissionRequestHandler: (handler: Handler) => (recorded.permissionRequest = handler),
      setPermissionCheckHandler: (handler: Handler) => (recorded.permissionCheck = handler),
      webRequest: { onHeadersReceived: (handler: Handler) => (recorded.headers = handler) },
    },
  };
  const ipcMain = { handle: (channel: string, handler: Handler) => recorded.ipcHandlers.set(channel, handler) };
  const shell = { openExternal: async (url: string) => void recorded.opened.push(url) };
  const Menu = { setApplicationMenu: () => undefined };
  // the user picks /home/me/parts/xen in the open dialog and cancels the save dialog
  const dialog = {
    showOpenDialog: async (...args: unknown[]) => (
      recorded.dialogs.push({ kind: 'open', options: args.at(-1) as Record<string, unknown> }),
      { canceled: false, filePaths: ['/home/me/parts/xen'] }
    ),
    showSaveDialog: async (...args: unknown[]) => (
      recorded.dialogs.push({ kind: 'save', options: args.at(-1) as Record<string, unknown> }),
      { canceled: true, filePath: '' }
    ),
  };
  return {
    app,
    BrowserWindow,
    session,
    ipcMain,
    shell,
    Menu,
    dialog,
    default: { app, BrowserWindow, session, ipcMain, shell, Menu, dialog },
  };
});

describe('Electron main process', () => {
  beforeAll(async () => {
    await import('../../electron/main/index');
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it('creates one window that is isolated, sandboxed and has no Node', () => {
    expect(recorded.sandboxEnabled).toBe(true);
    expect(recorded.windows).toHaveLength(1);
    const prefs = recorded.windows[0]!.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
    });
    expect(String(prefs.preload)).toMatch(/preload[/\\]index\.cjs$/);
    expect(recorded.windows[0]!.options.minWidth).toBeLessThanOrEqual(1024);
  });

  it('denies every permission request and check', () => {
    let granted: boolean | undefined;
    recorded.permissionRequest!({}, 'media', (allow: boolean) => (granted = allow));
    expect(granted).toBe(false);
    expect(recorded.permissionCheck!({}, 'geolocation')).toBe(false);
  });

  it('sets a strict Content-Security-Policy on every response', () => {
    let headers: Record<string, string[]> = {};
    recorded.headers!(
      { responseHeaders: {} },
      (result: { responseHeaders: Record<string, string[]> }) => (headers = result.responseHeaders),
    );
    expect(headers['Content-Security-Policy']?.[0]).toMatch(/default-src 'none'.*script-src 'self'/);
  });

  it('blocks new windows and navigation, sending web links to the system browser', () => {
    const contents = recorded.windows[0]!.contents;
    expect(contents.openHandler!({ url: 'https://xenproject.org/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(recorded.opened).toEqual(['https://xenproject.org/']);
    let prevented = false;
    contents.handlers.get('will-navigate')!({ preventDefault: () => (prevented = true) }, 'https://evil.example/');
    expect(prevented).toBe(true);
  });

  it('answers IPC only from the trusted window and validates the call', async () => {
    const handler = recorded.ipcHandlers.get('imager:invoke')!;
    const contents = recorded.windows[0]!.contents;
    const trusted = { sender: { id: contents.id, mainFrame: contents.mainFrame }, senderFrame: contents.mainFrame };
    await expect(handler(trusted, 'appInfo', [])).resolves.toMatchObject({ ok: true, value: { transport: 'electron' } });
    await expect(handler(trusted, 'openExternal', ['file:///etc/passwd'])).resolves.toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    const foreignFrame = { url: 'https://evil.example/' };
    const stranger = { sender: { id: 999, mainFrame: foreignFrame }, senderFrame: foreignFrame };
    await expect(handler(stranger, 'appInfo', [])).resolves.toMatchObject({ ok: false, error: { code: 'PERMISSION_DENIED' } });
    const subFrame = { sender: { id: contents.id, mainFrame: contents.mainFrame }, senderFrame: { url: 'file:///other.html' } };
    await expect(handler(subFrame, 'appInfo', [])).resolves.toMatchObject({ ok: false, error: { code: 'PERMISSION_DENIED' } });
  });

  it('answers a file field’s Browse with the native dialog, open or save, and null when cancelled', async () => {
    const handler = recorded.ipcHandlers.get('imager:invoke')!;
    const contents = recorded.windows[0]!.contents;
    const trusted = { sender: { id: contents.id, mainFrame: contents.mainFrame }, senderFrame: contents.mainFrame };
    const picked = await handler(trusted, 'filesPick', [
      { want: 'file', title: 'Xen hypervisor', extensions: ['gz'], start: '/home/me/parts' },
    ]);
    expect(picked).toEqual({ ok: true, value: '/home/me/parts/xen' });
    expect(recorded.dialogs.at(-1)).toMatchObject({
      kind: 'open',
      options: { title: 'Xen hypervisor', defaultPath: '/home/me/parts', properties: ['openFile', 'showHiddenFiles'] },
    });
    await expect(handler(trusted, 'filesPick', [{ want: 'folder', title: 'Export folder' }])).resolves.toMatchObject({ ok: true });
    expect(recorded.dialogs.at(-1)?.options.properties).toEqual(['openDirectory', 'showHiddenFiles']);
    await expect(handler(trusted, 'filesPick', [{ want: 'new-file', title: 'Image file' }])).resolves.toEqual({ ok: true, value: null });
    expect(recorded.dialogs.at(-1)?.kind).toBe('save');
    await expect(handler(trusted, 'filesPick', [{ want: 'anything', title: 'x' }])).resolves.toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
  });
});
