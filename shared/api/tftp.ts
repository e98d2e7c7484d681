// The built-in TFTP server as the UI sees it: start/stop on a root, its status, this machine's addresses, live transfers.
import { z } from 'zod';
import { profileSchema } from '../profile/schema';
import { event, method } from './contract';

export interface TftpPeer {
  address: string;
  port: number;
}

interface TransferFacts {
  /** Unique per server run; ties request, progress, done and error of one transfer together. */
  id: number;
  /** The name as the client sent it (for the UI: the Pi asking for `boot2.scr`). */
  file: string;
  client: TftpPeer;
  /** Milliseconds since the epoch. */
  time: number;
}

export interface TftpRequestEvent extends TransferFacts {
  kind: 'request';
  mode: string;
  /** Options as the client asked for them (blksize, timeout, tsize, windowsize...). */
  options: Record<string, string>;
}

export interface TftpProgressEvent extends TransferFacts {
  kind: 'progress';
  /** Bytes acknowledged so far. */
  bytes: number;
  /** The file's size when known (octet mode). */
  total?: number;
  ms: number;
}

export interface TftpDoneEvent extends TransferFacts {
  kind: 'done';
  bytes: number;
  ms: number;
  /** Bytes per second. */
  rate: number;
  blksize: number;
  windowsize: number;
  /** Blocks sent again after a timeout or a gap the client reported. */
  retransmissions: number;
}

export interface TftpErrorEvent extends TransferFacts {
  kind: 'error';
  /** What went wrong, for a person: "boot2.scr is not in the TFTP root". */
  why: string;
  /** The TFTP error code sent to the client, if one was sent. */
  code?: number;
}

export type TftpTransferEvent = TftpRequestEvent | TftpProgressEvent | TftpDoneEvent | TftpErrorEvent;

/**
 * Which limit a request ran into: a refusal because every slot (`transfers`) or the client's own
 * share (`per-client`) is taken by active transfers, an idle transfer ended to make room (`shed`),
 * a `timeout` option declined as too long, a `window` lowered to the bytes allowed in flight.
 */
export type TftpLimit = 'transfers' | 'per-client' | 'shed' | 'timeout' | 'window';

/** A limit the server applied. At most one per limit every few seconds; the others are counted in `suppressed`. */
export interface TftpLimitEvent {
  kind: 'limit';
  limit: TftpLimit;
  /** For a person: what was refused, ended or lowered, for whom, and by which limit (client text escaped). */
  message: string;
  client?: TftpPeer;
  file?: string;
  /** Milliseconds since the epoch. */
  time: number;
  /** Hits of the same limit since the previous notice that were not reported one by one. */
  suppressed: number;
}

export interface TftpLogEntry {
  time: number;
  level: 'info' | 'warn' | 'error';
  message: string;
  id?: number;
  file?: string;
  client?: TftpPeer;
}

export interface TftpActiveTransfer {
  id: number;
  file: string;
  client: TftpPeer;
  bytes: number;
  total?: number;
  startedAt: number;
}

export interface TftpStatus {
  running: boolean;
  address?: string;
  port?: number;
  root?: string;
  active: TftpActiveTransfer[];
  /** The most recent events, oldest first (bounded). */
  log: TftpLogEntry[];
}

/** One IPv4 address of this machine, for the wizard's network step (the Pi's serverip). */
export interface LocalAddress {
  interface: string;
  address: string;
  netmask: string;
  /** e.g. 192.168.1.10/24 */
  cidr: string | null;
  /** True for loopback. */
  internal: boolean;
}

export const tftpStartOptions = z.object({
  /** The folder to serve. Either this or `profile`. */
  root: z.string().min(1).optional(),
  /** A TFTP-mode profile: its generated stage 2 from memory, its Xen, kernels and device tree from disk. */
  profile: profileSchema.optional(),
  /** IPv4 address to listen on; defaults to 127.0.0.1 (nothing outside this machine can reach it). */
  address: z.ipv4().optional(),
  /** UDP port; defaults to 69 (what U-Boot always uses). */
  port: z.number().int().min(1).max(65535).optional(),
});

export type TftpStartOptions = z.infer<typeof tftpStartOptions>;

export interface TftpServeStatus extends TftpStatus {
  /** For a profile: the names it serves (what the Pi will ask for), and generation warnings. */
  serving?: string[];
  warnings?: string[];
}

export const tftpMethods = {
  /** Starts (or restarts with new settings) the TFTP server. */
  tftpStart: method(
    z.tuple([
      tftpStartOptions.refine((o) => (o.root === undefined) !== (o.profile === undefined), { message: 'Give either root or profile.' }),
    ]),
  ).returns<TftpServeStatus>(),
  tftpStop: method(z.tuple([])).returns<void>(),
  tftpStatus: method(z.tuple([])).returns<TftpStatus>(),
  /** This machine's IPv4 addresses, loopback last. */
  localAddresses: method(z.tuple([])).returns<LocalAddress[]>(),
};

export const tftpEvents = {
  'tftp:transfer': event<TftpTransferEvent>(),
  /** Refusals and limits the server applied, rate-limited (the transfer events say nothing of refused requests). */
  'tftp:limit': event<TftpLimitEvent>(),
};
