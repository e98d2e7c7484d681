// `xen-pi-imager drives`: the drives this computer can write, with their safety statuses.
import { parseArgs } from 'node:util';
import { formatDriveSize, driveShortName } from '../../../shared/drives/types';
import { driveRows, WriterClient } from '../../services/drives';
import type { CliCommand } from '../command';

const usage = `Usage: xen-pi-imager drives [--all] [--json]

Lists the drives (SD cards, USB drives) this computer can write, with a status for each:
system drive, read-only, unusually large. System drives are hidden unless --all.

Options:
  --all        Also list system drives
  --json       Print JSON (one array) instead of a table
  -h, --help   Show this help`;

export const drivesCommand: CliCommand = {
  name: 'drives',
  summary: 'List the drives that can be written, with safety statuses',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { all: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
      strict: true,
    });
    const writer = await WriterClient.start();
    try {
      const rows = driveRows(await writer.scan(), {}, values.all);
      if (values.json) {
        io.stdout(JSON.stringify(rows, null, 2) + '\n');
        return 0;
      }
      if (rows.length === 0) {
        io.stdout(values.all ? 'No drives found.\n' : 'No removable drives found (run with --all to include system drives).\n');
        return 0;
      }
      const table = rows.map((row) => [
        driveShortName(row),
        row.device,
        formatDriveSize(row.size),
        row.description,
        row.statuses.map((s) => s.code).join(',') || 'ok',
      ]);
      const header = ['NAME', 'DEVICE', 'SIZE', 'DESCRIPTION', 'STATUS'];
      const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? '').length)));
      for (const line of [header, ...table])
        io.stdout(
          line
            .map((cell, i) => cell.padEnd(widths[i] ?? 0))
            .join('  ')
            .trimEnd() + '\n',
        );
      for (const row of rows) for (const status of row.statuses) io.stdout(`  ${driveShortName(row)}: ${status.reason}\n`);
      return 0;
    } finally {
      await writer.close();
    }
  },
};
