// The script image equals Debian's mkimage byte for byte, dumpimage accepts it, and the reader catches damage.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32 } from '../../../shared/boot/crc32';
import { readScriptImage, scriptTimestamp, writeScriptImage } from '../../../shared/boot/script-image';
import { ImagerError } from '../../../shared/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'script-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mkimage(source: Uint8Array, load: number, name: string | undefined, epoch: number): Buffer {
  const src = path.join(dir, 'in.source');
  const out = path.join(dir, 'out.scr');
  writeFileSync(src, source);
  const hex = `0x${load.toString(16)}`;
  execFileSync(
    'mkimage',
    ['-A', 'arm64', '-T', 'script', '-C', 'none', '-a', hex, '-e', hex, ...(name !== undefined ? ['-n', name] : []), '-d', src, out],
    {
      env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
      stdio: 'pipe',
    },
  );
  return readFileSync(out);
}

const bigScript = Array.from({ length: 400 }, (_, i) => `setenv line${i} "value ${i}"`).join('\n') + '\n';
const cases: Array<[string, Uint8Array, number, string | undefined]> = [
  ['a 1-byte script', new TextEncoder().encode('\n'), 0x2400000, undefined],
  ['a 2-byte script (not a multiple of 4)', new TextEncoder().encode('a\n'), 0x2400000, undefined],
  ['a multi-KB script', new TextEncoder().encode(bigScript), 0xc00000, undefined],
  ['a non-ASCII script', new TextEncoder().encode('echo "Grüße, Xen — ✓"\n'), 0x40200000, undefined],
  ['a named script', new TextEncoder().encode('source 0xC00000\n'), 0x2400000, 'Xen Pi Imager stage 1'],
  ['a name longer than 32 bytes', new TextEncoder().encode('booti\n'), 0x2400000, 'a name that is far longer than thirty-two bytes'],
  ['a non-ASCII name', new TextEncoder().encode('booti\n'), 0x80000, 'stage 2 ✓'],
  ['binary bytes', Uint8Array.from({ length: 1021 }, (_, i) => (i * 37) & 0xff), 0xfffff000, undefined],
  ['load address zero', new TextEncoder().encode('echo hi\n'), 0, 'x'],
];

describe('U-Boot script image', () => {
  it('computes the same CRC-32 as zlib', () => {
    for (const bytes of [new Uint8Array(0), new TextEncoder().encode('123456789'), Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff)]) {
      expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    }
    expect(crc32(new TextEncoder().encode('456789'), crc32(new TextEncoder().encode('123')))).toBe(0xcbf43926);
  });

  it.each(cases)('writes %s exactly as mkimage does', (_, source, load, name) => {
    const epoch = 1_700_000_000 + source.length;
    const ours = writeScriptImage(source, { loadAddress: load, timestamp: epoch, ...(name !== undefined && { name }) });
    expect(Buffer.from(ours).equals(mkimage(source, load, name, epoch))).toBe(true);
  });

  it('is accepted by dumpimage -l, which shows our name, addresses and size', () => {
    const file = path.join(dir, 'ours.scr');
    writeFileSync(file, writeScriptImage('setenv serverip 10.0.0.1\n', { loadAddress: 0x2400000, name: 'stage one', timestamp: 0 }));
    const listing = execFileSync('dumpimage', ['-l', file], { encoding: 'utf8' });
    expect(listing).toContain('Image Name:   stage one');
    expect(listing).toContain('AArch64 Linux Script (uncompressed)');
    expect(listing).toMatch(/Image 0: 25 Bytes/);
    expect(listing).toContain('Load Address: 02400000');
    expect(listing).toMatch(/Data Size:\s+33 Bytes/);
  });

  it('reads back the source, name, addresses and timestamp', () => {
    const image = writeScriptImage('booti 0x2800000 - 0x2A00000\n', {
      loadAddress: 0xc00000,
      entryPoint: 0xc00040,
      name: 'boot2',
      timestamp: 42,
    });
    const read = readScriptImage(image);
    expect(read).toMatchObject({
      source: 'booti 0x2800000 - 0x2A00000\n',
      loadAddress: 0xc00000,
      entryPoint: 0xc00040,
      name: 'boot2',
      timestamp: 42,
      type: 6,
      arch: 22,
      os: 5,
    });
    expect(read.imageSize).toBe(image.length);
  });

  it('rejects a wrong magic, a damaged header, damaged data, a truncated file and a non-script image', () => {
    const good = writeScriptImage('echo ok\n', { loadAddress: 0x2400000, timestamp: 1 });
    const damage = (at: number) => {
      const copy = good.slice();
      copy[at] = copy[at]! ^ 0xff;
      return copy;
    };
    const codeOf = (bytes: Uint8Array) => {
      try {
        readScriptImage(bytes);
        return 'accepted';
      } catch (error) {
        expect(error).toBeInstanceOf(ImagerError);
        return (error as ImagerError).message;
      }
    };
    expect(codeOf(damage(0))).toMatch(/magic/);
    expect(codeOf(damage(40))).toMatch(/header CRC/);
    expect(codeOf(damage(good.length - 1))).toMatch(/data CRC/);
    expect(codeOf(good.subarray(0, good.length - 2))).toMatch(/truncated/);
    expect(codeOf(good.subarray(0, 10))).toMatch(/shorter than a U-Boot image header/);
    const kernelImage = path.join(dir, 'kernel.img');
    writeFileSync(path.join(dir, 'k.bin'), 'not a kernel');
    execFileSync(
      'mkimage',
      ['-A', 'arm64', '-T', 'kernel', '-C', 'none', '-a', '0', '-e', '0', '-d', path.join(dir, 'k.bin'), kernelImage],
      { stdio: 'pipe' },
    );
    expect(codeOf(readFileSync(kernelImage))).toMatch(/not a script/);
  });

  it('takes the timestamp from SOURCE_DATE_EPOCH, else the clock', () => {
    expect(scriptTimestamp('1234')).toBe(1234);
    expect(scriptTimestamp(undefined, new Date(5_000))).toBe(5);
    expect(scriptTimestamp('', new Date(7_000))).toBe(7);
    expect(() => scriptTimestamp('yesterday')).toThrow(/SOURCE_DATE_EPOCH/);
  });
});
