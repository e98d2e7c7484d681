// Test helper: a qemu-virt profile whose files are the right kinds but tiny, enough for U-Boot to run stage 1, never to boot.
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { defaultProfile } from '../../../shared/profile/defaults';

/** Writes the files and qemu-virt.json into `dir`; returns the profile's path. */
export function writeFakeParts(dir: string): string {
  const image = Buffer.alloc(4096);
  image.write('ARM\x64', 56, 'latin1');
  fs.writeFileSync(path.join(dir, 'xen-4.17-arm64'), image);
  fs.writeFileSync(path.join(dir, 'vmlinuz'), image);
  fs.writeFileSync(path.join(dir, 'initrd.cpio.gz'), gzipSync(Buffer.from('070701')));
  const profileFile = path.join(dir, 'qemu-virt.json');
  fs.writeFileSync(profileFile, JSON.stringify(defaultProfile('qemu-virt'), null, 2));
  return profileFile;
}
