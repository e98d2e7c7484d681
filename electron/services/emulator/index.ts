// The emulator domain's front door for the CLI: trial boots, and the parts and QEMU they need.
export { DEFAULT_XEN_VERSION, fetchDebianParts } from './debian-parts';
export { installRpi4Parts } from './install-parts';
export { dumpVirtDeviceTree, findQemuTools } from './qemu';
export { availableXenVersions } from './rpi4-parts';
export { createEmulatorService } from './service';
