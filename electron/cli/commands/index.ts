// Every CLI command, in the order `--help` lists them. Adding a command: import it and add it here.
import type { CliCommand } from '../command';
import { serveUiCommand } from './ui';

export const commands: CliCommand[] = [serveUiCommand];
