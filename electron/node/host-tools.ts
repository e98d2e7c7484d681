// Finds the host programs the app relies on (QEMU, its U-Boot, elevation helpers) and says what to install when absent.
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';

/** The first executable called `name` on PATH, or undefined. */
export function findExecutable(name: string, envPath: string = process.env.PATH ?? ''): string | undefined {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE').split(';') : [''];
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}

export const QEMU_UBOOT_CANDIDATES = ['/usr/lib/u-boot/qemu_arm64/u-boot.bin', '/usr/share/qemu/u-boot-qemu-arm64.bin'];

export interface ToolCheck {
  available: boolean;
  note: string;
}

export function checkQemu(): ToolCheck {
  const qemu = findExecutable('qemu-system-aarch64');
  const uboot = QEMU_UBOOT_CANDIDATES.find((candidate) => existsSync(candidate));
  if (qemu && uboot) return { available: true, note: `${qemu} with U-Boot ${uboot}` };
  const missing = [!qemu && 'qemu-system-arm', !uboot && 'u-boot-qemu'].filter(Boolean).join(' and ');
  return {
    available: false,
    note: `QEMU is not ready: install the ${missing} package${missing.includes(' and ') ? 's' : ''} (Debian/Ubuntu: sudo apt-get install ${missing.replace(' and ', ' ')}).`,
  };
}

export function checkDriveWriting(): ToolCheck {
  if (process.platform === 'linux') {
    if (process.getuid?.() === 0) return { available: true, note: 'Running as root: drives are written directly.' };
    const pkexec = findExecutable('pkexec');
    if (pkexec) return { available: true, note: 'Writing asks for your password through polkit (pkexec).' };
    return {
      available: false,
      note: 'Writing a drive needs root: install polkit (pkexec) or run the CLI with sudo.',
    };
  }
  if (process.platform === 'darwin') return { available: true, note: 'Writing asks for your password (administrator prompt).' };
  if (process.platform === 'win32') return { available: true, note: 'Writing asks for administrator rights (UAC).' };
  return { available: false, note: `Writing drives is not supported on ${process.platform}.` };
}
