// The wizard: the step list, the current step, Back/Next, and the profile bar (name, Save, Save as, unsaved changes).
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { AppInfo } from '../../../shared/api';
import type { ImagerErrorData } from '../../../shared/errors';
import { defaultProfile } from '../../../shared/profile/defaults';
import { saveProfile } from '../actions';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { asErrorData, ErrorNotice } from '../components/ErrorNotice';
import { BoardStep } from '../steps/BoardStep';
import { ComponentsStep } from '../steps/ComponentsStep';
import { ConsoleStep } from '../steps/ConsoleStep';
import { NetworkStep } from '../steps/NetworkStep';
import { ReviewStep } from '../steps/ReviewStep';
import { StartStep } from '../steps/StartStep';
import { TargetStep } from '../steps/TargetStep';
import { WriteStep } from '../steps/WriteStep';
import { useProfileOpens } from './profile-opens';
import type { StepProps } from './step-props';
import { STEPS, type StepId } from './steps';
import { useWizard } from './store';
import { validateDraft } from './validation';

const STEP_VIEWS: Record<StepId, (props: StepProps) => ReactNode> = {
  start: StartStep,
  board: BoardStep,
  components: ComponentsStep,
  console: ConsoleStep,
  network: NetworkStep,
  review: ReviewStep,
  target: TargetStep,
  write: WriteStep,
};

export function Wizard({ info }: { info: AppInfo }) {
  const wizard = useWizard(defaultProfile('rpi4'));
  const { state, unsaved, order, next, previous, go } = wizard;
  const validation = useMemo(() => validateDraft(state.draft), [state.draft]);
  // an error belongs to the step it happened on: going to another step (to fix a field, say) puts it away
  const [failure, setFailure] = useState<{ error: ImagerErrorData; step: StepId } | undefined>();
  const error = failure?.step === state.step ? failure.error : undefined;
  const stepRef = useRef(state.step);
  stepRef.current = state.step;
  const setError = useCallback((reason: ImagerErrorData | undefined) => setFailure(reason && { error: reason, step: stepRef.current }), []);
  const [pendingReplace, setPendingReplace] = useState<(() => void) | undefined>();
  const [status, setStatus] = useState('');
  // after a move to another step, focus goes to its heading: the Next button under the pointer now belongs to the next
  // step, and a second Enter would skip one unseen
  const heading = useRef<HTMLHeadingElement>(null);
  const shownStep = useRef(state.step);
  useEffect(() => {
    if (shownStep.current === state.step) return;
    shownStep.current = state.step;
    heading.current?.focus();
  }, [state.step]);

  const showError = useCallback((reason: unknown) => setError(asErrorData(reason)), [setError]);

  const replaceDraft = useCallback<StepProps['replaceDraft']>(
    (load) => {
      const run = () =>
        load().then(({ profile, savedId, saved, note }) => {
          wizard.open(profile, savedId, saved);
          setStatus(note ?? '');
          setError(undefined);
        }, showError);
      // a fresh default that was never touched compares equal to itself: not worth a question
      if (unsaved) setPendingReplace(() => run);
      else void run();
    },
    [unsaved, wizard, showError, setError],
  );
  useProfileOpens(replaceDraft, showError);

  // leaving the page (closing the window) with unsaved changes asks first
  useEffect(() => {
    if (!unsaved) return;
    const onBeforeUnload = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [unsaved]);

  const save = async (asNew: boolean) => {
    try {
      const summary = await saveProfile(state.draft, asNew ? undefined : state.savedId);
      wizard.markSaved(summary.id, state.draft);
      setStatus(`Saved "${summary.name}" to ${summary.file}`);
      setError(undefined);
    } catch (reason) {
      showError(reason);
    }
  };

  const stepErrors = (step: StepId) => (state.path === 'xen' ? validation.errorsIn(step).length : 0);
  const View = STEP_VIEWS[state.step];
  const current = STEPS.find((s) => s.id === state.step)!;
  const stepNumber = order.indexOf(state.step) + 1;

  return (
    <div className="wizard">
      <nav aria-label="Wizard steps">
        <ol className="step-list">
          {order.map((id, i) => {
            const step = STEPS.find((s) => s.id === id)!;
            const errors = stepErrors(id);
            return (
              <li key={id}>
                <button
                  type="button"
                  aria-current={id === state.step ? 'step' : undefined}
                  disabled={!state.visited.includes(id) && (id !== next || id === 'write')}
                  onClick={() => go(id)}
                >
                  <span className="step-number">{i + 1}</span>
                  {step.title}
                  {errors > 0 && (
                    <span className="step-state warn" aria-label={`${errors} problem${errors > 1 ? 's' : ''}`}>
                      ⚠ {errors}
                    </span>
                  )}
                </button>
              </li>
            );
          })}
        </ol>
      </nav>
      <section className="step-body" aria-labelledby="step-title">
        {state.path === 'xen' && (
          <div className="row profile-bar">
            <label htmlFor="profile-name" className="sr-only">
              Profile name
            </label>
            <input
              id="profile-name"
              className="profile-name-input"
              value={state.draft.name}
              onChange={(event) => wizard.edit((draft) => ({ ...draft, name: event.target.value }))}
            />
            {unsaved ? (
              <span className="unsaved">Unsaved changes</span>
            ) : (
              <span className="field-hint">{state.savedId === undefined ? 'Not saved yet' : 'Saved'}</span>
            )}
            <span className="header-spacer" />
            <button type="button" className="secondary" onClick={() => void save(false)} disabled={!state.draft.name.trim()}>
              Save
            </button>
            <button type="button" className="secondary" onClick={() => void save(true)} disabled={!state.draft.name.trim()}>
              Save as…
            </button>
          </div>
        )}
        <p role="status" className="field-hint" data-testid="status">
          {status}
        </p>
        <h2 id="step-title" ref={heading} tabIndex={-1} data-testid="step-title">
          <span className="sr-only">
            Step {stepNumber} of {order.length}:{' '}
          </span>
          {current.title}
        </h2>
        <p className="step-purpose">{current.purpose}</p>
        {error && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
        <View info={info} wizard={wizard} validation={validation} replaceDraft={replaceDraft} showError={showError} />
        <div className="step-nav">
          {previous ? (
            <button type="button" className="secondary" onClick={() => go(previous)}>
              ← Back
            </button>
          ) : (
            <span />
          )}
          <span className="spacer" />
          {/* the Write step is reached only through the Target step's write button, after its confirmation */}
          {next && next !== 'write' && (
            <button type="button" className="primary" onClick={() => go(next)} data-testid="next">
              Next: {STEPS.find((s) => s.id === next)!.title} →
            </button>
          )}
        </div>
      </section>
      <ConfirmDialog
        open={pendingReplace !== undefined}
        title="Discard unsaved changes?"
        confirmLabel="Discard changes"
        danger
        onCancel={() => setPendingReplace(undefined)}
        onConfirm={() => {
          const run = pendingReplace;
          setPendingReplace(undefined);
          run?.();
        }}
      >
        <p>
          “{state.draft.name}” has changes that are not saved. Opening another profile replaces them. Save first with <em>Save</em> or{' '}
          <em>Save as…</em> if you want to keep them.
        </p>
      </ConfirmDialog>
    </div>
  );
}
