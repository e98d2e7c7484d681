// Imports form no circle: a module never depends, through others, on itself (issue 13).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph } from '../helpers/import-cycles';

const root = path.resolve(__dirname, '../..');

describe('import circles', () => {
  it('finds a circle when there is one, type-only imports included', () => {
    const graph = new Map([
      ['services/index.ts', ['services/tftp/service.ts', 'services/host.ts']],
      ['services/tftp/service.ts', ['services/index.ts']],
      ['services/host.ts', []],
      ['a.ts', ['a.ts']],
    ]);
    expect(importCycles(graph)).toEqual([['services/index.ts', 'services/tftp/service.ts'], ['a.ts']]);
    expect(
      importCycles(
        new Map([
          ['services/tftp/service.ts', ['services/host.ts']],
          ['services/host.ts', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('has none in electron/ (services take their host types from services/host.ts, not the composition root)', () => {
    expect(importCycles(importGraph(root, 'electron'))).toEqual([]);
  });

  it('has none in shared/', () => {
    expect(importCycles(importGraph(root, 'shared'))).toEqual([]);
  });

  it('has none in renderer/ (steps take their props from their own module, not from the wizard that imports every step)', () => {
    expect(importCycles(importGraph(root, 'renderer'))).toEqual([]);
  });
});
