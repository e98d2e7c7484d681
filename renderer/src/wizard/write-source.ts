// Where a write starts from: the ready-made image, the profile's base image, or nothing (a fresh card the app builds).
import { isFreshCard } from '../../../shared/boot/generate';
import type { WizardState } from './store';

/** The image the write starts from: the ready-made image, or the profile's base image; undefined for a fresh card. */
export function sourceOf(state: Pick<WizardState, 'path' | 'readyImage' | 'draft'>): string | undefined {
  return state.path === 'image' ? state.readyImage.path.trim() || undefined : state.draft.baseImage;
}

/** A Xen set-up whose card the app builds from nothing (no base image named). */
export function writesFreshCard(state: Pick<WizardState, 'path' | 'draft'>): boolean {
  return state.path === 'xen' && isFreshCard(state.draft);
}
