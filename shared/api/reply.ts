// The outcome of one call as it crosses a process boundary: a value, or error data (never a thrown object).
import type { ImagerErrorData } from '../errors';

export type Reply = { ok: true; value: unknown } | { ok: false; error: ImagerErrorData };
