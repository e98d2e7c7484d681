// A console session as a log: every line starts with the time its first byte arrived, the bytes themselves unchanged.

/** Stamps console text line by line; feed it chunks in order (a line may span chunks). */
export class TimestampedLines {
  private atLineStart = true;

  /** The chunk as it goes into the log, each new line prefixed with "[2026-12-04T16:50:01.123Z] ". */
  stamp(text: string, epochMs: number): string {
    const prefix = `[${new Date(epochMs).toISOString()}] `;
    const parts = text.split('\n');
    let out = '';
    parts.forEach((part, index) => {
      const last = index === parts.length - 1;
      if (this.atLineStart && (part.length > 0 || !last)) out += prefix;
      out += part;
      if (!last) {
        out += '\n';
        this.atLineStart = true;
      } else if (part.length > 0) {
        this.atLineStart = false;
      }
    });
    return out;
  }
}
