// Stage 1 (boot.scr on the card): set up the network or the card, fetch stage 2 and `source` it.
import { ImagerError } from '../errors';
import { ALIGN_2M, hexAddress } from './address';
import { UIMAGE_HEADER_SIZE } from './script-image';
import { parseIpv4 } from '../network/ipv4';
import { tftpTransferLines, type TftpTransfer } from './tftp-transfer';

export type Stage1Network =
  { method: 'static'; serverIp: string; boardIp: string; netmask?: string; gateway?: string } | { method: 'dhcp'; serverIp?: string };

export interface Stage1Input {
  /** 'tftp' fetches stage 2 over the network; 'sd' loads it from the card's boot partition. */
  mode: 'tftp' | 'sd';
  network?: Stage1Network;
  /** U-Boot's TFTP client settings (windowsize, block size) for every later load; absent: U-Boot's defaults. */
  tftp?: TftpTransfer;
  /** How stage 2 is loaded from the card in SD mode, e.g. `load mmc 0:1`. */
  sdLoadCommand?: string;
  /** Where stage 2 goes (0xC00000 on RPi4). */
  stage2Address: number;
  /** Stage 2's file name in the TFTP root or on the boot partition. */
  stage2Name: string;
  /** Where U-Boot loads stage 1 itself: the board's scriptaddr. */
  stage1Address: number;
}

function field(subject: string, message: string, hint: string): ImagerError {
  return new ImagerError({ code: 'INVALID_STAGE1', subject, message, hint });
}

function checkIp(value: string | undefined, subject: string, required: boolean): void {
  if (value === undefined || value === '') {
    if (required) throw field(subject, `The ${subject} is missing.`, 'Enter an IPv4 address such as 192.168.1.10.');
    return;
  }
  if (!parseIpv4(value))
    throw field(subject, `"${value}" is not an IPv4 address.`, 'Enter four numbers 0-255 separated by dots, such as 192.168.1.10.');
}

function networkLines(network: Stage1Network): string[] {
  if (network.method === 'static') {
    checkIp(network.serverIp, 'serverIp', true);
    checkIp(network.boardIp, 'boardIp', true);
    checkIp(network.netmask, 'netmask', false);
    checkIp(network.gateway, 'gateway', false);
    return [
      `setenv serverip ${network.serverIp}`,
      `setenv ipaddr ${network.boardIp}`,
      ...(network.netmask ? [`setenv netmask ${network.netmask}`] : []),
      ...(network.gateway ? [`setenv gatewayip ${network.gateway}`] : []),
    ];
  }
  checkIp(network.serverIp, 'serverIp', false);
  // autoload=no: `dhcp` would otherwise try to fetch the DHCP server's boot file by itself.
  // serverip after dhcp, so the user's TFTP server wins over the one DHCP announces.
  return ['setenv autoload no', 'dhcp', ...(network.serverIp ? [`setenv serverip ${network.serverIp}`] : [])];
}

/** Stage 1's source text (every line ends in LF). */
export function stage1Script(input: Stage1Input): string {
  const address = hexAddress(input.stage2Address);
  let lines: string[];
  if (input.mode === 'tftp') {
    if (!input.network)
      throw field('network', 'Network boot needs network settings.', 'Choose a static address or DHCP, and the TFTP server address.');
    lines = [...networkLines(input.network), ...tftpTransferLines(input.tftp ?? {}), `tftpb ${address} ${input.stage2Name}`];
  } else {
    lines = [`${input.sdLoadCommand ?? 'load mmc 0:1'} ${address} ${input.stage2Name}`];
  }
  lines.push(`source ${address}`);
  checkStage2Placement(input.stage1Address, UIMAGE_HEADER_SIZE + 8 + lines.join('\n').length + 1, input.stage2Address);
  return lines.join('\n') + '\n';
}

/** Stage 2 gets a 2 MiB slot (ImageBuilder's); it must not cover the bytes stage 1 occupies while it runs. */
export function checkStage2Placement(stage1Address: number, stage1Size: number, stage2Address: number): void {
  const stage1End = stage1Address + stage1Size;
  const stage2End = stage2Address + ALIGN_2M;
  if (stage2Address < stage1End && stage1Address < stage2End) {
    throw new ImagerError({
      code: 'STAGE2_OVERLAPS_STAGE1',
      subject: 'boot.stage2Address',
      message: `Stage 2 at ${hexAddress(stage2Address)} (2 MiB slot) would overwrite stage 1, which runs from ${hexAddress(stage1Address)}.`,
      hint: `Choose a stage-2 address at least 2 MiB below ${hexAddress(stage1Address)} or above ${hexAddress(stage1End)}.`,
      details: { stage1Address, stage1End, stage2Address, stage2End },
    });
  }
}
