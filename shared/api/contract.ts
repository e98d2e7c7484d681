// The machinery of the single contract: how a method or an event is declared, and the API type derived from them.
import type { z } from 'zod';

/** A request the UI can make: its arguments as a zod tuple (validated by the host), its result as a type. */
export interface MethodSpec<Args extends z.ZodTuple = z.ZodTuple, Result = unknown> {
  readonly args: Args;
  /** Phantom: never read at run time, carries the result type. */
  readonly result: Result;
}

export function method<Args extends z.ZodTuple>(args: Args) {
  return {
    returns<Result>(): MethodSpec<Args, Result> {
      return { args, result: undefined as Result };
    },
  };
}

/** An event the host pushes to the UI; payload typed only (the host is trusted to send it). */
export interface EventSpec<Payload = unknown> {
  readonly payload: Payload;
}

export function event<Payload>(): EventSpec<Payload> {
  return { payload: undefined as Payload };
}

export type MethodMap = Record<string, MethodSpec<z.ZodTuple, unknown>>;
export type EventMap = Record<string, EventSpec<unknown>>;

/** The service object's shape: one async function per method, receiving arguments as the schema parsed them (defaults filled). */
export type ApiOf<M extends MethodMap> = {
  [K in keyof M]: (...args: z.output<M[K]['args']>) => Promise<M[K]['result']>;
};

/** The caller's shape: arguments as the schema accepts them (defaulted fields optional). */
export type CallerApiOf<M extends MethodMap> = {
  [K in keyof M]: (...args: z.input<M[K]['args']>) => Promise<M[K]['result']>;
};

export type EventPayloads<E extends EventMap> = { [K in keyof E]: E[K]['payload'] };

/** How the host side pushes an event to every connected UI. */
export type EmitEvent<E extends EventMap> = <K extends keyof E & string>(name: K, payload: E[K]['payload']) => void;

/** The UI-side client: the API plus event subscription. */
export type ClientOf<M extends MethodMap, E extends EventMap> = CallerApiOf<M> & {
  on<K extends keyof E & string>(name: K, listener: (payload: E[K]['payload']) => void): () => void;
};
