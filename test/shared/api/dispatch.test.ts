import { describe, expect, it } from 'vitest';
import { eventNames, isMethodName, methodNames, methods, type ImagerApi } from '../../../shared/api';
import { dispatchCall } from '../../../shared/api/dispatch';
import { ImagerError } from '../../../shared/errors';

function fakeServices(overrides: Partial<ImagerApi> = {}): ImagerApi {
  const api: Record<string, unknown> = {};
  for (const name of methodNames) api[name] = async () => `called ${name}`;
  return Object.assign(api, overrides) as ImagerApi;
}

describe('the contract', () => {
  it('lists the app info method and the log event', () => {
    expect(methodNames).toContain('appInfo');
    expect(eventNames).toContain('app:log');
    expect(isMethodName('appInfo')).toBe(true);
    expect(isMethodName('toString')).toBe(false);
    expect(isMethodName('__proto__')).toBe(false);
  });

  it('declares every method with a zod tuple of arguments', () => {
    for (const name of methodNames) {
      expect(methods[name].args.def.type, name).toBe('tuple');
    }
  });
});

describe('dispatchCall', () => {
  it('runs a known method and returns its value', async () => {
    const reply = await dispatchCall(fakeServices(), 'appInfo', []);
    expect(reply).toEqual({ ok: true, value: 'called appInfo' });
  });

  it('refuses a method outside the contract without calling anything', async () => {
    const reply = await dispatchCall(fakeServices(), 'constructor', []);
    expect(reply.ok).toBe(false);
    if (!reply.ok) {
      expect(reply.error.code).toBe('UNKNOWN_METHOD');
      expect(reply.error.subject).toBe('constructor');
    }
  });

  it('validates arguments with the method schema before the service sees them', async () => {
    let seen: unknown;
    const services = fakeServices({
      openExternal: async (url: string) => {
        seen = url;
      },
    });
    const bad = await dispatchCall(services, 'openExternal', ['file:///etc/passwd']);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('INVALID_ARGUMENT');
      expect(bad.error.message).toMatch(/openExternal/);
    }
    expect(seen).toBeUndefined();
    const tooMany = await dispatchCall(services, 'appInfo', ['extra']);
    expect(tooMany.ok).toBe(false);
    const good = await dispatchCall(services, 'openExternal', ['https://xenproject.org/']);
    expect(good.ok).toBe(true);
    expect(seen).toBe('https://xenproject.org/');
  });

  it('turns a thrown ImagerError into error data with its hint', async () => {
    const services = fakeServices({
      appInfo: async () => {
        throw new ImagerError({ code: 'NOT_FOUND', subject: '/x', message: 'No such thing.', hint: 'Pick another.' });
      },
    });
    const reply = await dispatchCall(services, 'appInfo', []);
    expect(reply).toEqual({ ok: false, error: { code: 'NOT_FOUND', subject: '/x', message: 'No such thing.', hint: 'Pick another.' } });
  });
});
