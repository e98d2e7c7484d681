// The one QEMU machine line for emulated boots; the device tree is dumped from the same line so the two always agree.
import { boards } from '../boards';

const board = boards['qemu-virt'];

export const QEMU_BINARY = 'qemu-system-aarch64';
/** virtualization=on gives the guest EL2, which Xen needs; GICv3 is what Xen on Arm expects. */
export const QEMU_MACHINE = 'virt,virtualization=on,gic-version=3';
export const QEMU_CPU = 'cortex-a57';
/** RAM size: the qemu-virt board's memory runs from ramBase to memoryEnd. */
export const QEMU_MEMORY_MIB = (board.memoryEnd - board.ramBase) / (1024 * 1024);

/** The virt board's CPUs unless a trial asks fewer (see trialCpus). */
export const QEMU_CPUS = board.cpus;

function commonArgs(bios: string, cpus = QEMU_CPUS): string[] {
  return ['-cpu', QEMU_CPU, '-smp', String(cpus), '-m', String(QEMU_MEMORY_MIB), '-display', 'none', '-monitor', 'none', '-bios', bios];
}

/**
 * The boot: U-Boot as firmware (-bios), the SD image as a virtio disk, user networking (its
 * 255.255.255.255:69 reaches the host's 127.0.0.1:69), the console on stdio, and no reboot so a
 * crash or a power-off ends QEMU.
 */
export function qemuBootArgs(options: { bios: string; sdImage: string; serial?: 'stdio' | 'pty'; cpus?: number }): string[] {
  return [
    '-machine',
    QEMU_MACHINE,
    ...commonArgs(options.bios, options.cpus),
    // 'pty': the UART on a pseudo-terminal, opened like a USB-UART adapter (the serial console's tests)
    '-serial',
    options.serial ?? 'stdio',
    '-no-reboot',
    '-netdev',
    'user,id=n0',
    '-device',
    'virtio-net-device,netdev=n0',
    '-drive',
    `if=none,file=${options.sdImage},format=raw,id=card`,
    '-device',
    'virtio-blk-device,drive=card',
  ];
}

/**
 * Dumps the device tree of the same machine (the same `cpus`: Xen starts every CPU the tree lists). Without -bios QEMU
 * lists a GPIO block that is absent at boot, and Dom0 dies on it.
 */
export function qemuDumpDtbArgs(options: { bios: string; dtbPath: string; cpus?: number }): string[] {
  return [
    '-machine',
    `${QEMU_MACHINE},dumpdtb=${options.dtbPath}`,
    ...commonArgs(options.bios, options.cpus),
    '-serial',
    'null',
    '-nic',
    'none',
  ];
}
