// Profile files have one extension, .json, wherever the app writes or documents one (the README once said .xenpi while
// saved profiles were .json); older .xenpi exports are still read.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

describe('the profile file extension', () => {
  it('is .json in the README, the store, the export and fetch-parts, with no .xenpi association left', () => {
    expect(read('README.md')).toMatch(/Profile files are JSON and use the extension `\.json` everywhere/);
    expect(read('README.md')).not.toMatch(/use the extension `\.xenpi`/);
    expect(read('electron/services/profiles/store.ts')).toMatch(/const EXT = '\.json';/);
    expect(read('renderer/src/actions.ts')).toMatch(/link\.download = `\$\{summary\.id\}\.json`/);
    expect(read('electron/cli/commands/fetch-parts.ts')).not.toMatch(/\.xenpi/);
    const build = JSON.parse(read('package.json')).build;
    expect(build.fileAssociations ?? []).toEqual([]);
    expect(JSON.stringify(build)).not.toMatch(/"ext":"xenpi"|x-xen-pi-imager-profile/);
  });

  it('still opens .xenpi files from older exports', () => {
    expect(read('electron/main/index.ts')).toMatch(/\\\.\(xenpi\|json\)\$/);
  });
});
