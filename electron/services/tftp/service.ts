// The TFTP domain behind the contract: start/stop the built-in server on a root, its status, this machine's IPv4 addresses, live transfers.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LocalAddress, TftpStartOptions, TftpStatus, TftpTransferEvent } from '../../../shared/api/tftp';
import { tftpStartOptions } from '../../../shared/api/tftp';
import { ImagerError } from '../../../shared/errors';
import type { Profile } from '../../../shared/profile/schema';
import { componentPath, prepareBoot, readyBoot, warningsOf } from '../boot-files/prepare';
import type { DomainService, ServiceHost } from '../host';
import { createTftpServer, type TftpServer } from './server';

export type TftpService = DomainService<'tftpStart' | 'tftpStop' | 'tftpStatus' | 'localAddresses'>;

/** This machine's IPv4 addresses: real interfaces first, loopback last (the Pi needs a LAN address). */
export function localAddresses(): LocalAddress[] {
  const found: LocalAddress[] = [];
  for (const [name, entries] of Object.entries(os.networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family !== 'IPv4') continue;
      found.push({ interface: name, address: entry.address, netmask: entry.netmask, cidr: entry.cidr, internal: entry.internal });
    }
  }
  return found.sort((a, b) => Number(a.internal) - Number(b.internal));
}

async function checkRoot(root: string): Promise<string> {
  const resolved = path.resolve(root);
  const stats = await fs.stat(resolved).catch(() => undefined);
  if (!stats?.isDirectory()) {
    throw new ImagerError({
      code: 'NOT_FOUND',
      subject: resolved,
      message: `The TFTP root ${resolved} is not a folder.`,
      hint: 'Write the boot files to a TFTP folder first, or pick an existing folder.',
    });
  }
  return resolved;
}

export interface ProfileTftpFiles {
  /** Generated files (boot2.scr and its source), by the name the scripts fetch them. */
  files: Map<string, Uint8Array>;
  /** Components, by the name the scripts fetch them → the file on disk. */
  diskFiles: Map<string, string>;
  warnings: string[];
}

/**
 * The TFTP root of a TFTP-mode profile's boot bundle; throws INVALID_PROFILE (with every problem) or NOTHING_TO_SERVE.
 * `baseDir` resolves the profile's relative paths: the app's components folder for a profile from the
 * wizard, the profile file's own folder for a profile file (as `generate` and `try` read it).
 */
export function tftpFilesForProfile(profile: Profile, baseDir: string, env: NodeJS.ProcessEnv = process.env): ProfileTftpFiles {
  if (profile.boot.mode !== 'tftp') {
    throw new ImagerError({
      code: 'NOTHING_TO_SERVE',
      subject: profile.name,
      message: `The profile "${profile.name}" boots from the SD card (boot mode "${profile.boot.mode}"), so it has nothing to serve over TFTP.`,
      hint: 'Switch the profile’s boot mode to TFTP, or serve a folder with --root DIR.',
    });
  }
  const prepared = readyBoot(prepareBoot(profile, baseDir, env));
  return {
    files: new Map(prepared.tftpRoot.generated.map((file) => [file.name, file.bytes] as const)),
    diskFiles: new Map(prepared.tftpRoot.components.map((copy) => [copy.target, componentPath(prepared, copy)] as const)),
    warnings: warningsOf(prepared),
  };
}

export function createTftpService(host: ServiceHost, componentsDir: string): TftpService {
  let server: TftpServer | undefined;
  let root: string | undefined;

  function forward(event: TftpTransferEvent): void {
    host.emit('tftp:transfer', event);
  }

  function status(): TftpStatus {
    const bound = server?.listening;
    return {
      running: bound !== undefined,
      ...(bound && { address: bound.address, port: bound.port }),
      ...(bound && root !== undefined && { root }),
      active: server?.active ?? [],
      log: [...(server?.log ?? [])],
    };
  }

  async function stop(): Promise<void> {
    const stopping = server;
    server = undefined;
    root = undefined;
    await stopping?.close();
  }

  return {
    async tftpStart(options: TftpStartOptions) {
      const parsed = tftpStartOptions.parse(options);
      // a profile's files are generated before the old server stops, so a broken profile leaves it running
      const profileFiles = parsed.profile ? tftpFilesForProfile(parsed.profile, componentsDir) : undefined;
      const servedRoot = parsed.root !== undefined ? await checkRoot(parsed.root) : undefined;
      await stop(); // a restart with new settings
      const next = createTftpServer({
        ...(servedRoot !== undefined && { root: servedRoot }),
        ...(profileFiles && { files: profileFiles.files, diskFiles: profileFiles.diskFiles }),
        address: parsed.address ?? '127.0.0.1',
        port: parsed.port ?? 69,
      });
      for (const name of ['request', 'progress', 'done', 'error'] as const) next.on(name, forward);
      next.on('limit', (event) => host.emit('tftp:limit', event));
      await next.listen();
      server = next;
      root = servedRoot ?? (parsed.profile ? `profile "${parsed.profile.name}"` : undefined);
      return {
        ...status(),
        ...(profileFiles && { serving: [...profileFiles.files.keys(), ...profileFiles.diskFiles.keys()], warnings: profileFiles.warnings }),
      };
    },
    async tftpStop() {
      await stop();
    },
    async tftpStatus() {
      return status();
    },
    async localAddresses() {
      return localAddresses();
    },
    dispose: stop,
  };
}
