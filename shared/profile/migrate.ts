// Brings a profile of any earlier schemaVersion up to the current one, step by step, before it is validated.
import { ImagerError } from '../errors';
import { PROFILE_SCHEMA_VERSION } from './schema';

/** Version 1: the first, flat shape (one file per field, the UART by its alias, addresses as numbers). */
export interface ProfileV1 {
  version: 1;
  name?: string;
  board: 'rpi4' | 'qemu';
  xenVersion?: string;
  xenPath: string;
  xenArgs?: string;
  kernelPath: string;
  initrdPath?: string;
  dtbPath: string;
  dom0Args?: string;
  dom0MemoryMb?: number;
  uart?: 'serial0' | 'serial1';
  syncConsole?: boolean;
  bootFrom?: 'tftp' | 'sd';
  serverIp?: string;
  boardIp?: string;
  memoryEnd?: number;
  ubootPath?: string;
}

type Json = Record<string, unknown>;
type Step = (old: Json) => Json;

const hex = (value: unknown, fallback: string) => (typeof value === 'number' ? `0x${value.toString(16).toUpperCase()}` : fallback);

function fromV1(old: Json): Json {
  const v1 = old as unknown as ProfileV1;
  const qemu = v1.board === 'qemu';
  const tftp = (v1.bootFrom ?? 'tftp') === 'tftp';
  return {
    schemaVersion: 2,
    ...(v1.name !== undefined && { name: v1.name }),
    board: qemu ? 'qemu-virt' : 'rpi4',
    xen: { version: v1.xenVersion ?? '4.17', binary: v1.xenPath, ...(v1.xenArgs && { extraArgs: v1.xenArgs }) },
    console: {
      uart: qemu || v1.uart === 'serial0' ? 'pl011' : 'mini',
      ...(v1.syncConsole !== undefined && { syncConsole: v1.syncConsole }),
    },
    boot: {
      mode: tftp ? 'tftp' : 'sd',
      ...(tftp && v1.serverIp && v1.boardIp && { network: { method: 'static', serverIp: v1.serverIp, boardIp: v1.boardIp } }),
      ...(tftp && v1.serverIp && !v1.boardIp && { network: { method: 'dhcp', serverIp: v1.serverIp } }),
      memoryStart: qemu ? '0x40000000' : '0x0',
      memoryEnd: hex(v1.memoryEnd, qemu ? '0xC0000000' : '0x3C000000'),
      stage2Address: qemu ? '0x40C00000' : '0xC00000',
    },
    dom0: {
      kernel: v1.kernelPath,
      ...(v1.initrdPath && { ramdisk: v1.initrdPath }),
      ...(v1.dom0Args && { commandLine: v1.dom0Args }),
      ...(v1.dom0MemoryMb && { memoryMb: v1.dom0MemoryMb }),
    },
    deviceTree: v1.dtbPath,
    ...(v1.ubootPath && { ubootBinary: v1.ubootPath }),
  };
}

/** migrations[n] turns a version-n profile into version n+1. */
const migrations: Record<number, Step> = { 1: fromV1 };

export function profileVersionOf(raw: unknown): number | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const record = raw as Json;
  const version = record.schemaVersion ?? record.version;
  return typeof version === 'number' && Number.isInteger(version) ? version : undefined;
}

/** Returns the profile in the current shape and the version it started from (undefined when it was current already). */
export function migrateProfile(raw: unknown): { profile: unknown; migratedFrom?: number } {
  const version = profileVersionOf(raw);
  if (version === undefined) {
    throw new ImagerError({
      code: 'INVALID_PROFILE',
      subject: '$.schemaVersion',
      message: 'The file is not a profile: it has no schemaVersion.',
      hint: 'Create one with `xen-pi-imager profile init --board rpi4 --out FILE`.',
    });
  }
  if (version > PROFILE_SCHEMA_VERSION) {
    throw new ImagerError({
      code: 'PROFILE_TOO_NEW',
      subject: '$.schemaVersion',
      message: `The profile has schemaVersion ${version}; this version of Xen Pi Imager reads up to ${PROFILE_SCHEMA_VERSION}.`,
      hint: 'Update Xen Pi Imager to open this profile.',
    });
  }
  let current = raw as Json;
  for (let v = version; v < PROFILE_SCHEMA_VERSION; v++) {
    const step = migrations[v];
    if (!step) {
      throw new ImagerError({
        code: 'INVALID_PROFILE',
        subject: '$.schemaVersion',
        message: `No migration from schemaVersion ${v} exists.`,
        hint: 'Recreate the profile with `profile init`.',
      });
    }
    current = step(current);
  }
  return version === PROFILE_SCHEMA_VERSION ? { profile: current } : { profile: current, migratedFrom: version };
}
