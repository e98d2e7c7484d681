// Profiles the app is asked to open from outside (a file argument, a double-click, a second instance) open in the wizard.
import { useEffect, useRef } from 'react';
import type { ProfileSummary } from '../../../shared/api';
import { loadProfile, onHostEvent, pendingProfileOpens } from '../actions';
import type { StepProps } from './step-props';

export function useProfileOpens(replaceDraft: StepProps['replaceDraft'], showError: StepProps['showError']): void {
  // replaceDraft changes with every edit; the pending opens are asked for once, and the listener stays
  const replace = useRef(replaceDraft);
  replace.current = replaceDraft;
  useEffect(() => {
    const openSummary = (summary: ProfileSummary) =>
      replace.current(async () => {
        const loaded = await loadProfile(summary.id);
        return { profile: loaded.profile, savedId: loaded.id, saved: true };
      });
    void pendingProfileOpens().then((pending) => pending.forEach(openSummary), showError);
    return onHostEvent('profile:opened', openSummary);
  }, [showError]);
}
