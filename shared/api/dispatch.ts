// Host-side dispatch shared by both transports: validate a call against the contract, run it, shape the reply.
import { ImagerError, toErrorData } from '../errors';
import { isMethodName, methods, type ImagerApi } from './index';
import type { Reply } from './reply';

/**
 * Runs one call from the UI. The method must be in the contract and its arguments must parse
 * with the method's zod schema before the service sees them.
 */
export async function dispatchCall(services: ImagerApi, name: unknown, args: unknown): Promise<Reply> {
  try {
    if (!isMethodName(name)) {
      throw new ImagerError({
        code: 'UNKNOWN_METHOD',
        subject: String(name),
        message: `The UI asked for "${String(name)}", which is not part of the app's API.`,
        hint: 'This is a bug in the app; please report it.',
      });
    }
    const parsed = methods[name].args.safeParse(Array.isArray(args) ? args : []);
    if (!parsed.success) {
      throw new ImagerError({
        code: 'INVALID_ARGUMENT',
        subject: name,
        message: `Invalid arguments for ${name}: ${parsed.error.issues
          .map((issue) => `${issue.path.join('.') || '(arguments)'}: ${issue.message}`)
          .join('; ')}`,
        hint: 'Check the value you entered; if it looks right, this is a bug in the app.',
      });
    }
    const fn = services[name] as (...a: unknown[]) => Promise<unknown>;
    const value = await fn.apply(services, parsed.data as unknown[]);
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: toErrorData(error) };
  }
}
