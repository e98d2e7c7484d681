// The one service object behind the contract: both transports (Electron IPC, browser-mode WebSocket) register it.
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImagerApi, ProfileSummary } from '../../shared/api';
import type { DomainService, ServiceHost } from './host';
import { checkDriveWriting, checkQemu } from '../node/host-tools';

export type { DomainService, ServiceHost } from './host';
import { dataPaths, userDataDir } from '../node/paths';
import { createProfilesService } from './profiles/service';
import { createBootService } from './boot-files/service';
import { createDrivesService } from './drives/service';
import { createTftpService } from './tftp/service';
import { createEmulatorService } from './emulator/service';
import { createPartsService } from './emulator/parts-service';
import { createSerialService } from './serial/service';
import type { TftpTransferEvent } from '../../shared/api/tftp';
import { createFilesService } from './files/service';

const require = createRequire(import.meta.url);

export interface PackageFacts {
  name: string;
  productName: string;
  version: string;
}

/** The app's folder: where package.json sits, two levels above both the sources and the bundles (out/<part>/). */
export const appRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Reads name and version from the app's package.json. */
export function packageFacts(): PackageFacts {
  const pkg = require(path.join(appRoot, 'package.json')) as Partial<PackageFacts>;
  return { name: pkg.name ?? 'xen-pi-imager', productName: pkg.productName ?? 'Xen Pi Imager', version: pkg.version ?? '0.0.0' };
}

export interface Services extends ImagerApi {
  /** Imports a profile file the app was asked to open (file argument, double-click) and shows it in the UI. */
  openProfileFile(file: string): Promise<ProfileSummary>;
  /** Stops servers and child processes the services started. */
  dispose(): Promise<void>;
}

/** Composes every domain's service into the one object the transports register. */
export function createServices(host: ServiceHost): Services {
  const dataDir = host.userDataDir ?? userDataDir();
  const paths = dataPaths(dataDir);
  const serial = createSerialService(host, { logsDir: paths.logs });
  // every TFTP transfer (the TFTP step's server, the trial's) also joins the open consoles' boot timelines
  const withTftpToConsoles: ServiceHost = {
    ...host,
    emit: (name, payload) => {
      host.emit(name, payload);
      if (name === 'tftp:transfer') serial.observeTftp(payload as TftpTransferEvent);
    },
  };
  const profiles = createProfilesService(paths.profiles, host.emit);
  const tftp = createTftpService(withTftpToConsoles, paths.components);
  // a trial on virt names the app's own TFTP server when that holds port 69, instead of blaming "another program"
  const appTftpServer = async () => {
    const status = await tftp.tftpStatus();
    return status.running && status.address !== undefined && status.port !== undefined
      ? { address: status.address, port: status.port }
      : undefined;
  };
  const domains = [
    createAppService(host, dataDir),
    profiles,
    createBootService(paths.components),
    createDrivesService(host),
    tftp,
    createEmulatorService(withTftpToConsoles, { appTftpServer }),
    createPartsService(host),
    serial,
    createFilesService(host, paths.components),
  ];
  const api = Object.assign({}, ...domains) as ImagerApi;
  return {
    ...api,
    openProfileFile: (file) => profiles.openFile(file),
    async dispose() {
      await Promise.allSettled(domains.map((domain) => domain.dispose?.()));
    },
  };
}

function createAppService(host: ServiceHost, dataDir: string): DomainService<'appInfo' | 'openExternal'> {
  const facts = packageFacts();
  return {
    async appInfo() {
      const qemu = checkQemu();
      const drives = checkDriveWriting();
      return {
        name: facts.name,
        productName: facts.productName,
        version: facts.version,
        platform: process.platform,
        arch: process.arch,
        transport: host.transport,
        canWriteDrives: drives.available,
        driveWriteNote: drives.note,
        qemuAvailable: qemu.available,
        qemuNote: qemu.note,
        userDataDir: dataDir,
        homeDir: os.homedir(),
      };
    },
    async openExternal(url) {
      await host.openExternal(url);
    },
  };
}
