// The drives domain behind the contract: drive rows with safety statuses, attach/detach events, and flash jobs with progress.
import { randomUUID } from 'node:crypto';
import type { DriveRow } from '../../../shared/api/drives';
import { flashStartSchema } from '../../../shared/api/drives';
import type { FlashProgress } from '../../../shared/drives/flash';
import type { WriteConfirmations } from '../../../shared/drives/safety';
import { driveStatuses, isShownByDefault, type SafetyContext } from '../../../shared/drives/safety';
import type { DriveInfo } from '../../../shared/drives/types';
import { ImagerError, toErrorData } from '../../../shared/errors';
import { bootPartitionEdit, prepareBoot, readyBoot, resolveComponent } from '../boot-files/prepare';
import type { BootEdit } from '../../node/fat/boot-edit';
import { dataPaths, userDataDir } from '../../node/paths';
import type { DomainService, ServiceHost } from '../host';
import { runEditInPlace, runFlash } from './flash-runner';
import { checkImageFileTarget } from './image-file';
import { isUrl } from './source';
import { isFreshCard } from '../../../shared/boot/generate';
import { WriterClient } from './writer-client';

export function driveRows(drives: DriveInfo[], context: SafetyContext = {}, all = false): DriveRow[] {
  return drives
    .map((drive) => ({ ...drive, statuses: driveStatuses(drive, context, drives), hiddenByDefault: !isShownByDefault(drive) }))
    .filter((row) => all || !row.hiddenByDefault);
}

type ParsedFlashStart = ReturnType<typeof flashStartSchema.parse>;

/** The boot partition edit: the profile's files and config.txt rules, plus any extra files (same name wins). */
export function bootEditForRequest(request: ParsedFlashStart, componentsDir: string): BootEdit {
  let edit: BootEdit = request.profile ? bootPartitionEdit(readyBoot(prepareBoot(request.profile, componentsDir))) : { files: [] };
  if (request.compose) {
    const names = new Set(request.compose.bootFiles.map((f) => f.name));
    edit = { ...edit, files: [...edit.files.filter((f) => !names.has(f.name)), ...request.compose.bootFiles] };
    if (!request.profile) edit.configTxt = { consoleUart: request.compose.consoleUart, kernel: 'u-boot.bin' };
  }
  return edit;
}

/** The image files a write creates: the file targets and the saved copy. */
function imageFilesOf(request: ParsedFlashStart): string[] {
  return [...request.targets.flatMap((t) => (t.kind === 'file' ? [t.path] : [])), ...(request.saveAs ? [request.saveAs] : [])];
}

/** The base image: the request's source, else the profile's; undefined means a fresh card built from the boot files alone. */
export function baseImageForRequest(request: ParsedFlashStart, componentsDir: string): string | undefined {
  const given = request.source || request.profile?.baseImage;
  if (!given) {
    if ((request.profile && isFreshCard(request.profile)) || (!request.profile && request.compose)) return undefined;
    throw new ImagerError({
      code: 'INVALID_ARGUMENT',
      subject: 'source',
      message: 'No base image was chosen, and this board cannot start from a fresh card.',
      hint: 'Choose a base image (.img or .img.xz).',
    });
  }
  return isUrl(given) ? given : resolveComponent(componentsDir, given);
}

function confirmationsOf(request: ParsedFlashStart): WriteConfirmations {
  return {
    ...(request.systemDriveName && { systemDriveName: request.systemDriveName }),
    ...(request.confirmLargeDrive && { largeDrive: true }),
  };
}

export function createDrivesService(host: ServiceHost): DomainService<'drivesList' | 'flashStart' | 'flashCancel'> {
  const paths = dataPaths(host.userDataDir ?? userDataDir());
  const cacheDir = paths.cache;
  let scanner: Promise<WriterClient> | undefined;
  const jobs = new Map<string, AbortController>();

  // The scanner runs unprivileged: listing drives needs no root; writing starts its own (elevated) writer.
  function startScanner(): Promise<WriterClient> {
    scanner ??= WriterClient.start().then(async (client) => {
      client.on('drives', (change) => host.emit('drives:changed', { ...change, drives: driveRows(change.drives) }));
      client.on('exit', () => (scanner = undefined));
      await client.watch(true);
      return client;
    });
    scanner.catch(() => (scanner = undefined));
    return scanner;
  }

  async function flashJob(jobId: string, request: ParsedFlashStart, edit: BootEdit, controller: AbortController): Promise<void> {
    const onProgress = (progress: FlashProgress) => host.emit('flash:progress', progress);
    try {
      if (request.editInPlace) {
        const edited = await runEditInPlace({
          jobId,
          targets: request.targets,
          edit,
          confirmations: confirmationsOf(request),
          signal: controller.signal,
          onProgress,
        });
        host.emit('flash:done', { jobId, ok: edited.every((t) => t.ok), edited });
        return;
      }
      const source = baseImageForRequest(request, paths.components);
      const outcome = await runFlash({
        jobId,
        ...(source !== undefined && { source }),
        ...(request.sha256 && { sha256: request.sha256 }),
        targets: request.targets,
        edit,
        verify: request.verify,
        eject: request.eject,
        mode: request.onlyUsed ? 'used' : 'full',
        confirmations: confirmationsOf(request),
        ...(request.saveAs && { saveAs: request.saveAs }),
        cacheDir,
        signal: controller.signal,
        onProgress,
      });
      const ok = outcome.flash ? outcome.flash.targets.every((t) => t.ok) : true;
      host.emit('flash:done', {
        jobId,
        ok,
        ...(outcome.flash && { result: outcome.flash }),
        configTxtDiff: outcome.composed.configTxtDiff,
        sourceSha256: outcome.composed.sourceSha256,
        bootFiles: outcome.composed.written,
        ...(outcome.composed.replaced.length > 0 && { replacedFiles: outcome.composed.replaced }),
        imageBytes: outcome.composed.imageBytes,
        ...(outcome.composed.freshCardMiB && { freshCardMiB: outcome.composed.freshCardMiB }),
        ...(outcome.savedAs && { savedAs: outcome.savedAs, savedVerified: Boolean(outcome.savedVerified) }),
      });
    } catch (error) {
      host.emit('flash:done', { jobId, ok: false, error: toErrorData(error) });
    } finally {
      jobs.delete(jobId);
    }
  }

  return {
    async drivesList(options = {}) {
      const client = await startScanner();
      const drives = await client.scan();
      const context: SafetyContext = {
        ...(options.imageSize !== undefined && { imageSize: options.imageSize }),
        ...(options.sourcePath && { sourcePath: options.sourcePath }),
      };
      return driveRows(drives, context, options.all);
    },
    async flashStart(request) {
      if (jobs.size > 0) {
        throw new ImagerError({ code: 'BUSY', message: 'A write is already running.', hint: 'Wait for it to finish or cancel it.' });
      }
      const parsed = flashStartSchema.parse(request);
      // Profile problems (missing components, bad addresses) and image files that need a yes are answered right away, before a job exists.
      if (!parsed.editInPlace) {
        baseImageForRequest(parsed, paths.components);
        for (const file of imageFilesOf(parsed)) checkImageFileTarget(file, parsed.overwrite);
      }
      const edit = bootEditForRequest(parsed, paths.components);
      const jobId = randomUUID();
      const controller = new AbortController();
      jobs.set(jobId, controller);
      void flashJob(jobId, parsed, edit, controller);
      return { jobId };
    },
    async flashCancel(jobId) {
      const job = jobs.get(jobId);
      job?.abort();
      return { cancelled: Boolean(job) };
    },
    async dispose() {
      for (const job of jobs.values()) job.abort();
      const client = await scanner?.catch(() => undefined);
      await client?.close();
    },
  };
}
