// A private apt source list built from the machine's own: the same mirror and keys, plus the components and suites
// the Pi 4 parts need (non-free-firmware for raspi-firmware, <release>-backports for QEMU with raspi4b).
import fs from 'node:fs';
import path from 'node:path';

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  signedBy?: string;
}

/** deb822 (.sources) stanzas and one-line (.list) entries of type deb. */
export function parseAptSources(text: string, oneLine: boolean): AptSource[] {
  if (oneLine) {
    return text
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim())
      .filter((line) => line.startsWith('deb '))
      .flatMap((line): AptSource[] => {
        const match = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
        if (!match) return [];
        const signedBy = /signed-by=(\S+)/.exec(match[1] ?? '')?.[1];
        return [{ uri: match[2]!, suites: [match[3]!], components: match[4]!.split(/\s+/).filter(Boolean), ...(signedBy && { signedBy }) }];
      });
  }
  return text
    .split(/\n\s*\n/)
    .map((stanza) => {
      const fields = new Map<string, string>();
      for (const line of stanza.split('\n')) {
        const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (match && !line.startsWith('#')) fields.set(match[1]!.toLowerCase(), match[2]!.trim());
      }
      return fields;
    })
    .filter((fields) => (fields.get('types') ?? '').split(/\s+/).includes('deb') && fields.get('enabled') !== 'no')
    .map((fields) => ({
      uri: (fields.get('uris') ?? '').split(/\s+/)[0] ?? '',
      suites: (fields.get('suites') ?? '').split(/\s+/).filter(Boolean),
      components: (fields.get('components') ?? '').split(/\s+/).filter(Boolean),
      ...(fields.get('signed-by') && { signedBy: fields.get('signed-by')! }),
    }))
    .filter((source) => source.uri && source.suites.length > 0);
}

/** The machine's apt sources (sources.list and sources.list.d). */
export function systemAptSources(etc = '/etc/apt'): AptSource[] {
  const sources: AptSource[] = [];
  const read = (file: string, oneLine: boolean) => {
    try {
      sources.push(...parseAptSources(fs.readFileSync(file, 'utf8'), oneLine));
    } catch {
      // absent or unreadable: nothing from it
    }
  };
  read(path.join(etc, 'sources.list'), true);
  const dir = path.join(etc, 'sources.list.d');
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    if (name.endsWith('.sources')) read(path.join(dir, name), false);
    else if (name.endsWith('.list')) read(path.join(dir, name), true);
  }
  return sources;
}

/** The Debian release (bookworm) the machine's sources serve. */
export function debianRelease(sources: AptSource[]): string | undefined {
  const suites = sources
    .flatMap((s) => s.suites)
    .filter((suite) => /^[a-z]+$/.test(suite) && !['stable', 'testing', 'unstable', 'sid'].includes(suite));
  return suites[0];
}

/**
 * One-line entries for a private list: every suite of the machine's Debian mirror with main and non-free-firmware,
 * and the release's backports (apt never prefers backports on its own, so only packages asked for by suite come from there).
 * Undefined when the machine has no Debian source we can extend (its own list is used as it is then).
 */
export function privateSourceList(sources: AptSource[], options: { backports?: boolean } = {}): string | undefined {
  const release = debianRelease(sources);
  if (!release) return undefined;
  const lines = new Set<string>();
  const entry = (source: AptSource, suite: string, components: string[]) =>
    `deb ${source.signedBy ? `[signed-by=${source.signedBy}] ` : ''}${source.uri} ${suite} ${components.join(' ')}`;
  for (const source of sources) {
    for (const suite of source.suites) {
      if (!suite.startsWith(release)) continue;
      const components = [...new Set([...source.components, 'main', 'non-free-firmware'])];
      lines.add(entry(source, suite, components));
    }
  }
  const main = sources.find((s) => s.suites.includes(release));
  if (options.backports && main && !sources.some((s) => s.suites.includes(`${release}-backports`)))
    lines.add(entry(main, `${release}-backports`, ['main']));
  return lines.size > 0 ? [...lines].join('\n') + '\n' : undefined;
}
