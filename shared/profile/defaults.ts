// A complete, valid starting profile for each board: the wizard's initial state and `profile init`.
import { boards, type BoardId } from '../boards';
import { hexAddress } from '../boot/address';
import { defaultDom0MemoryMb } from './fit-memory';
import { profileSchema, PROFILE_SCHEMA_VERSION, type Profile } from './schema';

/** Debian's file locations, so a profile works with `apt-get download`ed parts as they unpack. */
export function defaultProfile(board: BoardId): Profile {
  const b = boards[board];
  const qemu = board === 'qemu-virt';
  return profileSchema.parse({
    $schema: './profile.schema.json',
    schemaVersion: PROFILE_SCHEMA_VERSION,
    name: qemu ? 'Xen on QEMU virt' : 'Xen on Raspberry Pi 4',
    board,
    xen: { version: '4.17', binary: 'xen-4.17-arm64' },
    console: { uart: b.defaultUart },
    boot: {
      mode: 'tftp',
      network: qemu
        ? { method: 'static', serverIp: b.defaultServerIp, boardIp: '10.0.2.15' }
        : { method: 'static', serverIp: '192.168.1.10', boardIp: '192.168.1.50', netmask: '255.255.255.0' },
      memoryStart: hexAddress(b.ramBase),
      memoryEnd: hexAddress(b.memoryEnd),
      stage2Address: hexAddress(b.stage2Address),
    },
    ramMb: b.defaultRamMiB,
    dom0: { kernel: 'vmlinuz', ramdisk: 'initrd.cpio.gz', memoryMb: defaultDom0MemoryMb(board, b.defaultRamMiB), vcpus: 1 },
    deviceTree: b.deviceTree,
    ...(b.usesConfigTxt && { ubootBinary: b.ubootBinary }),
  });
}
