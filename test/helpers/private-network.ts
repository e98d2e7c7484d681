// QEMU boot tests run their boot in a child inside `unshare -n`: a private loopback where it owns port 69 and no packet
// leaves the machine. Here: why such a test cannot run on this machine, and the child that prints JSON lines.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { checkQemu, findExecutable } from '../../electron/node/host-tools';

export const repoRoot = path.resolve(__dirname, '../..');
/** Reused between runs on the same machine (CI workspace); XEN_PI_IMAGER_CACHE points elsewhere. */
export const emulatorCacheDir = process.env.XEN_PI_IMAGER_CACHE ?? path.join(repoRoot, '.cache', 'emulator');

/** Why a QEMU boot in a private network cannot run here, or undefined when it can. */
export function qemuBootSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'QEMU boots run on Linux only';
  if (process.getuid?.() !== 0) return 'needs root for `unshare -n` (a private port 69)';
  if (!checkQemu().available) return checkQemu().note;
  if (!findExecutable('unshare') || !findExecutable('ip')) return 'needs unshare (util-linux) and ip (iproute2)';
  if (!findExecutable('apt-get') && !fs.existsSync(path.join(emulatorCacheDir, 'debian-arm64')))
    return 'needs apt-get to fetch Debian’s arm64 packages';
  return undefined;
}

/** Runs a TypeScript script in a private network namespace; resolves with the JSON lines it printed and its stderr. */
export function runInPrivateNetwork(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ messages: unknown[]; stderr: string }> {
  const child = spawn(
    'unshare',
    ['-n', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" --import tsx "${script}" ${args.join(' ')}`],
    {
      cwd: repoRoot,
      env: { ...process.env, XEN_PI_IMAGER_CACHE: emulatorCacheDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () =>
      resolve({
        messages: stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as unknown),
        stderr,
      }),
    );
  });
}
