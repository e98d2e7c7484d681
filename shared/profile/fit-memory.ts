// The board's RAM as the wizard sets it: choosing a size (or a board) lowers Dom0's memory to what fits, never raises it.
import { boards, domainMemoryLimit, type BoardId } from '../boards';
import type { Profile } from './schema';

/** Dom0 memory is offered in steps of this size (the Board step's field steps by it too). */
export const DOM0_MEMORY_STEP_MB = 128;

/** The most Dom0 may have next to the DomUs that boot, on the profile's board and RAM; undefined when even the step does not fit. */
export function dom0MemoryLimitMb(profile: Profile): number | undefined {
  const { limitMiB } = domainMemoryLimit(boards[profile.board], profile.ramMb);
  const domUs = profile.domUs.filter((d) => !d.noBoot).reduce((sum, d) => sum + d.memoryMb, 0);
  const left = limitMiB - domUs;
  return left >= DOM0_MEMORY_STEP_MB ? left : undefined;
}

/** Lowers Dom0's memory to the largest step that fits when it no longer does; a fitting (or dom0less) profile comes back as it is. */
export function fitDom0Memory(profile: Profile): Profile {
  const limit = dom0MemoryLimitMb(profile);
  if (!profile.dom0 || limit === undefined || profile.dom0.memoryMb <= limit) return profile;
  const fitted = Math.floor(limit / DOM0_MEMORY_STEP_MB) * DOM0_MEMORY_STEP_MB;
  return { ...profile, dom0: { ...profile.dom0, memoryMb: fitted } };
}

/**
 * Dom0's memory when the user has not chosen one: a quarter of the board's RAM, 512 MiB to 2 GiB, in steps of 128 MiB
 * (1 GB Pi 4: 512, 4 GB: 1024, 8 GB: 2048). Xen would otherwise hand Dom0 nearly everything, leaving no room for DomUs.
 */
export function defaultDom0MemoryMb(board: BoardId, ramMb: number | undefined): number {
  const quarter = Math.floor((ramMb ?? boards[board].defaultRamMiB) / 4 / DOM0_MEMORY_STEP_MB) * DOM0_MEMORY_STEP_MB;
  return Math.min(2048, Math.max(512, quarter));
}

/** The profile on a board with `ramMb` of RAM: Dom0 follows the default when it had the old size's default, and fits. */
export function withBoardRam(profile: Profile, ramMb: number): Profile {
  const followsDefault = profile.dom0 && profile.dom0.memoryMb === defaultDom0MemoryMb(profile.board, profile.ramMb);
  const dom0 = followsDefault ? { ...profile.dom0!, memoryMb: defaultDom0MemoryMb(profile.board, ramMb) } : profile.dom0;
  return fitDom0Memory({ ...profile, ramMb, ...(dom0 && { dom0 }) });
}

/** The RAM a profile keeps when it moves to `board`: its own size when the board is sold with it, else the board's default. */
export function ramOnBoard(profile: Profile, board: BoardId): number {
  const target = boards[board];
  return profile.ramMb !== undefined && target.ramSizesMiB.includes(profile.ramMb) ? profile.ramMb : target.defaultRamMiB;
}
