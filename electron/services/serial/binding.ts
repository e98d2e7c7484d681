// serialport's own binding, with one fix: a read that returns no bytes means the line was hung up.
//
// On Linux and macOS, serialport 13 reads the port with non-blocking read(2) and, when read returns 0, reads again at
// once (serialport/bindings-cpp issue 162, still so in 13.0.1). A tty returns 0 only once it has been hung up: the
// USB-UART adapter was unplugged, or the far end of a pty closed between the poll and the read. The stream then never
// hears of it and the app spins a core at 100% with the console stuck on "open". Here a 0-byte read is the
// disconnection it is, so the line says "went away" and waits for the adapter to come back.
import fs from 'node:fs';
import { promisify } from 'node:util';
import { SerialPort } from 'serialport';

const readAsync = promisify(fs.read);

type DetectedBinding = typeof SerialPort.binding;
type PortBinding = Awaited<ReturnType<DetectedBinding['open']>>;

/** What the Unix port bindings (LinuxPortBinding, DarwinPortBinding) carry besides the interface. */
interface UnixPortBinding {
  fd: number | null;
  poller: { once(event: 'readable', callback: (error: Error | null) => void): unknown };
}

const isUnixPort = (port: object): port is UnixPortBinding => 'poller' in port && 'fd' in port;

/** The errors serialport's stream understands: `canceled` (closed by us, say nothing) and `disconnect`. */
const canceled = () => Object.assign(new Error('Port is not open'), { canceled: true });
const hungUp = () => Object.assign(new Error('The serial line was hung up (the adapter went away)'), { disconnect: true });

/** Reads at least one byte, waiting for the poller between tries; a read of 0 bytes is a hang-up, not a retry. */
export async function readUnix(port: UnixPortBinding & { isOpen: boolean }, buffer: Buffer, offset: number, length: number) {
  for (;;) {
    if (!port.isOpen || port.fd === null) throw canceled();
    try {
      const { bytesRead } = await readAsync(port.fd, buffer, offset, length, null);
      if (bytesRead === 0) throw hungUp();
      return { bytesRead, buffer };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw error;
      if (!port.isOpen) throw canceled();
      await new Promise<void>((resolve, reject) => port.poller.once('readable', (failed) => (failed ? reject(failed) : resolve())));
    }
  }
}

/** The detected binding, whose Unix ports read with `readUnix`. Windows ports are left as they are. */
export const serialBinding: DetectedBinding = {
  list: () => SerialPort.binding.list(),
  async open(options: Parameters<DetectedBinding['open']>[0]): Promise<PortBinding> {
    const port = await SerialPort.binding.open(options);
    if (isUnixPort(port)) {
      const unix = port as PortBinding & UnixPortBinding;
      unix.read = (buffer: Buffer, offset: number, length: number) => {
        if (buffer.length < offset + length) return Promise.reject(new Error('buffer is too small'));
        return readUnix(unix, buffer, offset, length);
      };
    }
    return port;
  },
} as DetectedBinding;
