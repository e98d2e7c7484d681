// Every file path a profile names, rewritten at once: how a profile keeps its meaning when it moves to another folder.
import type { Profile } from './schema';

const isUrl = (value: string) => /^https?:\/\//i.test(value);

/**
 * The profile with `rewrite` applied to each file it names (Xen, Dom0, DomUs, device tree, overlays, firmware, U-Boot,
 * a base image that is not a URL) and to the provenance keys, which name the same files.
 */
export function mapProfileFiles(profile: Profile, rewrite: (file: string) => string): Profile {
  const opt = (file: string | undefined) => (file === undefined ? undefined : rewrite(file));
  return {
    ...profile,
    xen: { ...profile.xen, binary: rewrite(profile.xen.binary) },
    ...(profile.dom0 && {
      dom0: {
        ...profile.dom0,
        kernel: rewrite(profile.dom0.kernel),
        ...(profile.dom0.ramdisk !== undefined && { ramdisk: opt(profile.dom0.ramdisk)! }),
      },
    }),
    domUs: profile.domUs.map((domU) => ({
      ...domU,
      kernel: rewrite(domU.kernel),
      ...(domU.ramdisk !== undefined && { ramdisk: opt(domU.ramdisk)! }),
      ...(domU.passthroughDtb !== undefined && { passthroughDtb: opt(domU.passthroughDtb)! }),
    })),
    deviceTree: rewrite(profile.deviceTree),
    overlays: profile.overlays.map(rewrite),
    firmware: profile.firmware.map(rewrite),
    ...(profile.ubootBinary !== undefined && { ubootBinary: rewrite(profile.ubootBinary) }),
    ...(profile.baseImage !== undefined && { baseImage: isUrl(profile.baseImage) ? profile.baseImage : rewrite(profile.baseImage) }),
    ...(profile.provenance && {
      provenance: Object.fromEntries(Object.entries(profile.provenance).map(([file, origin]) => [rewrite(file), origin])),
    }),
  };
}
