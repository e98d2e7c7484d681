// The serial domain's front door for the CLI: the ports this computer has, and a console session on one.
export { listSerialPorts } from './ports';
export { DEFAULT_BAUD } from './service';
export { openConsoleSession } from './session';
