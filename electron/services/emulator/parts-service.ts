// The parts domain behind the contract: Debian's Xen versions, and a whole Pi 4 card's parts fetched into the
// components folder (one fetch at a time, cancellable, progress pushed as events).
import type { PartsFetchResult, XenVersionOffer } from '../../../shared/api/parts';
import { ImagerError } from '../../../shared/errors';
import type { DomainService, ServiceHost } from '../host';
import { dataPaths, userDataDir } from '../paths';
import { partsCacheRoot } from './debian-parts';
import { installRpi4Parts } from './install-parts';
import { availableXenVersions } from './rpi4-parts';

export type PartsService = DomainService<'partsXenVersions' | 'partsFetch' | 'partsCancel'>;

/** apt's own words for an unreachable mirror, turned into the sentence a user needs. */
function offlineAware(error: unknown): unknown {
  const message = (error as Error).message ?? '';
  if (error instanceof ImagerError && error.code === 'DOWNLOAD_FAILED' && /Temporary failure resolving|Could not resolve|Failed to fetch|Unable to connect|Network is unreachable|Connection failed/i.test(message)) {
    return new ImagerError({
      code: 'OFFLINE',
      subject: error.subject,
      message: 'Debian’s package mirror cannot be reached: this computer seems to be offline.',
      hint: 'Connect to the network and try again; parts already fetched stay in the cache and need no network.',
      details: { apt: message },
    });
  }
  return error;
}

export function createPartsService(host: ServiceHost, options: { env?: NodeJS.ProcessEnv } = {}): PartsService {
  const env = options.env ?? process.env;
  const paths = dataPaths(host.userDataDir ?? userDataDir(env));
  let running: { jobId: number; controller: AbortController; done: Promise<unknown> } | undefined;
  let nextJob = 1;
  return {
    async partsXenVersions(): Promise<XenVersionOffer[]> {
      try {
        return await availableXenVersions({ cacheDir: partsCacheRoot(env), env });
      } catch (error) {
        throw offlineAware(error);
      }
    },
    async partsFetch(request): Promise<PartsFetchResult> {
      if (running) {
        throw new ImagerError({ code: 'BUSY', subject: `fetch ${running.jobId}`, message: 'The parts are already being fetched.', hint: 'Wait for it to finish or cancel it first.' });
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
      } catch (error) {
        throw offlineAware(error);
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
