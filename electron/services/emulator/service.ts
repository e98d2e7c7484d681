// The emulator domain behind the contract: one trial boot at a time, its console and milestones pushed as events.
import fs from 'node:fs';
import path from 'node:path';
import type { EmulatorOptions, EmulatorResult, EmulatorStatus } from '../../../shared/api/emulator';
import { emulatorOptionsSchema } from '../../../shared/api/emulator';
import { ImagerError } from '../../../shared/errors';
import type { Profile } from '../../../shared/profile/schema';
import { loadProfileFile } from '../profiles/service';
import { checkQemu } from '../../node/host-tools';
import type { DomainService, ServiceHost } from '../host';
import { dataPaths, userDataDir } from '../../node/paths';
import { runTrial, type TrialRequest } from './run';

export type EmulatorService = DomainService<'emulatorTry' | 'emulatorCancel' | 'emulatorStatus'>;

export interface EmulatorServiceOptions {
  env?: NodeJS.ProcessEnv;
  /** Only for tests of failure paths: U-Boot always asks port 69. */
  tftpPort?: number;
  /** The app's own TFTP server, when it runs (the trial names it instead of "another program"). */
  appTftpServer?: TrialRequest['appTftpServer'];
}

/** A profile object's relative paths are looked up in the components folder; a profile file's next to it (as `generate` does). */
function resolveProfile(profile: Profile | string): { profile: Profile; componentsBase?: string } {
  if (typeof profile !== 'string') return { profile };
  const file = path.resolve(profile);
  if (!fs.existsSync(file)) {
    throw new ImagerError({
      code: 'NOT_FOUND',
      subject: file,
      message: `There is no profile file at ${file}.`,
      hint: 'Check the path, or save the profile first.',
    });
  }
  return { profile: loadProfileFile(file), componentsBase: path.dirname(file) };
}

export function createEmulatorService(host: ServiceHost, serviceOptions: EmulatorServiceOptions = {}): EmulatorService {
  const env = serviceOptions.env ?? process.env;
  const paths = dataPaths(host.userDataDir ?? userDataDir(env));
  let running: { runId: number; controller: AbortController; done: Promise<unknown> } | undefined;
  let nextRunId = 1;

  async function tryProfile(input: Profile | string, rawOptions?: EmulatorOptions): Promise<EmulatorResult> {
    if (running) {
      throw new ImagerError({
        code: 'BUSY',
        subject: `trial ${running.runId}`,
        message: 'A trial boot is already running in the emulator.',
        hint: 'Wait for it to finish or cancel it first.',
      });
    }
    const options = emulatorOptionsSchema.parse(rawOptions ?? {});
    const { profile, componentsBase } = resolveProfile(input);
    const runId = nextRunId++;
    const controller = new AbortController();
    const request: TrialRequest = {
      profile,
      options,
      componentsDir: componentsBase ?? paths.components,
      cacheDir: env.XEN_PI_IMAGER_CACHE ? path.resolve(env.XEN_PI_IMAGER_CACHE) : paths.cache,
      logsDir: paths.logs,
      signal: controller.signal,
      env,
      ...(serviceOptions.tftpPort !== undefined && { tftpPort: serviceOptions.tftpPort }),
      ...(serviceOptions.appTftpServer && { appTftpServer: serviceOptions.appTftpServer }),
    };
    const done = runTrial(request, {
      onConsole: (text, timeMs) => host.emit('emulator:console', { runId, text, timeMs }),
      onMilestone: (milestone) => host.emit('emulator:milestone', { runId, milestone }),
      onProgress: (message) => host.emit('emulator:progress', { runId, message }),
      onTimeline: (entry) => host.emit('emulator:timeline', { runId, entry }),
      // the trial's server is the app's TFTP server too: the TFTP panel shows its transfers
      onTftp: (event) => host.emit('tftp:transfer', event),
    });
    running = { runId, controller, done };
    try {
      const result: EmulatorResult = { runId, ...(await done) };
      host.emit('emulator:done', result);
      return result;
    } finally {
      running = undefined;
    }
  }

  return {
    emulatorTry: tryProfile,
    async emulatorCancel() {
      if (!running) return false;
      running.controller.abort();
      return true;
    },
    async emulatorStatus(): Promise<EmulatorStatus> {
      const qemu = checkQemu();
      return { available: qemu.available, note: qemu.note, running: running !== undefined, ...(running && { runId: running.runId }) };
    },
    async dispose() {
      if (!running) return;
      running.controller.abort();
      await running.done.catch(() => undefined);
    },
  };
}
