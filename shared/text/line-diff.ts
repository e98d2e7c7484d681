// A small unified line diff (LCS based) for showing what a merge changes in a short text file such as config.txt.

type Op = { kind: ' ' | '-' | '+'; line: string; oldNo: number; newNo: number };

function lcsOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lengths[i][j] = LCS length of a[i..] and b[j..]; these files are small, so O(n*m) is fine.
  const lengths = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i]![j] = a[i] === b[j] ? lengths[i + 1]![j + 1]! + 1 : Math.max(lengths[i + 1]![j]!, lengths[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ kind: ' ', line: a[i++]!, oldNo: i, newNo: ++j });
    else if (i < n && (j === m || lengths[i + 1]![j]! >= lengths[i]![j + 1]!)) ops.push({ kind: '-', line: a[i++]!, oldNo: i, newNo: j });
    else ops.push({ kind: '+', line: b[j]!, oldNo: i, newNo: ++j });
  }
  return ops;
}

/** Unified diff hunks (`@@ -a,b +c,d @@`, then ` `/`-`/`+` lines) with `context` lines around changes; '' when equal. */
export function unifiedLineDiff(before: string[], after: string[], context = 2): string {
  const ops = lcsOps(before, after);
  const changed = ops.map((op, index) => (op.kind !== ' ' ? index : -1)).filter((index) => index >= 0);
  if (changed.length === 0) return '';
  const hunks: Array<[number, number]> = [];
  for (const index of changed) {
    const start = Math.max(0, index - context);
    const end = Math.min(ops.length - 1, index + context);
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1] + 1) last[1] = Math.max(last[1], end);
    else hunks.push([start, end]);
  }
  const out: string[] = [];
  for (const [start, end] of hunks) {
    const slice = ops.slice(start, end + 1);
    const oldLines = slice.filter((op) => op.kind !== '+').length;
    const newLines = slice.filter((op) => op.kind !== '-').length;
    const first = ops[start]!;
    // An op that did not consume a line on one side carries the count consumed so far: the hunk starts on the next line.
    const oldStart = first.kind === '+' && oldLines ? first.oldNo + 1 : first.oldNo;
    const newStart = first.kind === '-' && newLines ? first.newNo + 1 : first.newNo;
    out.push(`@@ -${oldStart},${oldLines} +${newStart},${newLines} @@`);
    for (const op of slice) out.push(`${op.kind}${op.line}`);
  }
  return out.join('\n') + '\n';
}
