// The "what to do next" step about the TFTP server after a write: on this computer only when the profile's server address is one of its own.

/**
 * The sentence for a TFTP profile's server. `localAddresses` are this computer's IPv4 addresses (undefined while they
 * are not known yet); a server address that is not among them is said to be another machine's, with both ways on.
 */
export function tftpServerNextStep(serverIp: string | undefined, localAddresses: string[] | undefined): string {
  if (!serverIp)
    return 'Start the TFTP server (Network boot step) on the computer your DHCP server names as the TFTP server, with the board on the same network.';
  if (!localAddresses || localAddresses.includes(serverIp)) {
    return `Start the TFTP server (Network boot step) on this computer at ${serverIp}, with the board on the same network.`;
  }
  const own = localAddresses.filter((address) => !address.startsWith('127.'));
  const ours = own.length > 0 ? ` (this computer is ${own.join(', ')})` : '';
  return `The board will ask ${serverIp} for its files, and that is not this computer${ours}: serve the TFTP files (Review → Export) from ${serverIp}, or set the TFTP server to one of this computer’s addresses in the Network boot step, start the built-in server there, and write the card again.`;
}
