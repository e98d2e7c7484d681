// Every CLI command, in the order `--help` lists them. Adding a command: import it and add it here.
import type { CliCommand } from '../command';
import { serveUiCommand } from './ui';
import { drivesCommand } from './drives';
import { flashCommand } from './flash';
import { serveCommand } from './serve';
import { imagebuilderCommand } from './imagebuilder';
import { generateCommand } from './generate';
import { profileCommand } from './profile';
import { tryCommand } from './try';
import { fetchPartsCommand } from './fetch-parts';
import { consoleCommand } from './console';

export const commands: CliCommand[] = [
  serveUiCommand,
  drivesCommand,
  flashCommand,
  serveCommand,
  generateCommand,
  profileCommand,
  imagebuilderCommand,
  tryCommand,
  fetchPartsCommand,
  consoleCommand,
];
