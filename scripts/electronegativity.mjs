// Electron security scan (advisory): runs electronegativity over electron/, prints every finding,
// and fails only on a HIGH-severity one. electronegativity itself always exits 0, so we gate on its CSV.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const electronVersion = createRequire(import.meta.url)('electron/package.json').version;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'xpi-eneg-'));
const csv = path.join(tmp, 'report.csv');
try {
  execFileSync(
    path.join(root, 'node_modules', '.bin', 'electronegativity'),
    ['-i', path.join(root, 'electron'), '-o', csv, '-e', electronVersion],
    {
      stdio: ['ignore', 'ignore', 'ignore'],
      timeout: 120_000,
    },
  );
  const rows = readFileSync(csv, 'utf8').trim().split('\n').slice(1);
  const findings = rows.map((row) => {
    const [issue, severity, confidence, file, location] = row.split(',').map((cell) => cell.replace(/^"|"$/g, ''));
    return { issue, severity, confidence, file: path.relative(root, file ?? ''), location };
  });
  for (const f of findings) console.log(`${f.severity.padEnd(13)} ${f.confidence.padEnd(10)} ${f.issue} ${f.file}:${f.location}`);
  const high = findings.filter((f) => f.severity === 'HIGH');
  console.log(`electronegativity (Electron ${electronVersion}): ${findings.length} findings, ${high.length} HIGH`);
  process.exitCode = high.length ? 1 : 0;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
