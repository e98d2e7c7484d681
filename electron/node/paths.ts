// Where the app keeps its data, the same folder Electron's app.getPath('userData') uses, so CLI, browser mode and app agree.
import os from 'node:os';
import path from 'node:path';

export const PRODUCT_NAME = 'Xen Pi Imager';

/** The per-user data folder. XEN_PI_IMAGER_HOME overrides it (tests, portable use). */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.XEN_PI_IMAGER_HOME) return path.resolve(env.XEN_PI_IMAGER_HOME);
  const home = os.homedir();
  switch (platform) {
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', PRODUCT_NAME);
    case 'win32':
      return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
    default:
      return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), PRODUCT_NAME);
  }
}

export const dataPaths = (root: string) => ({
  root,
  profiles: path.join(root, 'profiles'),
  logs: path.join(root, 'logs'),
  cache: path.join(root, 'cache'),
  /** Relative component paths in profiles are looked up here. */
  components: path.join(root, 'components'),
});
