// The files domain behind the contract: the native dialog where the host has one (Electron), and folder listings for
// the page's own file browser (browser mode).
import type { PickRequest } from '../../../shared/api/files';
import { ImagerError } from '../../../shared/errors';
import type { DomainService, ServiceHost } from '../host';
import { browsePlaces, listFolder } from './folders';

export function createFilesService(host: ServiceHost, componentsDir: string): DomainService<'filesPick' | 'filesList'> {
  return {
    async filesPick(request: PickRequest) {
      if (!host.pickPath) {
        throw new ImagerError({
          code: 'NOT_AVAILABLE',
          message: 'This window has no native file dialog (browser mode).',
          hint: 'Use the app’s own file browser (Browse…), or type the path.',
        });
      }
      return host.pickPath(request);
    },
    async filesList(folder) {
      return listFolder(folder, await browsePlaces(componentsDir));
    },
  };
}
