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
 * Where csv-parse's reading is a quirk of its own, left out of the comparison: it reads an empty quoted
 * cell, blanks and a quote as one cell (`"" ""`), which RFC 4180 has no case for and csvCells refuses; and
 * it refuses a non-ASCII blank (a no-break space) after a closing quote, except after an empty quoted cell,
 * where csvCells trims it as it does everywhere else in a line.
 */
const csvParseQuirk = (line: string) => /""\s+"/.test(line) || /"\s*[\u00a0\u3000]/.test(line);

describe('one CSV line', () => {
  it('reads quoted cells, both delimiters and blanks as a spreadsheet writes them', () => {
    expect(csvCells('WIDGET-BLUE,2,1250')).toEqual(['WIDGET-BLUE', '2', '1250']);
    expect(csvCells(' "GADGET ""MINI""" ; 1 ;')).toEqual(['GADGET "MINI"', '1', '']);
    expect(csvCells('"a,b";"c;d"')).toEqual(['a,b', 'c;d']);
    expect(csvCells(' \t ')).toEqual([]);
    // A no-break space (what a spreadsheet may put after a value) is trimmed like a space, quoted cell or not.
    expect(csvCells('sku,quantity\u00a0')).toEqual(['sku', 'quantity']);
    expect(csvCells('WIDGET,\u00a0"2"\u00a0')).toEqual(['WIDGET', '2']);
    expect(() => csvCells('"WIDGET,2')).toThrow('a quote is not closed');
    expect(() => csvCells('WID"GET,2')).toThrow(CsvLineError);
    expect(() => csvCells('"WIDGET" x,2')).toThrow(CsvLineError);
  });

  it('reads every line of up to 5 characters as csv-parse does', () => {
    // A no-break space and an ideographic space are blanks to csv-parse's trim as to JavaScript's.
    const alphabet = ['a', ',', ';', '"', ' ', '\t', '\u00a0', '\u3000'];
    const differences: string[] = [];
    let compared = 0;
    const visit = (line: string, depth: number) => {
      if (!csvParseQuirk(line)) {
        compared++;
        if (JSON.stringify(ours(line)) !== JSON.stringify(csvParse(line))) differences.push(JSON.stringify(line));
      }
      if (depth > 0) for (const char of alphabet) visit(line + char, depth - 1);
    };
    visit('', 5);
    expect(compared).toBeGreaterThan(30_000); // of 37,449
    expect(differences).toEqual([]);
  });

  it('reads longer lines as csv-parse does', () => {
    const alphabet = ['a', 'b', '1', 'a', 'b', '1', ',', ';', '"', ' ', '\t', 'ü', '\u00a0', '\v'];
    let seed = 11;
    const random = () => {
      // xorshift32: every 32-bit state is visited before one repeats.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const differences: string[] = [];
    const compared = new Set<string>();
    for (let n = 0; n < 20_000; n++) {
      const length = 6 + Math.floor(random() * 20);
      const line = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      if (csvParseQuirk(line)) continue;
      compared.add(line);
      if (JSON.stringify(ours(line)) !== JSON.stringify(csvParse(line))) differences.push(JSON.stringify(line));
    }
    expect(compared.size).toBeGreaterThan(15_000);
    expect(differences).toEqual([]);
  });
});
