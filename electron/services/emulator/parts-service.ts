// The parts domain behind the contract: Debian's Xen versions, and a whole Pi 4 card's parts fetched into the
// components folder (one fetch at a time, cancellable, progress pushed as events).
import type { PartsFetchResult, XenVersionOffer } from '../../../shared/api/parts';
import { ImagerError } from '../../../shared/errors';
import type { DomainService, ServiceHost } from '../host';
import { dataPaths, userDataDir } from '../../node/paths';
import { partsCacheRoot } from './debian-parts';
import { installRpi4Parts } from './install-parts';
import { availableXenVersions } from './rpi4-parts';

export type PartsService = DomainService<'partsXenVersions' | 'partsFetch' | 'partsCancel'>;

export function createPartsService(host: ServiceHost, options: { env?: NodeJS.ProcessEnv } = {}): PartsService {
  const env = options.env ?? process.env;
  const paths = dataPaths(host.userDataDir ?? userDataDir(env));
  let running: { jobId: number; controller: AbortController; done: Promise<unknown> } | undefined;
  let nextJob = 1;
  return {
    async partsXenVersions(): Promise<XenVersionOffer[]> {
      return availableXenVersions({ cacheDir: partsCacheRoot(env), env });
    },
    async partsFetch(request): Promise<PartsFetchResult> {
      if (running) {
        throw new ImagerError({
          code: 'BUSY',
          subject: `fetch ${running.jobId}`,
          message: 'The parts are already being fetched.',
          hint: 'Wait for it to finish or cancel it first.',
        });
      }
      const jobId = nextJob++;
      const controller = new AbortController();
      const done = installRpi4Parts({
        out: paths.components,
        xenVersion: request.xenVersion,
        ...(request.refresh && { refresh: true }),
        cacheDir: partsCacheRoot(env),
        signal: controller.signal,
        env,
        onProgress: (message) => host.emit('parts:progress', { jobId, message }),
      });
      running = { jobId, controller, done };
      try {
        const installed = await done;
        return { profile: installed.profile, files: installed.parts.parts, dir: installed.dir, qemuNote: installed.qemu.note };
      } finally {
        running = undefined;
      }
    },
    async partsCancel() {
      if (!running) return false;
      running.controller.abort();
      return true;
    },
    async dispose() {
      running?.controller.abort();
      await running?.done.catch(() => undefined);
    },
  };
}
