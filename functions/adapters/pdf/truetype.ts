/**
 * The parts of a TrueType font a PDF needs (OpenType spec, "TrueType outlines"): character to glyph
 * (cmap format 4), advance widths (hmtx), the metrics of the font descriptor, and a subset
 * that keeps the font's glyph ids but only the outlines of the glyphs a document uses, so that an
 * invoice carries a few KB of font instead of the whole file.
 */
export interface TrueTypeFont {
  /** The font's PostScript name (name table, id 6), e.g. `NotoSans-Bold`. */
  postScriptName: string;
  unitsPerEm: number;
  ascent: number;
  descent: number;
  capHeight: number;
  bbox: [number, number, number, number];
  italicAngle: number;
  /** Glyph id of a code point; 0 (.notdef) when the font has none (or the code point is beyond U+FFFF). */
  glyphOf(codePoint: number): number;
  /** Advance width of a glyph, in font units. */
  advanceOf(glyph: number): number;
  /** A valid TrueType file with the same glyph ids, holding the outlines of `glyphs` (and .notdef) only. */
  subset(glyphs: Iterable<number>): Uint8Array;
}

interface Table {
  offset: number;
  length: number;
}

export function parseTrueType(bytes: Uint8Array): TrueTypeFont {
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tables = new Map<string, Table>();
  const numTables = data.getUint16(4);
  for (let i = 0; i < numTables; i++) {
    const record = 12 + 16 * i;
    const tag = String.fromCharCode(...bytes.subarray(record, record + 4));
    tables.set(tag, { offset: data.getUint32(record + 8), length: data.getUint32(record + 12) });
  }
  const table = (tag: string): Table => {
    const found = tables.get(tag);
    if (!found) throw new Error(`TrueType font has no ${tag} table`);
    return found;
  };

  const head = table('head').offset;
  const unitsPerEm = data.getUint16(head + 18);
  const bbox: [number, number, number, number] = [
    data.getInt16(head + 36),
    data.getInt16(head + 38),
    data.getInt16(head + 40),
    data.getInt16(head + 42),
  ];
  const longLoca = data.getInt16(head + 50) === 1;
  const hhea = table('hhea').offset;
  const numberOfHMetrics = data.getUint16(hhea + 34);
  const numGlyphs = data.getUint16(table('maxp').offset + 4);
  const os2 = tables.get('OS/2');
  const ascent = os2 ? data.getInt16(os2.offset + 68) : data.getInt16(hhea + 4);
  const descent = os2 ? data.getInt16(os2.offset + 70) : data.getInt16(hhea + 6);
  const capHeight = os2 && data.getUint16(os2.offset) >= 2 ? data.getInt16(os2.offset + 88) : ascent;
  const post = tables.get('post');
  const italicAngle = post ? data.getInt32(post.offset + 4) / 65536 : 0;

  const postScriptName = readPostScriptName(bytes, data, table('name').offset);

  const hmtx = table('hmtx').offset;
  const advanceOf = (glyph: number) => data.getUint16(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));

  const loca = table('loca').offset;
  const glyf = table('glyf').offset;
  const glyphRange = (glyph: number): [number, number] =>
    longLoca
      ? [data.getUint32(loca + 4 * glyph), data.getUint32(loca + 4 * glyph + 4)]
      : [data.getUint16(loca + 2 * glyph) * 2, data.getUint16(loca + 2 * glyph + 2) * 2];

  const cmap = readCmap(data, table('cmap').offset);

  /** The glyphs a composite glyph is built from (they must stay in the subset). */
  const componentsOf = (glyph: number): number[] => {
    const [start, end] = glyphRange(glyph);
    if (end <= start || data.getInt16(glyf + start) >= 0) return [];
    const components: number[] = [];
    let at = glyf + start + 10;
    for (;;) {
      const flags = data.getUint16(at);
      components.push(data.getUint16(at + 2));
      at += 4 + (flags & 0x0001 ? 4 : 2) + (flags & 0x0008 ? 2 : flags & 0x0040 ? 4 : flags & 0x0080 ? 8 : 0);
      if (!(flags & 0x0020)) return components;
    }
  };

  const subset = (glyphs: Iterable<number>): Uint8Array => {
    const keep = new Set<number>([0]);
    const pending = [...glyphs];
    while (pending.length > 0) {
      const glyph = pending.pop() as number;
      if (glyph >= numGlyphs || keep.has(glyph)) continue;
      keep.add(glyph);
      pending.push(...componentsOf(glyph));
    }
    const outlines: Uint8Array[] = [];
    const newLoca = new DataView(new ArrayBuffer(4 * (numGlyphs + 1)));
    let size = 0;
    for (let glyph = 0; glyph < numGlyphs; glyph++) {
      newLoca.setUint32(4 * glyph, size);
      if (!keep.has(glyph)) continue;
      const [start, end] = glyphRange(glyph);
      const outline = bytes.subarray(glyf + start, glyf + end);
      outlines.push(outline, new Uint8Array(pad4(outline.length) - outline.length));
      size += pad4(outline.length);
    }
    newLoca.setUint32(4 * numGlyphs, size);
    const newHead = new Uint8Array(bytes.subarray(head, head + table('head').length)); // a copy (a Buffer's slice is not)
    new DataView(newHead.buffer).setInt16(50, 1); // long loca offsets
    const replaced = new Map<string, Uint8Array>([
      ['head', newHead],
      ['loca', new Uint8Array(newLoca.buffer)],
      ['glyf', concat(outlines)],
    ]);
    return writeTrueType(
      [...tables].map(([tag, { offset, length }]) => [
        tag,
        replaced.get(tag) ?? bytes.subarray(offset, offset + length),
      ]),
    );
  };

  return {
    postScriptName,
    unitsPerEm,
    ascent,
    descent,
    capHeight,
    bbox,
    italicAngle,
    glyphOf: (codePoint) => cmap.get(codePoint) ?? 0,
    advanceOf,
    subset,
  };
}

/** Unicode to glyph, from the Unicode BMP subtable (format 4): the fonts cover no character beyond it. */
function readCmap(data: DataView, cmap: number): Map<number, number> {
  let format4: number | undefined;
  for (let i = 0; i < data.getUint16(cmap + 2) && format4 === undefined; i++) {
    const record = cmap + 4 + 8 * i;
    const unicode = data.getUint16(record) === 0 || (data.getUint16(record) === 3 && data.getUint16(record + 2) === 1);
    const offset = cmap + data.getUint32(record + 4);
    if (unicode && data.getUint16(offset) === 4) format4 = offset;
  }
  if (format4 === undefined) throw new Error('TrueType font has no Unicode cmap of format 4');
  const map = new Map<number, number>();
  const segments = data.getUint16(format4 + 6) / 2;
  const ends = format4 + 14;
  const starts = ends + 2 * segments + 2;
  const deltas = starts + 2 * segments;
  const rangeOffsets = deltas + 2 * segments;
  for (let s = 0; s < segments; s++) {
    const start = data.getUint16(starts + 2 * s);
    const delta = data.getInt16(deltas + 2 * s);
    const rangeOffset = data.getUint16(rangeOffsets + 2 * s);
    for (let c = start; c <= data.getUint16(ends + 2 * s) && c !== 0xffff; c++) {
      // Either the code plus a delta, or a glyph from the array the range offset points into (0: none).
      const indexed = rangeOffset === 0 ? c : data.getUint16(rangeOffsets + 2 * s + rangeOffset + 2 * (c - start));
      const glyph = rangeOffset !== 0 && indexed === 0 ? 0 : (indexed + delta) & 0xffff;
      if (glyph !== 0) map.set(c, glyph);
    }
  }
  return map;
}

/** Name id 6 from the Windows (UTF-16BE) records; PDF names allow no spaces or delimiters. */
function readPostScriptName(bytes: Uint8Array, data: DataView, name: number): string {
  const strings = name + data.getUint16(name + 4);
  for (let i = 0; i < data.getUint16(name + 2); i++) {
    const record = name + 6 + 12 * i;
    if (data.getUint16(record) !== 3 || data.getUint16(record + 6) !== 6) continue;
    const start = strings + data.getUint16(record + 10);
    const text = Buffer.from(bytes.subarray(start, start + data.getUint16(record + 8)))
      .swap16()
      .toString('utf16le');
    return text.replace(/[^\x21-\x7e]|[()<>[\]{}/%#]/g, '');
  }
  return 'Font';
}

const pad4 = (length: number) => (length + 3) & ~3;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A TrueType file from its tables: sorted directory, 4-byte aligned tables, checksums and head's adjustment. */
function writeTrueType(tables: [string, Uint8Array][]): Uint8Array {
  tables.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const directorySize = 12 + 16 * tables.length;
  const size = directorySize + tables.reduce((sum, [, body]) => sum + pad4(body.length), 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  const power = 2 ** Math.floor(Math.log2(tables.length));
  view.setUint32(0, 0x00010000);
  view.setUint16(4, tables.length);
  view.setUint16(6, power * 16);
  view.setUint16(8, Math.log2(power));
  view.setUint16(10, tables.length * 16 - power * 16);
  let offset = directorySize;
  let headOffset = -1;
  tables.forEach(([tag, body], i) => {
    const record = 12 + 16 * i;
    for (let c = 0; c < 4; c++) out[record + c] = tag.charCodeAt(c);
    out.set(body, offset);
    if (tag === 'head') {
      headOffset = offset;
      view.setUint32(offset + 8, 0); // checkSumAdjustment is computed over the file with it zeroed
    }
    view.setUint32(record + 4, checksum(out, offset, body.length));
    view.setUint32(record + 8, offset);
    view.setUint32(record + 12, body.length);
    offset += pad4(body.length);
  });
  if (headOffset >= 0) view.setUint32(headOffset + 8, (0xb1b0afba - checksum(out, 0, size)) >>> 0);
  return out;
}

function checksum(bytes: Uint8Array, offset: number, length: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  let sum = 0;
  for (let at = offset; at < offset + pad4(length); at += 4) sum = (sum + view.getUint32(at)) >>> 0;
  return sum;
}
