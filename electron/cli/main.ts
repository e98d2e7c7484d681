// The command line: `xen-pi-imager [--help|--version] COMMAND [ARGS]`, on the same services as the app.
import { ImagerError, toErrorData } from '../../shared/errors';
import { formatError } from '../../shared/messages';
import { packageFacts } from '../services';
import { UsageError, type CliCommand, type CliIO } from './command';
import { commands as allCommands } from './commands';

export function mainUsage(commands: CliCommand[] = allCommands): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: xen-pi-imager COMMAND [OPTIONS]',
    '',
    'Set up the Xen hypervisor on a Raspberry Pi 4: boot scripts, SD cards, TFTP, QEMU trials.',
    '',
    'Commands:',
    ...lines,
    `  ${'help'.padEnd(width)}  Show the usage of a command (xen-pi-imager help COMMAND)`,
    '',
    'Options:',
    '  -h, --help     Show this help',
    '  -V, --version  Show the version',
    '',
    'Run `xen-pi-imager COMMAND --help` for the options of a command.',
  ].join('\n');
}

/**
 * `--port -1` as `--port=-1`: Node's parseArgs reads a value starting with a dash as an option and
 * stops with "argument is ambiguous"; a negative number is a value, for the command to judge.
 */
export function joinNegativeValues(argv: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg === '--') {
      joined.push(...argv.slice(i));
      break;
    }
    if (/^--[^=]+$/.test(arg) && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit status. */
export async function runCli(argv: string[], io: CliIO, commands: CliCommand[] = allCommands): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') {
    io.stdout(mainUsage(commands) + '\n');
    return first === undefined ? 2 : 0;
  }
  if (first === '-V' || first === '--version') {
    io.stdout(`${packageFacts().version}\n`);
    return 0;
  }
  if (first === 'help') {
    const target = commands.find((c) => c.name === rest[0]);
    io.stdout((target ? target.usage : mainUsage(commands)) + '\n');
    return target || rest.length === 0 ? 0 : 2;
  }
  const command = commands.find((c) => c.name === first);
  if (!command) {
    io.stderr(`xen-pi-imager: unknown command "${first}".\n\n${mainUsage(commands)}\n`);
    return 2;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    io.stdout(command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(joinNegativeValues(rest), io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`xen-pi-imager ${command.name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    if (error instanceof ImagerError) {
      io.stderr(`xen-pi-imager ${command.name}: ${formatError(error)}\n`);
      return 1;
    }
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or malformed options
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`xen-pi-imager ${command.name}: ${(error as Error).message}\n\n${command.usage}\n`);
      return 2;
    }
    // A system error that no command turned into a sentence yet: still a sentence, never a stack trace.
    const data = toErrorData(error);
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      io.stderr(`xen-pi-imager ${command.name}: ${formatError({ ...data, hint: 'Check the paths and values you gave.' })}\n`);
      return 1;
    }
    const trace = io.env.XEN_PI_IMAGER_DEBUG ? `\n${(error as Error)?.stack ?? ''}` : '';
    io.stderr(
      `xen-pi-imager ${command.name}: unexpected error: ${data.message}\n  This is a bug; please report it with the output of the same command run with XEN_PI_IMAGER_DEBUG=1.${trace}\n`,
    );
    return 1;
  }
}
