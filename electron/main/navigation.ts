// Navigation rules of the main window, kept free of Electron imports so unit tests check them under Node.

/** Only http(s) links leave the app, and only to the system browser. */
export function isExternalLinkAllowed(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/** The window may only ever show the app's own page; every other navigation is blocked. */
export function isAppUrl(url: string, appPageUrl: string): boolean {
  try {
    const target = new URL(url);
    const app = new URL(appPageUrl);
    return target.protocol === app.protocol && target.host === app.host && target.pathname === app.pathname;
  } catch {
    return false;
  }
}
