// Wizard state: the step, the path (Xen set-up or ready-made image), the profile being edited and whether it is saved.
import { useCallback, useMemo, useReducer } from 'react';
import type { Profile } from '../../../shared/profile/schema';
import { IMAGE_PATH_STEPS, STEPS, type StepId } from './steps';

export type WizardPath = 'xen' | 'image';

export interface ReadyImage {
  path: string;
  sha256: string;
}

export type TargetKind = 'drive' | 'file' | 'folder';

export interface TargetChoice {
  kind: TargetKind;
  /** Selected drives' device paths (several cards at once are fine). */
  devices: string[];
  /** Image file to save (.img or .img.xz). */
  file: string;
  /** Folder for the TFTP root and boot files. */
  folder: string;
  /** What the user typed to confirm a system drive. */
  systemDriveName: string;
  confirmLargeDrive: boolean;
  verify: boolean;
  eject: boolean;
}

/** A write the user confirmed on the Target step; the Write step runs it once. */
export interface WriteRequest {
  id: number;
  target: TargetChoice;
}

export interface WizardState {
  step: StepId;
  path: WizardPath;
  draft: Profile;
  /** The saved profile this draft came from, if any. */
  savedId?: string;
  /**
   * JSON the draft is compared with: as last saved or opened, or a fresh default as it started. Absent for a draft that
   * needs saving as it is (a migrated profile), so it shows unsaved changes before any edit.
   */
  savedJson?: string;
  readyImage: ReadyImage;
  /** Steps the user has reached (the step list lets them jump back to these). */
  visited: StepId[];
  target: TargetChoice;
  write?: WriteRequest;
}

type Action =
  | { type: 'go'; step: StepId }
  | { type: 'path'; path: WizardPath }
  | { type: 'edit'; update: (draft: Profile) => Profile }
  | { type: 'open'; profile: Profile; savedId?: string; saved: boolean }
  | { type: 'saved'; savedId: string; profile: Profile }
  | { type: 'renamed'; name: string }
  | { type: 'readyImage'; readyImage: ReadyImage }
  | { type: 'target'; target: TargetChoice }
  | { type: 'write'; target: TargetChoice };

function reducer(state: WizardState, action: Action): WizardState {
  switch (action.type) {
    case 'go':
      return {
        ...state,
        step: action.step,
        visited: state.visited.includes(action.step) ? state.visited : [...state.visited, action.step],
      };
    case 'path':
      return { ...state, path: action.path };
    case 'edit':
      return { ...state, draft: action.update(state.draft) };
    case 'open': {
      const { savedId: _dropped, savedJson: _old, ...rest } = state;
      return {
        ...rest,
        draft: action.profile,
        // a saved profile is a finished recipe: every step before writing is open to jump to
        visited: action.savedId !== undefined ? STEPS.map((step) => step.id).filter((id) => id !== 'write') : state.visited,
        ...(action.savedId !== undefined && { savedId: action.savedId }),
        // a fresh default is compared with itself as it started: no "unsaved changes" before the first edit
        ...((action.saved || action.savedId === undefined) && { savedJson: JSON.stringify(action.profile) }),
      };
    }
    case 'saved':
      return { ...state, savedId: action.savedId, draft: action.profile, savedJson: JSON.stringify(action.profile) };
    case 'renamed': {
      // the open profile renamed in the list: the draft and what it is compared with follow, so Save keeps the new name
      const saved =
        state.savedJson !== undefined
          ? { savedJson: JSON.stringify({ ...(JSON.parse(state.savedJson) as Profile), name: action.name }) }
          : {};
      return { ...state, draft: { ...state.draft, name: action.name }, ...saved };
    }
    case 'readyImage':
      return { ...state, readyImage: action.readyImage };
    case 'target':
      return { ...state, target: action.target };
    case 'write':
      return {
        ...state,
        write: { id: (state.write?.id ?? 0) + 1, target: action.target },
        step: 'write',
        visited: state.visited.includes('write') ? state.visited : [...state.visited, 'write'],
      };
  }
}

export function stepsFor(path: WizardPath): StepId[] {
  return path === 'image' ? IMAGE_PATH_STEPS : STEPS.map((s) => s.id);
}

export function useWizard(initialDraft: Profile) {
  const [state, dispatch] = useReducer(reducer, undefined, (): WizardState => ({
    step: 'start',
    path: 'xen',
    draft: initialDraft,
    savedJson: JSON.stringify(initialDraft),
    readyImage: { path: '', sha256: '' },
    visited: ['start'],
    target: { kind: 'drive', devices: [], file: '', folder: '', systemDriveName: '', confirmLargeDrive: false, verify: true, eject: false },
  }));
  const unsaved = state.savedJson === undefined ? true : state.savedJson !== JSON.stringify(state.draft);
  const order = useMemo(() => stepsFor(state.path), [state.path]);
  const index = order.indexOf(state.step);
  const go = useCallback((step: StepId) => dispatch({ type: 'go', step }), []);
  const edit = useCallback((update: (draft: Profile) => Profile) => dispatch({ type: 'edit', update }), []);
  return {
    state,
    unsaved,
    order,
    next: index >= 0 && index < order.length - 1 ? order[index + 1] : undefined,
    previous: index > 0 ? order[index - 1] : undefined,
    go,
    edit,
    setPath: useCallback((path: WizardPath) => dispatch({ type: 'path', path }), []),
    open: useCallback(
      (profile: Profile, savedId?: string, saved = true) =>
        dispatch({ type: 'open', profile, saved, ...(savedId !== undefined && { savedId }) }),
      [],
    ),
    markSaved: useCallback((savedId: string, profile: Profile) => dispatch({ type: 'saved', savedId, profile }), []),
    markRenamed: useCallback((name: string) => dispatch({ type: 'renamed', name }), []),
    setReadyImage: useCallback((readyImage: ReadyImage) => dispatch({ type: 'readyImage', readyImage }), []),
    setTarget: useCallback((target: TargetChoice) => dispatch({ type: 'target', target }), []),
    startWrite: useCallback((target: TargetChoice) => dispatch({ type: 'write', target }), []),
  };
}

export type Wizard = ReturnType<typeof useWizard>;
