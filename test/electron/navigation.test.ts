import { describe, expect, it } from 'vitest';
import { isAppUrl, isExternalLinkAllowed } from '../../electron/main/navigation';

describe('navigation rules', () => {
  it('sends only http(s) links to the system browser', () => {
    expect(isExternalLinkAllowed('https://xenproject.org/')).toBe(true);
    expect(isExternalLinkAllowed('file:///etc/passwd')).toBe(false);
    expect(isExternalLinkAllowed('javascript:alert(1)')).toBe(false);
    expect(isExternalLinkAllowed('smb://host/share')).toBe(false);
    expect(isExternalLinkAllowed('not a url')).toBe(false);
  });

  it('lets the window show only its own page', () => {
    const page = 'file:///app/out/renderer/index.html';
    expect(isAppUrl('file:///app/out/renderer/index.html#/review', page)).toBe(true);
    expect(isAppUrl('file:///etc/passwd', page)).toBe(false);
    expect(isAppUrl('https://evil.example/', page)).toBe(false);
  });
});
