// Benchmark: wrapping a boot script as a U-Boot script image, ours (in-process) against Debian's mkimage, side by side.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeScriptImage } from '../shared/boot/script-image';

const dir = mkdtempSync(path.join(tmpdir(), 'bench-script-image-'));
try {
  const source =
    Array.from({ length: 2000 }, (_, i) => `fdt set /chosen/domU${i % 8} bootargs "console=ttyAMA0 line ${i}"`).join('\n') + '\n';
  const src = path.join(dir, 'boot.source');
  const out = path.join(dir, 'boot.scr');
  writeFileSync(src, source);
  const runs = 50;
  const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };

  let started = process.hrtime.bigint();
  for (let i = 0; i < runs; i++)
    execFileSync('mkimage', ['-A', 'arm64', '-T', 'script', '-C', 'none', '-a', '0xC00000', '-e', '0xC00000', '-d', src, out], {
      env,
      stdio: 'pipe',
    });
  const mkimageMs = Number(process.hrtime.bigint() - started) / 1e6 / runs;

  started = process.hrtime.bigint();
  let ours: Uint8Array = new Uint8Array();
  for (let i = 0; i < runs; i++) ours = writeScriptImage(readFileSync(src), { loadAddress: 0xc00000, timestamp: 1_700_000_000 });
  const oursMs = Number(process.hrtime.bigint() - started) / 1e6 / runs;

  const identical = Buffer.from(ours).equals(readFileSync(out));
  console.log(`script of ${source.length} bytes, ${runs} runs each`);
  console.log(`mkimage (process): ${mkimageMs.toFixed(3)} ms/run`);
  console.log(`ours (in-process): ${oursMs.toFixed(3)} ms/run`);
  console.log(`ratio ours/mkimage: ${(oursMs / mkimageMs).toFixed(3)}  byte-identical: ${identical}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
