/**
 * One CSV line's cells, as csv-parse reads a line of its own with `{ delimiter: [',', ';'], trim: true }`
 * (RFC 4180 quoting: `"a ""quoted"" cell"`; a comma or a semicolon between cells, as spreadsheets in
 * different locales write them; blanks around a cell dropped), without csv-parse's 30 KB in the
 * inbound-email bundle. test/unit/csv-line.test.ts compares the two on thousands of lines.
 */
export class CsvLineError extends Error {
  constructor(readonly code: 'QUOTE_NOT_CLOSED' | 'INVALID_QUOTE') {
    super(code === 'QUOTE_NOT_CLOSED' ? 'a quote is not closed' : 'a quote is misplaced');
    this.name = 'CsvLineError';
  }
}

const isDelimiter = (char: string | undefined) => char === ',' || char === ';';
/** What trimming drops around a cell: JavaScript's whitespace, csv-parse's list (a no-break space too). */
const isBlank = (char: string | undefined) => char !== undefined && /\s/.test(char);

export function csvCells(line: string): string[] {
  if (/^\s*$/.test(line)) return []; // a blank line holds no row
  const cells: string[] = [];
  let at = 0;
  for (;;) {
    while (isBlank(line[at])) at++;
    if (line[at] === '"') {
      let cell = '';
      for (at++; ; at++) {
        if (at >= line.length) throw new CsvLineError('QUOTE_NOT_CLOSED');
        if (line[at] !== '"') cell += line[at];
        else if (line[at + 1] === '"') cell += line[++at];
        else break;
      }
      at++;
      while (isBlank(line[at])) at++;
      if (at < line.length && !isDelimiter(line[at])) throw new CsvLineError('INVALID_QUOTE');
      cells.push(cell);
    } else {
      const start = at;
      while (at < line.length && !isDelimiter(line[at])) {
        if (line[at] === '"') throw new CsvLineError('INVALID_QUOTE');
        at++;
      }
      cells.push(line.slice(start, at).replace(/\s+$/, ''));
    }
    if (at >= line.length) return cells;
    at++; // the delimiter
  }
}
