// Field problems for the wizard: the shared profile checks, keyed by JSON path, so each field shows its own reason.
import { validateProfile, type ProfileProblem } from '../../../shared/profile/check';
import type { Profile } from '../../../shared/profile/schema';
import type { FieldProblem } from '../components/Field';
import type { StepId } from './steps';

export interface DraftValidation {
  problems: ProfileProblem[];
  /** Whether the draft has the profile's shape: the host takes only such drafts (its contract parses every argument). */
  parses: boolean;
  /** The first problem at exactly this JSON path (errors before warnings). */
  at(path: string): FieldProblem | undefined;
  /** Problems whose field belongs to a step, for the step list's badges and the Next button. */
  errorsIn(step: StepId): ProfileProblem[];
}

/** Which step edits which part of the profile. */
const STEP_OF_PATH: Array<[RegExp, StepId]> = [
  [/^\$\.(board|ramMb|xen\.version|dom0\.(memoryMb|vcpus))/, 'board'],
  [
    /^\$\.(xen\.binary|dom0\.(kernel|ramdisk|rootOnCard)|deviceTree|overlays|baseImage|ubootBinary|domUs|firmware|provenance)/,
    'components',
  ],
  [/^\$\.(console|xen\.(commandLine|extraArgs)|dom0\.commandLine)/, 'console'],
  [/^\$\.boot\.(mode|network|tftp)/, 'network'],
  [/^\$\.(boot|dom0|output|name)/, 'review'],
];

export function stepOfPath(path: string): StepId {
  return STEP_OF_PATH.find(([pattern]) => pattern.test(path))?.[1] ?? 'review';
}

export function validateDraft(draft: Profile): DraftValidation {
  const { problems, profile } = validateProfile(draft);
  const sorted = [...problems].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  return {
    problems: sorted,
    parses: profile !== undefined,
    at(path) {
      const problem = sorted.find((p) => p.path === path);
      return problem && { severity: problem.severity, message: problem.message };
    },
    errorsIn(step) {
      return sorted.filter((p) => p.severity === 'error' && stepOfPath(p.path) === step);
    },
  };
}
