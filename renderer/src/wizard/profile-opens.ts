// What the wizard opens by itself: profiles the app is asked to open from outside (a file argument, a double-click, a
// second instance), and otherwise on start the profile last opened or saved (as Raspberry Pi Imager keeps its settings).
import { useEffect, useRef } from 'react';
import type { ProfileSummary } from '../../../shared/api';
import { lastOpenedProfile, loadProfile, onHostEvent, pendingProfileOpens } from '../actions';
import type { StepProps } from './step-props';

export function useProfileOpens(replaceDraft: StepProps['replaceDraft'], showError: StepProps['showError']): void {
  // replaceDraft changes with every edit; the pending opens are asked for once, and the listener stays
  const replace = useRef(replaceDraft);
  replace.current = replaceDraft;
  useEffect(() => {
    const openSummary = (summary: ProfileSummary) =>
      replace.current(async () => {
        const loaded = await loadProfile(summary.id);
        return { profile: loaded.profile, savedId: loaded.id, saved: true, note: `Opened “${loaded.profile.name}” from ${summary.file}.` };
      });
    const reopenLast = () =>
      lastOpenedProfile().then((last) => {
        if (!last) return; // first start: the wizard keeps its fresh default
        replace.current(async () => ({
          profile: last.profile,
          savedId: last.id,
          saved: last.migratedFrom === undefined,
          note: `Reopened “${last.profile.name}”, the profile you last used.`,
        }));
      });
    void pendingProfileOpens().then((pending) => (pending.length > 0 ? pending.forEach(openSummary) : reopenLast()), showError);
    return onHostEvent('profile:opened', openSummary);
  }, [showError]);
}
