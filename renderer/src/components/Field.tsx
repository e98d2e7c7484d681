// A labelled form field with its problem (error or warning) shown next to it and tied to it for screen readers.
import { useId, type ReactNode } from 'react';

export interface FieldProblem {
  severity: 'error' | 'warning';
  message: string;
}

interface FieldProps {
  label: string;
  hint?: ReactNode;
  problem?: FieldProblem | undefined;
  children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode;
}

export function Field({ label, hint, problem, children }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const problemId = `${id}-problem`;
  const describedBy = [hint ? hintId : undefined, problem ? problemId : undefined].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${problem ? ` field-${problem.severity}` : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        ...(describedBy && { 'aria-describedby': describedBy }),
        ...(problem?.severity === 'error' && { 'aria-invalid': true }),
      })}
      {hint && (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      )}
      {problem && (
        <p className={`field-problem ${problem.severity}`} id={problemId} role={problem.severity === 'error' ? 'alert' : undefined}>
          {problem.severity === 'error' ? 'Error: ' : 'Warning: '}
          {problem.message}
        </p>
      )}
    </div>
  );
}

interface TextFieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: ReactNode;
  problem?: FieldProblem | undefined;
  placeholder?: string;
  monospace?: boolean;
  testId?: string;
  list?: string;
}

export function TextField({ label, value, onChange, hint, problem, placeholder, monospace, testId, list }: TextFieldProps) {
  return (
    <Field label={label} hint={hint} problem={problem}>
      {(aria) => (
        <input
          {...aria}
          type="text"
          value={value}
          placeholder={placeholder}
          className={monospace ? 'mono' : undefined}
          data-testid={testId}
          list={list}
          spellCheck={false}
          onChange={(event) => onChange(event.target.value)}
        />
      )}
    </Field>
  );
}

interface NumberFieldProps {
  label: string;
  value: number;
  onChange: (value: number) => void;
  min?: number;
  max?: number;
  step?: number;
  unit?: string;
  hint?: ReactNode;
  problem?: FieldProblem | undefined;
  testId?: string;
  /** Shown while the field is empty (NaN): what the profile gets when nothing is given. */
  placeholder?: string;
}

export function NumberField({ label, value, onChange, min, max, step, unit, hint, problem, testId, placeholder }: NumberFieldProps) {
  return (
    <Field label={unit ? `${label} (${unit})` : label} hint={hint} problem={problem}>
      {(aria) => (
        <input
          {...aria}
          type="number"
          value={Number.isFinite(value) ? value : ''}
          min={min}
          max={max}
          step={step}
          placeholder={placeholder}
          data-testid={testId}
          onChange={(event) => onChange(event.target.valueAsNumber)}
        />
      )}
    </Field>
  );
}
