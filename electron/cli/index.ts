// Process entry of the CLI: wires real stdio, Ctrl-C and the exit status to runCli.
import { runCli } from './main';

const controller = new AbortController();
let interrupted = false;
const onSignal = () => {
  if (interrupted) process.exit(130); // a second Ctrl-C forces the exit
  interrupted = true;
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// A reader that went away (`xen-pi-imager serve | head`) makes the next write fail with EPIPE: stop
// writing there and stop the command, as SIGPIPE would, instead of dying with a stack trace.
const closed = new Set<NodeJS.WriteStream>();
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    closed.add(stream);
    if (stream === process.stdout || error.code !== 'EPIPE') controller.abort();
  });
}
const writeTo = (stream: NodeJS.WriteStream) => (text: string) => {
  if (!closed.has(stream)) stream.write(text);
};

runCli(process.argv.slice(2), {
  stdout: writeTo(process.stdout),
  stderr: writeTo(process.stderr),
  isTTY: Boolean(process.stdout.isTTY),
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
  stdin: process.stdin,
}).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`xen-pi-imager: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
