// Proves the layering rules bite: deliberately bad imports in each folder must be lint errors.
import { ESLint } from 'eslint';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function lintAs(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? [])
    .filter((m) => (m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals') && m.severity === 2)
    .map((m) => m.message);
}

/** Lints `import * as m from SPECIFIER` in `file`, once per specifier, expecting `errors` layering errors from each. */
async function expectImports(file: string, specifiers: string[], errors: 0 | 1): Promise<void> {
  for (const specifier of specifiers) {
    expect(await lintAs(file, `import * as m from '${specifier}';\nexport const x = m;\n`), `${file} imports ${specifier}`).toHaveLength(
      errors,
    );
  }
}

describe('layering (ESLint, error level)', () => {
  it('keeps shared/ free of Node, Electron, React and other folders', async () => {
    expect(await lintAs('shared/bad.ts', "import fs from 'node:fs';\nexport const x = fs;\n")).toHaveLength(1);
    expect(await lintAs('shared/bad.ts', "import { readFileSync } from 'fs';\nexport const x = readFileSync;\n")).toHaveLength(1);
    expect(await lintAs('shared/bad.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
    expect(
      await lintAs('shared/bad.ts', "import { createServices } from '../electron/services';\nexport const x = createServices;\n"),
    ).toHaveLength(1);
    expect(await lintAs('shared/bad.ts', "import { useState } from 'react';\nexport const x = useState;\n")).toHaveLength(1);
    expect(await lintAs('shared/good.ts', "import { ImagerError } from './errors';\nexport const x = ImagerError;\n")).toHaveLength(0);
  });

  it('takes the Node built-ins from Node itself, so v8, vm and worker_threads are refused too', async () => {
    const builtins = ['v8', 'node:v8', 'vm', 'worker_threads', 'node:test', 'perf_hooks'];
    await expectImports('shared/bad.ts', builtins, 1);
    await expectImports('renderer/src/bad.ts', builtins, 1);
  });

  it('lets shared/ import no package but zod', async () => {
    await expectImports('shared/bad.ts', ['ws', 'etcher-sdk', 'js-fatfs'], 1);
    await expectImports('shared/good.ts', ['zod', 'zod/mini'], 0);
  });

  it('keeps Node and DOM globals out of shared/, and Node globals out of the renderer', async () => {
    expect(await lintAs('shared/bad.ts', 'export const x = process.env.HOME;\n')).toHaveLength(1);
    expect(await lintAs('shared/bad.ts', "export const x = Buffer.from('a');\n")).toHaveLength(1);
    expect(await lintAs('shared/bad.ts', 'export const x = document.title;\n')).toHaveLength(1);
    expect(await lintAs('renderer/src/bad.ts', 'export const x = process.env.NODE_ENV;\n')).toHaveLength(1);
    expect(await lintAs('renderer/src/good.ts', 'export const x = document.title;\n')).toHaveLength(0);
  });

  it('keeps the renderer away from electron/ and Node built-ins', async () => {
    expect(await lintAs('renderer/src/bad.ts', "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;\n")).toHaveLength(1);
    expect(
      await lintAs('renderer/src/bad.ts', "import { createServices } from '../../electron/services';\nexport const x = createServices;\n"),
    ).toHaveLength(1);
    expect(await lintAs('renderer/src/bad.ts', "import path from 'node:path';\nexport const x = path;\n")).toHaveLength(1);
    expect(
      await lintAs('renderer/src/good.ts', "import { methodNames } from '../../shared/api';\nexport const x = methodNames;\n"),
    ).toHaveLength(0);
  });

  it('lets the views reach the host only through the actions module', async () => {
    const viaClient = "import { api } from '../api/client';\nexport const x = api;\n";
    expect(await lintAs('renderer/src/steps/Bad.tsx', viaClient)).toHaveLength(1);
    expect(await lintAs('renderer/src/components/Bad.tsx', viaClient)).toHaveLength(1);
    expect(await lintAs('renderer/src/wizard/bad.ts', viaClient)).toHaveLength(1);
    expect(await lintAs('renderer/src/steps/Bad.tsx', "import fs from 'node:fs';\nexport const x = fs;\n")).toHaveLength(1);
    expect(
      await lintAs('renderer/src/steps/Good.tsx', "import { listProfiles } from '../actions';\nexport const x = listProfiles;\n"),
    ).toHaveLength(0);
    expect(await lintAs('renderer/src/actions.ts', "import { api } from './api/client';\nexport const x = api;\n")).toHaveLength(0);
  });

  it('lets only electron/main and electron/preload import electron', async () => {
    expect(await lintAs('electron/services/bad.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
    expect(await lintAs('electron/cli/bad.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
    expect(await lintAs('electron/writer/bad.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
    expect(await lintAs('electron/main/good.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(0);
  });

  it('keeps the services below main, web and the CLI, and away from the writer’s code', async () => {
    await expectImports(
      'electron/services/drives/bad.ts',
      ['../../main/index', '../../web/server', '../../cli/main', '../main', '../../writer/flash'],
      1,
    );
    await expectImports('electron/services/drives/good.ts', ['../../node/fat'], 0);
  });

  it('lets the writer import shared/ and electron/node/, never the services', async () => {
    await expectImports('electron/writer/bad.ts', ['../services/drives/compose', '../services'], 1);
    await expectImports('electron/writer/good.ts', ['../node/fat/boot-edit', '../../shared/drives/writer-protocol'], 0);
    await expectImports('electron/node/fat/bad.ts', ['../../services', '../../writer/flash'], 1);
  });

  it('lets the CLI call each domain through its front door only', async () => {
    await expectImports('electron/cli/commands/bad.ts', ['../../services/drives/flash-runner', '../../services/boot-files/prepare'], 1);
    await expectImports('electron/cli/commands/good.ts', ['../../services/drives', '../../services/events', '../../services'], 0);
  });

  it('lets nothing import renderer/', async () => {
    expect(
      await lintAs('electron/main/bad.ts', "import { api } from '../../renderer/src/api/client';\nexport const x = api;\n"),
    ).toHaveLength(1);
    expect(
      await lintAs('electron/services/bad.ts', "import { api } from '../../renderer/src/api/client';\nexport const x = api;\n"),
    ).toHaveLength(1);
  });
});

/** Type-checks one probe file as if it sat in `file`, with the compiler options of the tsconfig nearest to it. */
function typeErrorsAs(file: string, code: string): string[] {
  const fileName = path.join(root, file);
  const configFile = ts.findConfigFile(path.dirname(fileName), ts.sys.fileExists)!;
  const { options } = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => (path.resolve(name) === fileName ? code : readFile(name));
  host.fileExists = (name) => path.resolve(name) === fileName || ts.sys.fileExists(name);
  host.getSourceFile = (name, language, ...rest) =>
    path.resolve(name) === fileName ? ts.createSourceFile(name, code, language) : getSourceFile(name, language, ...rest);
  const extraRoots = file.startsWith('shared/') ? [path.join(root, 'shared/globals.d.ts')] : [];
  const program = ts.createProgram([fileName, ...extraRoots], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('layering (the compiler: one tsconfig per layer)', () => {
  it('gives shared/ neither Node nor DOM types, only the web globals every runtime has', () => {
    expect(typeErrorsAs('shared/bad.ts', 'export const x = process.env.HOME;\n').join()).toMatch(/Cannot find name 'process'/);
    expect(typeErrorsAs('shared/bad.ts', "export const x = Buffer.from('a');\n").join()).toMatch(/Cannot find name 'Buffer'/);
    expect(typeErrorsAs('shared/bad.ts', 'export const x = document.title;\n').join()).toMatch(/Cannot find name 'document'/);
    expect(typeErrorsAs('shared/good.ts', "export const x = new TextEncoder().encode('a');\n")).toEqual([]);
  });

  it('gives the renderer the DOM and no Node types', () => {
    expect(typeErrorsAs('renderer/src/bad.ts', 'export const x = process.env.NODE_ENV;\n').join()).toMatch(/Cannot find name 'process'/);
    expect(typeErrorsAs('renderer/src/good.ts', 'export const x = document.title;\n')).toEqual([]);
  });

  it('gives Node code Node types and no DOM', () => {
    expect(typeErrorsAs('electron/services/bad.ts', 'export const x = document.title;\n').join()).toMatch(/Cannot find name 'document'/);
    expect(typeErrorsAs('electron/services/good.ts', 'export const x = process.env.HOME;\n')).toEqual([]);
  });

  it('checks every layer with its own tsconfig in npm run typecheck', async () => {
    const { scripts } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const layer of ['shared', 'electron', 'renderer']) expect(scripts.typecheck).toContain(`-p ${layer}`);
  });
});
