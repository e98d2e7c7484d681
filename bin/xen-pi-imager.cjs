#!/usr/bin/env node
// The installed `xen-pi-imager` command: runs the built CLI bundle.
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { existsSync } = require('node:fs');

const bundle = path.join(__dirname, '..', 'out', 'cli', 'index.mjs');
if (!existsSync(bundle)) {
  process.stderr.write('xen-pi-imager: the CLI is not built yet. Run `npm run build` in ' + path.join(__dirname, '..') + '.\n');
  process.exit(1);
}
import(pathToFileURL(bundle).href);
