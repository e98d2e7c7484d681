// "Get everything from Debian" into a profile being edited: the fetched files replace the user's, their other choices stay.
import type { Profile } from './schema';

/**
 * The draft with every file of the fetched profile: Xen (binary and version), U-Boot, the device tree, the Dom0
 * kernel and ramdisk, the fresh card's firmware and where each came from. Name, console, boot mode and network,
 * RAM, Dom0's memory, vCPUs and command line (and having no Dom0), DomUs, overlays and the base image stay the user's.
 */
export function takeFetchedParts(draft: Profile, fetched: Profile): Profile {
  // a dom0less profile stays dom0less: the fetched Dom0 is not added to it
  const dom0 = draft.dom0 &&
    fetched.dom0 && {
      ...draft.dom0,
      kernel: fetched.dom0.kernel,
      // a ramdisk is Dom0's root now, not the card's second partition
      ...(fetched.dom0.ramdisk !== undefined && { ramdisk: fetched.dom0.ramdisk, rootOnCard: false }),
    };
  return {
    ...draft,
    xen: { ...draft.xen, version: fetched.xen.version, binary: fetched.xen.binary },
    ...(dom0 && { dom0 }),
    deviceTree: fetched.deviceTree,
    ...(fetched.ubootBinary !== undefined && { ubootBinary: fetched.ubootBinary }),
    firmware: [...fetched.firmware],
    ...(fetched.provenance && { provenance: { ...fetched.provenance } }),
  };
}
