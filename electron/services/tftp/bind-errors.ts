// Why the server could not listen, said so the user knows exactly what to do (privileged port 69, a port already taken).
import { realpathSync } from 'node:fs';
import { ImagerError } from '../../../shared/errors';

/** The binary that would need the capability: Node (CLI) or Electron (the app), symlinks resolved. */
function runtimeBinary(): string {
  try {
    return realpathSync(process.execPath);
  } catch {
    return process.execPath;
  }
}

export function bindError(error: unknown, address: string, port: number): ImagerError {
  const code = (error as { code?: string }).code;
  const where = `${address}:${port}`;
  const details = { systemCode: code, address, port };
  if (code === 'EACCES' || code === 'EPERM') {
    const helper = port < 1024 ? `UDP port ${port} is privileged on this system` : `the system refused UDP port ${port}`;
    return new ImagerError({
      code: 'PERMISSION_DENIED',
      subject: where,
      message: `Cannot listen for TFTP on ${where}: ${helper}, and this process may not bind it.`,
      hint:
        `Run the TFTP server through the elevated helper (or as root), or allow this runtime to bind low ports once with ` +
        `\`sudo setcap cap_net_bind_service=+ep ${runtimeBinary()}\`, or serve on a high port (e.g. --port 6969) and redirect ` +
        `port 69 to it with \`sudo iptables -t nat -A PREROUTING -p udp --dport ${port} -j REDIRECT --to-port 6969\`.`,
      details,
    });
  }
  if (code === 'EADDRINUSE') {
    return new ImagerError({
      code: 'ADDRESS_IN_USE',
      subject: where,
      message: `Cannot listen for TFTP on ${where}: another program already uses UDP port ${port}, probably another TFTP server (tftpd-hpa, dnsmasq, atftpd).`,
      hint:
        `Stop it first (\`sudo systemctl stop tftpd-hpa\`, or find it with \`sudo ss -ulpn 'sport = :${port}'\`), ` +
        `or serve on another port with --port.`,
      details,
    });
  }
  if (code === 'EADDRNOTAVAIL') {
    return new ImagerError({
      code: 'INVALID_ARGUMENT',
      subject: where,
      message: `Cannot listen for TFTP on ${where}: ${address} is not an address of this machine.`,
      hint: 'Pick one of the addresses the network step lists (or 0.0.0.0 for all of them).',
      details,
    });
  }
  return new ImagerError({
    code: 'IO_ERROR',
    subject: where,
    message: `Cannot listen for TFTP on ${where}: ${(error as Error)?.message ?? String(error)}.`,
    hint: 'Check the address and port, then try again.',
    details,
  });
}
