// Proves the layering rules bite: deliberately bad imports in each folder must be lint errors.
import { ESLint } from 'eslint';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function lintAs(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports' && m.severity === 2).map((m) => m.message);
}

describe('layering (ESLint, error level)', () => {
  it('keeps shared/ free of Node, Electron, React and other folders', async () => {
    expect(await lintAs('shared/bad.ts', "import fs from 'node:fs';\nexport const x = fs;\n")).toHaveLength(1);
    expect(await lintAs('shared/bad.ts', "import { readFileSync } from 'fs';\nexport const x = readFileSync;\n")).toHaveLength(1);
    expect(await lintAs('shared/bad.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
    expect(await lintAs('shared/bad.ts', "import { createServices } from '../electron/services';\nexport const x = createServices;\n")).toHaveLength(1);
    expect(await lintAs('shared/bad.ts', "import { useState } from 'react';\nexport const x = useState;\n")).toHaveLength(1);
    expect(await lintAs('shared/good.ts', "import { ImagerError } from './errors';\nexport const x = ImagerError;\n")).toHaveLength(0);
  });

  it('keeps the renderer away from electron/ and Node built-ins', async () => {
    expect(await lintAs('renderer/src/bad.ts', "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;\n")).toHaveLength(1);
    expect(await lintAs('renderer/src/bad.ts', "import { createServices } from '../../electron/services';\nexport const x = createServices;\n")).toHaveLength(1);
    expect(await lintAs('renderer/src/bad.ts', "import path from 'node:path';\nexport const x = path;\n")).toHaveLength(1);
    expect(await lintAs('renderer/src/good.ts', "import { methodNames } from '../../shared/api';\nexport const x = methodNames;\n")).toHaveLength(0);
  });

  it('lets the views reach the host only through the actions module', async () => {
    const viaClient = "import { api } from '../api/client';\nexport const x = api;\n";
    expect(await lintAs('renderer/src/steps/Bad.tsx', viaClient)).toHaveLength(1);
    expect(await lintAs('renderer/src/components/Bad.tsx', viaClient)).toHaveLength(1);
    expect(await lintAs('renderer/src/wizard/bad.ts', viaClient)).toHaveLength(1);
    expect(await lintAs('renderer/src/steps/Bad.tsx', "import fs from 'node:fs';\nexport const x = fs;\n")).toHaveLength(1);
    expect(await lintAs('renderer/src/steps/Good.tsx', "import { listProfiles } from '../actions';\nexport const x = listProfiles;\n")).toHaveLength(0);
    expect(await lintAs('renderer/src/actions.ts', "import { api } from './api/client';\nexport const x = api;\n")).toHaveLength(0);
  });

  it('lets only electron/main and electron/preload import electron', async () => {
    expect(await lintAs('electron/services/bad.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
    expect(await lintAs('electron/cli/bad.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
    expect(await lintAs('electron/writer/bad.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
    expect(await lintAs('electron/main/good.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(0);
  });

  it('lets nothing import renderer/', async () => {
    expect(await lintAs('electron/main/bad.ts', "import { api } from '../../renderer/src/api/client';\nexport const x = api;\n")).toHaveLength(1);
    expect(await lintAs('electron/services/bad.ts', "import { api } from '../../renderer/src/api/client';\nexport const x = api;\n")).toHaveLength(1);
  });
});
