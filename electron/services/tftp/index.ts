// The TFTP domain's front door for the CLI: the server, what a profile serves, and how remote text is shown.
export { printable } from './printable';
export { createTftpServer, formatRate, type TftpServer, type TftpServerOptions } from './server';
export { localAddresses, tftpFilesForProfile } from './service';
