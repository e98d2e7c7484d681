// The wire format and option rules on their own: request decoding, OACK/error encoding, negotiation, netascii.
import { describe, expect, it } from 'vitest';
import { negotiate } from '../../../electron/services/tftp/options';
import { ackBlock, decodeRequest, encodeError, encodeOack, PacketError } from '../../../electron/services/tftp/packets';
import type { FileHandle } from 'node:fs/promises';
import { BlockSource, openSource, toNetascii } from '../../../electron/services/tftp/source';
import { encodeRequest } from './helpers';

/** The RFCs' own bounds only: what a client may ask and a server may answer, before our limits. */
const limits = { maxBlksize: 65464, maxWindowsize: 64, defaultTimeoutMs: 1000, maxTimeoutSeconds: 255, maxWindowBytes: Infinity };

describe('requests', () => {
  it('decodes name, mode and options (names lower-cased, first wins, trailing name ignored)', () => {
    const packet = Buffer.concat([
      encodeRequest(1, 'Boot2.scr', 'OCTET', [
        ['BLKSIZE', 1468],
        ['blksize', 512],
        ['tsize', 0],
      ]),
      Buffer.from('orphan\0'),
    ]);
    const request = decodeRequest(packet);
    expect(request).toMatchObject({ opcode: 1, file: 'Boot2.scr', mode: 'octet' });
    expect([...request.options]).toEqual([
      ['blksize', '1468'],
      ['tsize', '0'],
    ]);
  });

  it('refuses requests without terminators, a mode or a name', () => {
    expect(() => decodeRequest(Buffer.from('\0\x01name', 'latin1'))).toThrow(PacketError);
    expect(() => decodeRequest(Buffer.from('\0\x01name\0', 'latin1'))).toThrow(/lacks a file name or a mode/);
    expect(() => decodeRequest(Buffer.from('\0\x01\0octet\0', 'latin1'))).toThrow(expect.objectContaining({ code: 1 }));
    expect(() => decodeRequest(Buffer.from([0, 4, 0, 1]))).toThrow(/not a request/);
  });

  it('encodes OACK and ERROR, reads ACK block numbers', () => {
    expect(
      encodeOack([
        ['blksize', '1468'],
        ['tsize', '42'],
      ]).toString('latin1'),
    ).toBe('\0\x06blksize\x001468\0tsize\x0042\0');
    expect(encodeError(2, 'Access violation').toString('latin1')).toBe('\0\x05\0\x02Access violation\0');
    expect(ackBlock(Buffer.from([0, 4, 0xff, 0xff]))).toBe(65535);
    expect(ackBlock(Buffer.from([0, 4, 1]))).toBeUndefined();
    expect(ackBlock(Buffer.from([0, 3, 0, 1]))).toBeUndefined();
  });
});

describe('negotiation', () => {
  const options = (entries: Array<[string, string]>) => new Map(entries);

  it('acknowledges what U-Boot asks, with the real size for tsize', () => {
    const result = negotiate(
      options([
        ['timeout', '5'],
        ['tsize', '0'],
        ['blksize', '1468'],
        ['windowsize', '8'],
      ]),
      123456,
      limits,
    );
    expect(result).toEqual({
      blksize: 1468,
      windowsize: 8,
      timeoutMs: 5000,
      reply: [
        ['timeout', '5'],
        ['tsize', '123456'],
        ['blksize', '1468'],
        ['windowsize', '8'],
      ],
    });
  });

  it('clamps blksize to 8–65464 and windowsize to the server maximum; ignores invalid values', () => {
    expect(negotiate(options([['blksize', '65465']]), 1, limits).blksize).toBe(65464);
    expect(negotiate(options([['blksize', '8']]), 1, limits).blksize).toBe(8);
    expect(negotiate(options([['blksize', '7']]), 1, limits).reply).toEqual([]);
    expect(negotiate(options([['blksize', '-1']]), 1, limits).reply).toEqual([]);
    expect(negotiate(options([['blksize', '0x400']]), 1, limits).reply).toEqual([]);
    expect(negotiate(options([['timeout', '256']]), 1, limits).reply).toEqual([]);
    expect(negotiate(options([['timeout', '255']]), 1, limits).timeoutMs).toBe(255_000);
    expect(negotiate(options([['windowsize', '65535']]), 1, limits).windowsize).toBe(64);
    expect(negotiate(options([['windowsize', '0']]), 1, limits).reply).toEqual([]);
    expect(negotiate(options([['tsize', '0']]), undefined, limits).reply).toEqual([]);
  });
});

describe('block sources', () => {
  it('builds DATA packets from memory, the last one short (empty when the size is a multiple)', async () => {
    const source = openSource({ bytes: new Uint8Array(16).map((_, i) => i) }, 8, 'octet');
    await source.load(3);
    expect([...source.peek(1)!]).toEqual([0, 3, 0, 1, 0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...source.peek(2)!.subarray(0, 4)]).toEqual([0, 3, 0, 2]);
    expect(source.peek(3)!.length).toBe(4);
    expect(source.peek(4)).toBeUndefined();
    await source.close();
  });

  it('joins pieces into whole blocks and numbers blocks past 65535 from 0 again', async () => {
    const pieces = [Buffer.from('abc'), Buffer.from('defgh'), Buffer.from('ij')];
    const source = new BlockSource(async () => pieces.shift() ?? null, 4, 0);
    await source.load(3);
    expect([1, 2, 3].map((i) => source.peek(i)!.subarray(4).toString())).toEqual(['abcd', 'efgh', 'ij']);
    const long = openSource({ bytes: new Uint8Array(8 * 65_537) }, 8, 'octet');
    await long.load(65_538);
    expect([65_535, 65_536, 65_537, 65_538].map((i) => long.peek(i)!.readUInt16BE(2))).toEqual([65_535, 0, 1, 2]);
    expect(long.peek(65_538)!.length).toBe(4);
  });

  it('reads a file straight into its packets, even when the kernel returns less than asked each time', async () => {
    const file = Buffer.from(Array.from({ length: 8 * 3000 + 5 }, (_, i) => (i * 7) & 0xff));
    const calls: number[] = [];
    // a FileHandle whose readv stops after at most 1000 bytes, mid-packet, as a readv may
    const handle = {
      async readv(buffers: Buffer[], position: number) {
        calls.push(buffers.length);
        let done = 0;
        for (const buffer of buffers) {
          const n = Math.min(buffer.length, 1000 - done, file.length - position - done);
          if (n <= 0) break;
          file.copy(buffer, 0, position + done, position + done + n);
          done += n;
        }
        return { bytesRead: done, buffers };
      },
      close: async () => undefined,
    } as unknown as FileHandle;
    const source = openSource({ handle, size: file.length }, 8, 'octet');
    await source.load(3001);
    const blocks = Array.from({ length: 3001 }, (_, i) => source.peek(i + 1)!);
    expect(blocks.map((b) => b.readUInt16BE(2))).toEqual(Array.from({ length: 3001 }, (_, i) => i + 1));
    expect(Buffer.concat(blocks.map((b) => b.subarray(4)))).toEqual(file);
    expect(blocks.at(-1)!.length).toBe(4 + 5);
    expect(source.peek(3002)).toBeUndefined();
    // no vector longer than IOV_MAX
    expect(Math.max(...calls)).toBeLessThanOrEqual(1024);
  });

  it('converts line ends to netascii (LF → CR LF, CR → CR NUL)', () => {
    expect(toNetascii(Buffer.from('a\nb\rc\r\n')).toString('latin1')).toBe('a\r\nb\r\0c\r\0\r\n');
    const plain = Buffer.from('no line end');
    expect(toNetascii(plain)).toBe(plain);
  });
});
