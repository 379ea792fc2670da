import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvLineError, csvCells } from '../../functions/core/csv-line.ts';

/** csv-parse's reading of one line (the library the local CLI's file import uses), or its error's kind. */
function csvParse(line: string): string[] | string {
  try {
    return (parse(line, { delimiter: [',', ';'], trim: true }) as string[][])[0] ?? [];
  } catch (error) {
    return (error as { code?: string }).code === 'CSV_QUOTE_NOT_CLOSED' ? 'QUOTE_NOT_CLOSED' : 'INVALID';
  }
}

function ours(line: string): string[] | string {
  try {
    return csvCells(line);
  } catch (error) {
    if (!(error instanceof CsvLineError)) throw error;
    return error.code === 'QUOTE_NOT_CLOSED' ? 'QUOTE_NOT_CLOSED' : 'INVALID';
  }
}

/**
 * csv-parse reads a quote after a closed quoted cell and blanks as reopening it (`"" ""` is one empty
 * cell); RFC 4180 has no such case, and csvCells calls it a misplaced quote. Left out of the comparison.
 */
const reopensQuote = (line: string) => /"[ \t]+"/.test(line);

describe('one CSV line', () => {
  it('reads quoted cells, both delimiters and blanks as a spreadsheet writes them', () => {
    expect(csvCells('WIDGET-BLUE,2,1250')).toEqual(['WIDGET-BLUE', '2', '1250']);
    expect(csvCells(' "GADGET ""MINI""" ; 1 ;')).toEqual(['GADGET "MINI"', '1', '']);
    expect(csvCells('"a,b";"c;d"')).toEqual(['a,b', 'c;d']);
    expect(csvCells(' \t ')).toEqual([]);
    expect(() => csvCells('"WIDGET,2')).toThrow('a quote is not closed');
    expect(() => csvCells('WID"GET,2')).toThrow(CsvLineError);
    expect(() => csvCells('"WIDGET" x,2')).toThrow(CsvLineError);
  });

  it('reads every line of up to 5 characters as csv-parse does', () => {
    const alphabet = ['a', ',', ';', '"', ' ', '\t', 'é'];
    const differences: string[] = [];
    const visit = (line: string, depth: number) => {
      if (!reopensQuote(line) && JSON.stringify(ours(line)) !== JSON.stringify(csvParse(line)))
        differences.push(JSON.stringify(line));
      if (depth > 0) for (const char of alphabet) visit(line + char, depth - 1);
    };
    visit('', 5);
    expect(differences).toEqual([]);
  });

  it('reads longer lines as csv-parse does', () => {
    const alphabet = ['a', 'b', '1', 'a', 'b', '1', ',', ';', '"', ' ', '\t', 'ü'];
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const differences: string[] = [];
    let compared = 0;
    for (let n = 0; n < 20_000; n++) {
      const line = Array.from(
        { length: 6 + Math.floor(random() * 20) },
        () => alphabet[Math.floor(random() * 12)],
      ).join('');
      if (reopensQuote(line)) continue;
      compared++;
      if (JSON.stringify(ours(line)) !== JSON.stringify(csvParse(line))) differences.push(JSON.stringify(line));
    }
    expect(compared).toBeGreaterThan(10_000);
    expect(differences).toEqual([]);
  });
});
