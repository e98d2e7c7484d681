// Partition tables read from raw bytes: MBR primaries, logical partitions, GPT, and bare FAT volumes.
import { describe, expect, it } from 'vitest';
import { buildMbr, looksLikeFatBootSector, readPartitionTable } from '../../../shared/drives/partition-table';

function disk(size: number) {
  const bytes = new Uint8Array(size);
  const readAt = (offset: number, length: number) => bytes.subarray(offset, Math.min(offset + length, bytes.length));
  return { bytes, readAt };
}

function entry(sector: Uint8Array, slot: number, type: number, firstLba: number, sectors: number) {
  const at = 446 + slot * 16;
  const view = new DataView(sector.buffer, sector.byteOffset);
  sector[at + 4] = type;
  view.setUint32(at + 8, firstLba, true);
  view.setUint32(at + 12, sectors, true);
  sector[510] = 0x55;
  sector[511] = 0xaa;
}

describe('partition tables', () => {
  it('reads the primaries of an MBR it built', () => {
    const { bytes, readAt } = disk(1 << 20);
    bytes.set(
      buildMbr(
        [
          { firstLba: 8192, sectors: 1024000, type: 0x0c, bootable: true },
          { firstLba: 1032192, sectors: 2000000, type: 0x83 },
        ],
        0x1234abcd,
      ),
    );
    expect(new DataView(bytes.buffer).getUint32(440, true)).toBe(0x1234abcd);
    expect(readPartitionTable(readAt)).toEqual({
      scheme: 'mbr',
      sectorSize: 512,
      partitions: [
        { index: 1, offset: 8192 * 512, size: 1024000 * 512, type: '0c', bootable: true },
        { index: 2, offset: 1032192 * 512, size: 2000000 * 512, type: '83', bootable: false },
      ],
    });
  });

  it('follows the chain of logical partitions, numbered from 5', () => {
    const { bytes, readAt } = disk(64 * 512);
    entry(bytes, 0, 0x0c, 2, 6);
    entry(bytes, 1, 0x05, 10, 40);
    const ebr1 = bytes.subarray(10 * 512, 11 * 512);
    entry(ebr1, 0, 0x83, 1, 9); // first logical at 11
    entry(ebr1, 1, 0x05, 20, 20); // next EBR at extended start + 20 = 30
    const ebr2 = bytes.subarray(30 * 512, 31 * 512);
    entry(ebr2, 0, 0x83, 1, 10); // second logical at 31
    const table = readPartitionTable(readAt);
    expect(table?.partitions.map((p) => [p.index, p.offset / 512, p.size / 512, p.type])).toEqual([
      [1, 2, 6, '0c'],
      [5, 11, 9, '83'],
      [6, 31, 10, '83'],
    ]);
  });

  it('reads GPT entries behind a protective MBR', () => {
    const { bytes, readAt } = disk(64 * 512);
    entry(bytes, 0, 0xee, 1, 63);
    const header = bytes.subarray(512, 1024);
    header.set(new TextEncoder().encode('EFI PART'));
    const view = new DataView(bytes.buffer);
    view.setBigUint64(512 + 72, 2n, true);
    view.setUint32(512 + 80, 4, true);
    view.setUint32(512 + 84, 128, true);
    // Microsoft basic data: EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
    const guid = [0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44, 0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7];
    bytes.set(guid, 1024);
    bytes[1024 + 16] = 1;
    view.setBigUint64(1024 + 32, 34n, true);
    view.setBigUint64(1024 + 40, 50n, true);
    view.setBigUint64(1024 + 48, 4n, true);
    expect(readPartitionTable(readAt)).toEqual({
      scheme: 'gpt',
      sectorSize: 512,
      partitions: [{ index: 1, offset: 34 * 512, size: 17 * 512, type: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7', bootable: true }],
    });
  });

  it('sees no table on a blank disk or a bare FAT volume', () => {
    const { bytes, readAt } = disk(4096);
    expect(readPartitionTable(readAt)).toBeUndefined();
    bytes.set([0xeb, 0x3c, 0x90]);
    bytes.set([0x00, 0x02, 0x04], 11);
    bytes[510] = 0x55;
    bytes[511] = 0xaa;
    expect(looksLikeFatBootSector(bytes.subarray(0, 512))).toBe(true);
    expect(readPartitionTable(readAt)).toBeUndefined();
  });
});
