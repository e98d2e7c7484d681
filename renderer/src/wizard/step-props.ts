// What every step view receives from the wizard: the app's facts, the wizard state and its edits, the draft's problems.
import type { AppInfo } from '../../../shared/api';
import type { Profile } from '../../../shared/profile/schema';
import type { Wizard } from './store';
import type { DraftValidation } from './validation';

/** A profile to put in place of the draft, as an "open" loads it. */
export interface DraftReplacement {
  profile: Profile;
  savedId?: string;
  saved: boolean;
  /** Said in the status line once it is open ("Opened “Lab Pi”."); the last save's note goes either way. */
  note?: string;
}

export interface StepProps {
  info: AppInfo;
  wizard: Wizard;
  validation: DraftValidation;
  /** Replaces the draft after asking about unsaved changes. */
  replaceDraft: (load: () => Promise<DraftReplacement>) => void;
  showError: (error: unknown) => void;
}
