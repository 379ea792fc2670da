import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FONT_BUNDLE_FILES } from '../../functions/adapters/pdf/fonts.ts';
import { parseTrueType } from '../../functions/adapters/pdf/truetype.ts';

const regularFile = readFileSync(FONT_BUNDLE_FILES['fonts/NotoSans-Regular.ttf'] as string);
const boldFile = readFileSync(FONT_BUNDLE_FILES['fonts/NotoSans-Bold.ttf'] as string);

/** The tables of a TrueType file, read independently of the module under test. */
function tablesOf(file: Uint8Array): Map<string, { checksum: number; offset: number; length: number }> {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  return new Map(
    Array.from({ length: view.getUint16(4) }, (_, i) => {
      const record = 12 + 16 * i;
      const tag = Buffer.from(file.subarray(record, record + 4)).toString('latin1');
      return [
        tag,
        {
          checksum: view.getUint32(record + 4),
          offset: view.getUint32(record + 8),
          length: view.getUint32(record + 12),
        },
      ];
    }),
  );
}

/** A glyph's outline bytes (loca + glyf). */
function outline(file: Uint8Array, glyph: number): Buffer {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const tables = tablesOf(file);
  const long = view.getInt16((tables.get('head')?.offset as number) + 50) === 1;
  const loca = tables.get('loca')?.offset as number;
  const at = (i: number) => (long ? view.getUint32(loca + 4 * i) : view.getUint16(loca + 2 * i) * 2);
  const glyf = tables.get('glyf')?.offset as number;
  return Buffer.from(file.subarray(glyf + at(glyph), glyf + at(glyph + 1)));
}

function sum(file: Uint8Array, offset: number, length: number): number {
  const padded = Buffer.alloc((length + 3) & ~3);
  padded.set(file.subarray(offset, offset + length));
  let total = 0;
  for (let at = 0; at < padded.length; at += 4) total = (total + padded.readUInt32BE(at)) >>> 0;
  return total;
}

describe('TrueType font reader', () => {
  // Reference values read with fontTools from the same files.
  it('maps characters to glyphs and reads their advance widths and the font metrics', () => {
    const regular = parseTrueType(regularFile);
    const bold = parseTrueType(boldFile);
    expect(['A', 'Á', 'Ж', '€', ' '].map((c) => regular.glyphOf(c.codePointAt(0) as number))).toEqual([
      34, 129, 428, 535, 1,
    ]);
    expect([34, 129, 428, 535, 1].map((glyph) => regular.advanceOf(glyph))).toEqual([639, 639, 905, 572, 260]);
    expect([34, 428].map((glyph) => bold.advanceOf(glyph))).toEqual([692, 997]);
    expect(regular).toMatchObject({ postScriptName: 'NotoSans-Regular', unitsPerEm: 1000, ascent: 1069 });
    expect(regular).toMatchObject({ descent: -293, capHeight: 714 });
    expect(bold.postScriptName).toBe('NotoSans-Bold');
    expect(regular.glyphOf('中'.codePointAt(0) as number)).toBe(0); // not in the fonts: .notdef
  });

  it('subsets to the glyphs used, keeping glyph ids and the parts of composite glyphs', () => {
    const font = parseTrueType(regularFile);
    const aacute = font.glyphOf('Á'.codePointAt(0) as number);
    const subset = font.subset([aacute]);
    expect(subset.length).toBeLessThan(regularFile.length / 5);
    // Á is built from A (34) and the acute accent (116): both stay, with .notdef; B goes.
    for (const glyph of [0, aacute, 34, 116]) {
      const original = outline(regularFile, glyph);
      const kept = outline(subset, glyph);
      expect(original.length, `glyph ${glyph}`).toBeGreaterThan(0);
      // The same outline, padded to 4 bytes.
      expect(kept.subarray(0, original.length).equals(original), `glyph ${glyph}`).toBe(true);
      expect([...kept.subarray(original.length)].every((byte) => byte === 0) && kept.length < original.length + 4).toBe(
        true,
      );
    }
    expect(outline(subset, font.glyphOf('B'.codePointAt(0) as number)).length).toBe(0);
    const reread = parseTrueType(subset);
    expect(reread.glyphOf('Á'.codePointAt(0) as number)).toBe(aacute);
    expect(reread.advanceOf(aacute)).toBe(font.advanceOf(aacute));
  });

  it('writes a valid font file: table checksums and the whole-file checksum adjustment', () => {
    const subset = parseTrueType(regularFile).subset([34, 428]);
    for (const [tag, table] of tablesOf(subset)) {
      // head's own checksum is taken with its checkSumAdjustment (bytes 8-11) zeroed.
      const copy = Buffer.from(subset);
      if (tag === 'head') copy.fill(0, table.offset + 8, table.offset + 12);
      expect({ tag, checksum: sum(copy, table.offset, table.length) }).toEqual({ tag, checksum: table.checksum });
      expect(table.offset % 4).toBe(0);
    }
    expect(sum(subset, 0, subset.length)).toBe(0xb1b0afba);
  });
});
