// ImageBuilder's boot-time CPU pools (CPUPOOL[n], NUM_CPUPOOLS, DOMU_CPUPOOL[n]): read from the config, checked against the host tree.
import type { CpuPool } from '../boot/stage2';
import { findNode, getCells, parseFdt } from '../emulator/fdt';
import { ImagerError } from '../errors';
import type { ImageBuilderVariables } from './config';

/** A pool as the config gives it: CPU node names under /cpus, and the scheduler when one is named. */
export interface PlannedCpuPool {
  cpus: string[];
  scheduler?: string;
}

/** CPUPOOL[i]="cpu@1,cpu@2 null": the first word lists the CPUs, the last names the scheduler when there are two or more. */
export function planCpuPools(vars: ImageBuilderVariables): PlannedCpuPool[] {
  const count = Number.parseInt(vars.scalars.NUM_CPUPOOLS ?? '0', 10) || 0;
  return Array.from({ length: count }, (_, index) => {
    const words = (vars.arrays.CPUPOOL?.[index] ?? '').trim().split(/\s+/).filter(Boolean);
    const cpus = (words[0] ?? '')
      .split(',')
      .flatMap((name) => name.split(/\s+/))
      .filter(Boolean);
    return { cpus, ...(words.length > 1 && { scheduler: words[words.length - 1]! }) };
  });
}

/** DOMU_CPUPOOL[j], when it is a decimal pool index (bash's `test -eq` accepts nothing else). */
export function domUCpupool(vars: ImageBuilderVariables, index: number): number | undefined {
  const value = vars.arrays.DOMU_CPUPOOL?.[index]?.trim();
  return value !== undefined && /^-?\d+$/.test(value) ? Number(value) : undefined;
}

function poolError(cpu: string, what: string, hint: string): ImagerError {
  return new ImagerError({
    code: 'IMAGEBUILDER_CPUPOOL',
    subject: 'CPUPOOL',
    message: `${cpu} ${what}.`,
    hint,
    details: { exitStatus: 1, imageBuilderMessage: `${cpu} ${what}` },
  });
}

/** Each pool's CPUs as nodes of the host tree with the phandles they have; refuses a CPU the tree lacks or two pools share. */
export function resolveCpuPools(pools: PlannedCpuPool[], deviceTree: Uint8Array): CpuPool[] {
  const root = parseFdt(deviceTree, 'DEVICE_TREE').root;
  // ImageBuilder's "already assigned" test is a substring match on the list so far; kept, so the same configs fail
  let assigned = '';
  return pools.map((pool) => ({
    ...(pool.scheduler !== undefined && { scheduler: pool.scheduler }),
    cpus: pool.cpus.map((name) => {
      const path = `/cpus/${name}`;
      const node = findNode(root, path);
      if (!node || !node.properties.some((p) => p.name === 'reg')) {
        throw poolError(
          path,
          'does not exist',
          'Name CPU nodes of the device tree under /cpus, such as cpu@1 (see `fdtget -l DTB /cpus`).',
        );
      }
      if (assigned.includes(path)) throw poolError(path, 'already assigned to another cpupool', 'Give each CPU to one pool only.');
      assigned += ` ${path}`;
      const phandle = getCells(node, 'phandle')?.[0];
      return { path, ...(phandle !== undefined && { phandle }) };
    }),
  }));
}
