// How U-Boot fetches files over TFTP: RFC 7440 windows and the block size stage 1 asks for, by who serves the board.
import type { Profile } from '../profile/schema';

/**
 * Blocks per ACK when the built-in server serves the board. U-Boot's own receive queues hold more
 * (virtio-net 32 buffers, the Pi 4's GENET 256 descriptors), and 16 × 1468 bytes stays well inside the
 * built-in server's 64 KiB per transfer, so a window arrives whole on a quiet LAN.
 */
export const BUILT_IN_WINDOWSIZE = 16;

/**
 * The largest block every U-Boot takes in one Ethernet frame: 1500 − IP, UDP and TFTP headers.
 * U-Boot's own stack without CONFIG_IP_DEFRAG (Debian's 2023.01, the Raspberry Pi defconfigs) caps
 * `tftpblocksize` here; the lwIP stack (rpi_arm64 from v2026.07) reassembles at most 4 fragments.
 */
export const SAFE_BLOCKSIZE = 1468;

/**
 * U-Boot's retransmission timeout with the built-in server (`tftptimeout`, in ms; 1000 is the least it takes). U-Boot
 * asks the server for the same (RFC 2349), so a lost block or ACK costs 1 s instead of U-Boot's default 5 s.
 */
export const BUILT_IN_TIMEOUT_MS = 1000;

/** U-Boot's environment for its TFTP client; absent values keep U-Boot's own defaults (1468 bytes, lock-step, 5 s). */
export interface TftpTransfer {
  windowsize?: number;
  blocksize?: number;
  timeoutMs?: number;
}

/**
 * What stage 1 sets. The built-in server gets windows of 16 and 1468-byte blocks: it never resends a
 * whole window (one probe block after a timeout) and takes an ACK for a block inside the window as the
 * new window start, which is where U-Boot 2020.10–2023.01 restarts counting after it ACKs a block it
 * already had (fixed in 2023.04, commit "net: tftp: Fix for DATA ACK for block count out of order").
 * When U-Boot's own timeout fires first instead (the two are equal), a 2023.01 U-Boot resends its ACK without moving
 * its count, and each later window of that file goes out about twice: slower, never wrong.
 * An external server stays lock-step unless the profile says otherwise: a server that resends whole
 * windows drives those U-Boots out of step, each later window then waiting for a timeout.
 * U-Boots before 2020.10 and lwIP's (which reads only `tftpblocksize`) ignore `tftpwindowsize`: lock-step.
 */
export function tftpTransferFor(profile: Profile): TftpTransfer {
  const asked = profile.boot.tftp;
  if ((asked?.server ?? 'built-in') === 'built-in') {
    return {
      windowsize: asked?.windowsize ?? BUILT_IN_WINDOWSIZE,
      blocksize: asked?.blocksize ?? SAFE_BLOCKSIZE,
      timeoutMs: BUILT_IN_TIMEOUT_MS,
    };
  }
  return {
    ...(asked?.windowsize !== undefined && { windowsize: asked.windowsize }),
    ...(asked?.blocksize !== undefined && { blocksize: asked.blocksize }),
  };
}

/** The `setenv` lines for U-Boot's TFTP client (empty: U-Boot's defaults). */
export function tftpTransferLines(transfer: TftpTransfer): string[] {
  return [
    ...(transfer.blocksize !== undefined ? [`setenv tftpblocksize ${transfer.blocksize}`] : []),
    ...(transfer.windowsize !== undefined ? [`setenv tftpwindowsize ${transfer.windowsize}`] : []),
    ...(transfer.timeoutMs !== undefined ? [`setenv tftptimeout ${transfer.timeoutMs}`] : []),
  ];
}
