import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ErrorCode, ImagerError } from '../../shared/errors';
import { errorMessages, formatError, messageOf, wayForwardOf } from '../../shared/messages';

describe('error codes and their messages', () => {
  const codes = Object.keys(errorMessages) as ErrorCode[];

  it('gives every code one sentence saying what happened and one saying the way forward', () => {
    for (const code of codes) {
      const { sentence, wayForward } = messageOf(code);
      expect(sentence, code).toMatch(/^[A-Z].*\.$/);
      expect(wayForward, code).toMatch(/^[A-Z].*\.$/);
      expect(wayForward, code).not.toBe(sentence);
    }
  });

  it('declares no code that nothing reports (the compiler already refuses an undeclared one)', () => {
    const root = path.resolve(__dirname, '../..');
    const sources = ['shared', 'electron', 'renderer']
      .flatMap((folder) =>
        readdirSync(path.join(root, folder), { recursive: true, encoding: 'utf8' })
          .filter((file) => /\.tsx?$/.test(file) && !/(^|\/)(errors|messages)\.ts$/.test(file))
          .map((file) => readFileSync(path.join(root, folder, file), 'utf8')),
      )
      .join('\n');
    expect(codes.filter((code) => !sources.includes(`'${code}'`))).toEqual([]);
  });

  it('refuses a misspelt code at compile time', () => {
    // @ts-expect-error 'NOT_FOUNDD' is not an ErrorCode: a typo does not compile
    const typo: ErrorCode = 'NOT_FOUNDD';
    // @ts-expect-error nor may a throw site invent a code
    const invented = new ImagerError({ code: 'SOMETHING_NEW', message: 'x' });
    expect([typo, invented.code]).toEqual(['NOT_FOUNDD', 'SOMETHING_NEW']);
  });

  it('shows the error’s own hint first, and the code’s way forward when it has none', () => {
    expect(wayForwardOf({ code: 'NOT_FOUND', hint: 'Pick xen again.' })).toBe('Pick xen again.');
    expect(wayForwardOf({ code: 'NOT_FOUND' })).toBe(errorMessages.NOT_FOUND.wayForward);
    expect(formatError({ code: 'CANCELLED', message: 'The write was cancelled.', subject: '/dev/sdb' })).toBe(
      `The write was cancelled. [/dev/sdb]\n  ${errorMessages.CANCELLED.wayForward}`,
    );
  });

  it('reads a code from an older process that this one does not know as an internal error', () => {
    expect(messageOf('GONE_NOW' as ErrorCode)).toBe(errorMessages.INTERNAL);
  });
});
