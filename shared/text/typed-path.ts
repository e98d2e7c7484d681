// A path as people type or paste it: quotes from "Copy as path" taken off, and `~` meaning the home folder.

/**
 * `'/home/me/My Pi/xen'` → `/home/me/My Pi/xen`; `~/parts/xen` → `<home>/parts/xen`; anything else exactly as typed
 * (a field calls this on every keystroke, so a space typed inside a name must stay).
 */
export function cleanTypedPath(typed: string, homeDir: string | undefined): string {
  const quoted = /^\s*(["'])(.+)\1\s*$/s.exec(typed);
  const text = quoted ? quoted[2]! : typed;
  if (homeDir && (text === '~' || text.startsWith('~/') || text.startsWith('~\\'))) return homeDir.replace(/[\\/]+$/, '') + text.slice(1);
  return text;
}
