// Windows of 16 with U-Boot's own TFTP client rules (net/tftp.c of v2023.01, Debian bookworm's, and of v2023.04 on),
// blocks and ACKs lost at the worst places: every file arrives whole, and each loss costs one retransmission timeout at most.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest, randomFile, startServer, tempRoot, type RunningServer } from './helpers';

const BLKSIZE = 1468;
const WINDOW = 16;
/** Stage 1's `tftptimeout 1000`: U-Boot waits 1 s itself and asks the server for `timeout 1`. */
const TIMEOUT_S = 1;

interface Losses {
  /** DATA blocks (by index from 1) lost the first time the server sends them. */
  data?: number[];
  /** ACKs (by the block they acknowledge) lost the first time the client sends them. */
  acks?: number[];
}

/**
 * U-Boot's DATA handling, line for line where it matters: an out-of-order block makes it ACK its last good block once
 * per position and count its next window from there (`tftp_next_ack = cur + windowsize`); 2023.04 added one rule,
 * "an old block (already received) is not ACKed". Its own timeout resends the last ACK. Returns the bytes received.
 */
function ubootFetch(port: number, file: string, version: '2023.01' | '2023.04', losses: Losses): Promise<Buffer> {
  const clientTimeoutMs = TIMEOUT_S * 1000;
  const socket = dgram.createSocket('udp4');
  const lostData = new Set(losses.data);
  const lostAcks = new Set(losses.acks);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let server = port;
    let cur = 0; // tftp_cur_block (not wrapped here: the test files stay under 65536 blocks)
    let nextAck = WINDOW;
    let lastNack = -1;
    let timer: NodeJS.Timeout;
    let timeouts = 0;
    const send = (block: number) => {
      if (lostAcks.delete(block)) return; // lost on the way, once
      socket.send(Buffer.from([0, 4, (block >> 8) & 0xff, block & 0xff]), server, '127.0.0.1');
    };
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (++timeouts > 10) return done(new Error(`U-Boot ${version} gave up at block ${cur}`));
        send(cur); // tftp_timeout_handler: tftp_send() again
        rearm();
      }, clientTimeoutMs);
    };
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    socket.on('message', (packet, rinfo) => {
      const opcode = packet.readUInt16BE(0);
      if (opcode === 5) return done(new Error(`server error: ${packet.toString('latin1', 4)}`));
      server = rinfo.port;
      if (opcode === 6) {
        rearm();
        return send(0); // the OACK's ACK
      }
      if (opcode !== 3) return;
      const block = packet.readUInt16BE(2);
      if (lostData.delete(block)) return; // lost on the way, the first time it was sent
      // U-Boot restarts its timeout only for the block it expects (net_set_timeout_handler after the checks)
      if (block !== cur + 1) {
        if (version === '2023.04' && block < cur + 1) return; // "Fix for DATA ACK for block count out of order"
        if (lastNack !== cur) {
          send(cur);
          lastNack = cur;
          nextAck = cur + WINDOW;
        }
        return;
      }
      rearm();
      cur++;
      chunks.push(Buffer.from(packet.subarray(4)));
      if (packet.length - 4 < BLKSIZE) {
        send(cur);
        return done();
      }
      if (cur === nextAck) {
        send(cur);
        nextAck += WINDOW;
      }
    });
    socket.bind(0, '127.0.0.1', () => {
      const options: Array<[string, number]> = [
        ['timeout', TIMEOUT_S],
        ['tsize', 0],
        ['blksize', BLKSIZE],
        ['windowsize', WINDOW],
      ];
      socket.send(encodeRequest(1, file, 'octet', options), port, '127.0.0.1');
      rearm();
    });
  });
}

let root: string;
let running: RunningServer;
let retransmissions = 0;
const blocks = 200;
let file: Buffer;

beforeAll(async () => {
  root = tempRoot();
  file = randomFile(root, 'vmlinuz', blocks * BLKSIZE - 100);
  running = await startServer({ root });
  running.server.on('done', (done) => (retransmissions = done.retransmissions));
});
afterAll(() => running.server.close());

describe.each(['2023.01', '2023.04'] as const)('U-Boot %s fetching windows of 16 from the built-in server', (version) => {
  const cases: Array<[string, Losses, number]> = [
    ['nothing lost', {}, 0],
    ['a block in the middle of a window', { data: [40] }, 1],
    ['the last block of a window', { data: [48] }, 1],
    ['the ACK of a window (the server resends what U-Boot has)', { acks: [32] }, 1],
    ['a block, then the same block resent', { data: [70, 70] }, 2],
    ['the ACK of the first window and a block of the next', { acks: [16], data: [20] }, 2],
  ];
  it.each(cases)('gets the file whole with %s, each loss costing at most one 1 s wait', async (_what, losses, worstWaits) => {
    retransmissions = 0;
    const started = performance.now();
    const received = await ubootFetch(running.port, 'vmlinuz', version, losses);
    const seconds = (performance.now() - started) / 1000;
    expect(received.equals(file)).toBe(true);
    // whichever side's 1 s timeout fires first recovers the loss; a second, doubled wait (2 s) would be a stall
    expect(seconds).toBeLessThan(worstWaits * TIMEOUT_S + 1.5);
    if (worstWaits === 0) expect(retransmissions).toBe(0);
  });
});
