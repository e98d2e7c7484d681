// Reads an ImageBuilder (uboot-script-gen) config: the bash subset of NAME=value, quoting, NAME[i]=value arrays and comments.
import { ImagerError } from '../errors';

export interface ImageBuilderVariables {
  scalars: Record<string, string>;
  /** NAME[i]=value, by index. */
  arrays: Record<string, Record<number, string>>;
  /** NAME[key]=value for the associative arrays uboot-script-gen declares (DOMU_VCPU_HARD_AFFINITY[domU,vcpu]). */
  associative: Record<string, Record<string, string>>;
}

/** Arrays uboot-script-gen declares with `declare -A`: their keys are text ("0,1"), not arithmetic. */
const ASSOCIATIVE_ARRAYS = new Set(['DOMU_VCPU_HARD_AFFINITY']);

function syntax(
  line: number,
  message: string,
  hint = 'Keep the config to NAME=value lines, NAME[i]=value arrays, quotes and comments.',
): ImagerError {
  return new ImagerError({
    code: 'IMAGEBUILDER_CONFIG_SYNTAX',
    subject: `line ${line}`,
    message: `Line ${line}: ${message}`,
    hint,
    details: { exitStatus: 1, line },
  });
}

class Reader {
  pos = 0;
  line = 1;
  constructor(
    readonly text: string,
    readonly vars: ImageBuilderVariables,
  ) {}
  peek(offset = 0): string | undefined {
    return this.text[this.pos + offset];
  }
  next(): string {
    const c = this.text[this.pos++]!;
    if (c === '\n') this.line++;
    return c;
  }
  skipBlanks(): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t') this.next();
      else if (c === '\\' && this.peek(1) === '\n') {
        this.pos += 2;
        this.line++;
      } else return;
    }
  }
  skipComment(): void {
    while (this.peek() !== undefined && this.peek() !== '\n') this.next();
  }
}

function lookup(vars: ImageBuilderVariables, name: string, index?: number): string {
  if (index !== undefined) return vars.arrays[name]?.[index] ?? '';
  return vars.scalars[name] ?? vars.arrays[name]?.[0] ?? '';
}

/** $NAME, ${NAME} or ${NAME[i]}; anything fancier is refused. */
function readExpansion(r: Reader): string {
  r.next(); // $
  if (r.peek() === '(')
    throw syntax(
      r.line,
      'command substitution and arithmetic ($(...)) are not supported.',
      'Write the value itself, e.g. MEMORY_END="0x40000000".',
    );
  if (r.peek() === '{') {
    r.next();
    let inner = '';
    while (r.peek() !== undefined && r.peek() !== '}') inner += r.next();
    if (r.peek() !== '}') throw syntax(r.line, 'unterminated ${...}.');
    r.next();
    const match = /^([A-Za-z_]\w*)(?:\[(\d+)\])?$/.exec(inner);
    if (!match) throw syntax(r.line, `the expansion \${${inner}} is not supported; only \${NAME} and \${NAME[i]} are.`);
    return lookup(r.vars, match[1]!, match[2] !== undefined ? Number(match[2]) : undefined);
  }
  let name = '';
  while (/[\w]/.test(r.peek() ?? '')) name += r.next();
  return name ? lookup(r.vars, name) : '$';
}

function readDoubleQuoted(r: Reader): string {
  const start = r.line;
  r.next();
  let value = '';
  for (;;) {
    const c = r.peek();
    if (c === undefined) throw syntax(start, 'a double-quoted value is not closed.');
    if (c === '"') {
      r.next();
      return value;
    }
    if (c === '\\' && ['"', '\\', '$', '`', '\n'].includes(r.peek(1) ?? '')) {
      r.next();
      const escaped = r.next();
      if (escaped !== '\n') value += escaped;
    } else if (c === '$') value += readExpansion(r);
    else if (c === '`') throw syntax(r.line, 'command substitution (`...`) is not supported.');
    else value += r.next();
  }
}

/** One shell word: unquoted, "double" and 'single' parts glued together. */
function readWord(r: Reader): string {
  let value = '';
  for (;;) {
    const c = r.peek();
    if (c === undefined || c === ' ' || c === '\t' || c === '\n' || c === ';') return value;
    if (c === '"') value += readDoubleQuoted(r);
    else if (c === "'") {
      const start = r.line;
      r.next();
      while (r.peek() !== undefined && r.peek() !== "'") value += r.next();
      if (r.peek() === undefined) throw syntax(start, 'a single-quoted value is not closed.');
      r.next();
    } else if (c === '\\') {
      r.next();
      const escaped = r.next();
      if (escaped !== '\n') value += escaped;
    } else if (c === '$') value += readExpansion(r);
    else if (c === '`' || c === '(' || c === ')' || c === '|' || c === '&' || c === '<' || c === '>') {
      throw syntax(r.line, `"${c}" starts shell syntax that is not supported in a config.`);
    } else value += r.next();
  }
}

function readAssignment(r: Reader): void {
  const line = r.line;
  let name = '';
  while (/\w/.test(r.peek() ?? '')) name += r.next();
  if (name === 'export' && (r.peek() === ' ' || r.peek() === '\t')) {
    r.skipBlanks();
    return readAssignment(r);
  }
  let index: number | undefined;
  let key: string | undefined;
  if (r.peek() === '[') {
    r.next();
    let text = '';
    while (r.peek() !== undefined && r.peek() !== ']' && r.peek() !== '\n') text += r.next();
    if (r.peek() === ']' && ASSOCIATIVE_ARRAYS.has(name) && text !== '') key = text;
    else if (r.peek() !== ']' || !/^\s*\d+\s*$/.test(text)) throw syntax(line, `the array index [${text}] is not a number.`);
    else index = Number(text);
    r.next();
  }
  if (!/^[A-Za-z_]\w*$/.test(name) || r.peek() !== '=') {
    throw syntax(
      line,
      `expected NAME=value, found "${r.text.slice(r.pos - name.length).split('\n')[0]}".`,
      'Only variable assignments are read; commands, tests and loops are not run.',
    );
  }
  r.next();
  const value = readWord(r);
  if (key !== undefined) (r.vars.associative[name] ??= {})[key] = value;
  else if (index === undefined) r.vars.scalars[name] = value;
  else (r.vars.arrays[name] ??= {})[index] = value;
}

/** Parses the config text; throws ImagerError naming the line for anything outside the supported subset. */
export function parseImageBuilderConfig(text: string): ImageBuilderVariables {
  const r = new Reader(text.replace(/\r\n/g, '\n'), { scalars: {}, arrays: {}, associative: {} });
  for (;;) {
    r.skipBlanks();
    const c = r.peek();
    if (c === undefined) return r.vars;
    if (c === '\n' || c === ';') r.next();
    else if (c === '#') r.skipComment();
    else {
      readAssignment(r);
      r.skipBlanks();
      const after = r.peek();
      if (after === '#') r.skipComment();
      else if (after !== undefined && after !== '\n' && after !== ';')
        throw syntax(r.line, 'only one assignment per statement is supported (a value with spaces needs quotes).');
    }
  }
}
