// Benchmark: the QEMU virt trial (Debian's parts, our TFTP server) N times; each milestone's median time, the TFTP phase
// and the Dom0 userspace time, by the trial's own milestones. With --baseline DIR (another checkout, main as found), the two
// trees run interleaved (baseline, this, baseline, this, ...) on the same machine state and are printed side by side.
// Run as root (port 69): npx tsx bench/trial.ts [--runs N] [--kernel gzip|image|both] [--baseline DIR] [--timeout S]
// Parts come from XEN_PI_IMAGER_CACHE (fetched once when missing).
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Milestone } from '../shared/emulator/milestones';
import type { Profile } from '../shared/profile/schema';
import type { TrialCallbacks, TrialRequest, TrialResult } from '../electron/services/emulator/run';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    kernel: { type: 'string', default: 'both' },
    baseline: { type: 'string' },
    timeout: { type: 'string', default: '120' },
    verbose: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const kernels = (values.kernel === 'both' ? ['gzip', 'image'] : [values.kernel]) as Array<'gzip' | 'image'>;

interface Tree {
  name: string;
  runTrial: (request: TrialRequest, callbacks?: TrialCallbacks) => Promise<TrialResult>;
  profile: Profile;
}

async function loadTree(name: string, root: string): Promise<Tree> {
  const run = (await import(path.join(root, 'electron/services/emulator/run.ts'))) as { runTrial: Tree['runTrial'] };
  const defaults = (await import(path.join(root, 'shared/profile/defaults.ts'))) as { defaultProfile: (board: string) => Profile };
  return { name, runTrial: run.runTrial, profile: defaults.defaultProfile('qemu-virt') };
}

/** One run's numbers, in seconds since QEMU started. */
type Sample = Record<string, number>;

const ROWS: Array<[string, string]> = [
  ['uboot', 'U-Boot started'],
  ['stage1', 'Stage 1 running'],
  ['stage2', 'Stage 2 running'],
  ['tftp-phase', 'TFTP phase (stage 1 → last file loaded)'],
  ['starting-kernel', 'U-Boot hands over to Xen'],
  ['xen', 'Xen started'],
  ['dom0-kernel', 'Dom0 Linux started'],
  ['dom0-userspace', 'Dom0 userspace'],
  ['xen→dom0', 'Xen → Dom0 Linux'],
  ['dom0→userspace', 'Dom0 Linux → userspace'],
];

async function once(tree: Tree, kernel: 'gzip' | 'image'): Promise<Sample | string> {
  const milestones: Milestone[] = [];
  const files: string[] = [];
  let requests = 0;
  const result = await tree.runTrial(
    {
      profile: structuredClone(tree.profile),
      options: { components: 'debian', kernel, timeoutSeconds: Number(values.timeout), tftp: 'start', machine: 'virt' },
      componentsDir: os.tmpdir(),
    },
    {
      onMilestone: (milestone) => milestones.push(milestone),
      onTftp: (event) => {
        if (event.kind === 'request') requests++;
      },
      onTimeline: (entry) => {
        if (entry.kind === 'transfer' && entry.state === 'done') files.push(entry.label);
      },
    },
  );
  if (values.verbose) console.log(`    ${requests} TFTP requests`);
  if (values.verbose) for (const file of files) console.log(`    ${tree.name} ${kernel}: ${file}`);
  if (!result.ok) return result.summary;
  const at = (kind: string) => milestones.find((milestone) => milestone.kind === kind)?.timeMs;
  const lastLoad = milestones.filter((milestone) => milestone.kind === 'tftp-load').at(-1)?.timeMs;
  const sample: Sample = {};
  for (const [key] of ROWS) {
    const ms = at(key);
    if (ms !== undefined) sample[key] = ms / 1000;
  }
  if (lastLoad !== undefined && sample.stage1 !== undefined) sample['tftp-phase'] = lastLoad / 1000 - sample.stage1;
  if (sample.xen !== undefined && sample['dom0-kernel'] !== undefined) sample['xen→dom0'] = sample['dom0-kernel'] - sample.xen;
  if (sample['dom0-kernel'] !== undefined && sample['dom0-userspace'] !== undefined)
    sample['dom0→userspace'] = sample['dom0-userspace'] - sample['dom0-kernel'];
  return sample;
}

const median = (numbers: number[]): number | undefined => {
  if (numbers.length === 0) return undefined;
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const load = () =>
  execFileSync('uptime', { encoding: 'utf8' })
    .trim()
    .replace(/.*load average: /, '');

async function main(): Promise<void> {
  const trees = [
    ...(values.baseline ? [await loadTree('before', path.resolve(values.baseline))] : []),
    await loadTree(values.baseline ? 'after' : 'this', path.resolve(import.meta.dirname, '..')),
  ];
  console.log(`load average at start: ${load()}`);
  for (const kernel of kernels) {
    const samples = new Map<string, Sample[]>(trees.map((tree) => [tree.name, []]));
    for (let run = 1; run <= runs; run++) {
      for (const tree of trees) {
        const sample = await once(tree, kernel);
        if (typeof sample === 'string') {
          console.log(`  ${kernel} ${tree.name} run ${run}: FAILED: ${sample}`);
          continue;
        }
        samples.get(tree.name)!.push(sample);
        console.log(
          `  ${kernel} ${tree.name} run ${run}: TFTP phase ${sample['tftp-phase']?.toFixed(2)} s, userspace ${sample['dom0-userspace']?.toFixed(2)} s (load ${load()})`,
        );
      }
    }
    console.log(`\nDom0 kernel ${kernel}: median of ${runs}, seconds since QEMU started`);
    const header = ['milestone'.padEnd(44), ...trees.map((tree) => tree.name.padStart(8))];
    if (trees.length === 2) header.push('ratio'.padStart(7));
    console.log(header.join(''));
    for (const [key, label] of ROWS) {
      const medians = trees.map((tree) => median(samples.get(tree.name)!.flatMap((sample) => sample[key] ?? [])));
      const cells = medians.map((value) => (value === undefined ? '-' : value.toFixed(2)).padStart(8));
      if (medians.length === 2 && medians[0] && medians[1]) cells.push(`${(medians[1] / medians[0]).toFixed(2)}×`.padStart(7));
      console.log(label.padEnd(44) + cells.join(''));
    }
    console.log('');
  }
  console.log(`load average at end: ${load()}`);
}

await main();
