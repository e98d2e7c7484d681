// An error as the user reads it: what went wrong, what to do, and what it concerns.
import type { ImagerErrorData } from '../../../shared/errors';
import { wayForwardOf } from '../../../shared/messages';

export function ErrorNotice({ error, onDismiss }: { error: ImagerErrorData; onDismiss?: () => void }) {
  return (
    <div role="alert" className="notice error" data-testid="error">
      <p>
        <strong>{error.message}</strong>
      </p>
      <p>{wayForwardOf(error)}</p>
      {error.subject && (
        <p className="field-hint">
          Concerns: <code>{error.subject}</code>
        </p>
      )}
      {onDismiss && (
        <button type="button" className="secondary" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}

/** Normalises anything a failed call rejected with into error data. */
export function asErrorData(reason: unknown): ImagerErrorData {
  if (reason && typeof reason === 'object' && 'message' in reason) {
    const r = reason as Partial<ImagerErrorData> & { message: string };
    return { code: r.code ?? 'INTERNAL', message: r.message, ...(r.hint && { hint: r.hint }), ...(r.subject && { subject: r.subject }) };
  }
  return { code: 'INTERNAL', message: String(reason) };
}
