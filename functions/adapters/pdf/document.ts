import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { TrueTypeFont } from './truetype.ts';

/**
 * A small PDF 1.7 writer for business documents: A4 pages, text in embedded TrueType fonts, lines.
 * Coordinates are millimetres from the top-left corner, y on the text's baseline. Each font is
 * embedded as a subset (the glyphs the document shows) with Identity-H encoding and a ToUnicode map,
 * so any script the font covers prints, and readers copy and search the text as it was typed.
 * Streams are deflated with Node's zlib. The same input gives the same bytes.
 */
export type FontStyle = 'normal' | 'bold';

export interface DocumentInfo {
  title: string;
  creator: string;
  /** The document's creation date (an invoice's issue date): kept in the file's metadata. */
  createdAt: Date;
}

const PT_PER_MM = 72 / 25.4;
const A4: [number, number] = [595.28, 841.89];
/** Baseline to baseline, as a multiple of the font size, for multi-line text. */
const LINE_HEIGHT = 1.15;

interface EmbeddedFont {
  font: TrueTypeFont;
  /** The resource name pages use (`F1`). */
  name: string;
  /** Glyph id to the text it shows (for ToUnicode), for every glyph the document uses. */
  used: Map<number, string>;
}

export class PdfDocument {
  private readonly fonts: Record<FontStyle, EmbeddedFont>;
  private readonly pages: string[][] = [[]];
  private style: FontStyle = 'normal';
  private size = 10;

  constructor(
    fonts: Record<FontStyle, TrueTypeFont>,
    private readonly info: DocumentInfo,
  ) {
    this.fonts = {
      normal: { font: fonts.normal, name: 'F1', used: new Map() },
      bold: { font: fonts.bold, name: 'F2', used: new Map() },
    };
  }

  setFont(style: FontStyle): this {
    this.style = style;
    return this;
  }

  setFontSize(size: number): this {
    this.size = size;
    return this;
  }

  addPage(): this {
    this.pages.push([]);
    return this;
  }

  /** Baseline to baseline of multi-line text at the current font size, in millimetres. */
  get lineHeight(): number {
    return (this.size * LINE_HEIGHT) / PT_PER_MM;
  }

  /**
   * Text at (x, y); several lines (an array, or line breaks in the text) go down by the line height.
   * `right` puts each line's end at x. Other control characters (a tab) print as spaces.
   */
  text(text: string | readonly string[], x: number, y: number, options: { align?: 'left' | 'right' } = {}): this {
    const embedded = this.fonts[this.style];
    [text]
      .flat()
      .flatMap(printableLines)
      .forEach((line, i) => {
        const glyphs = [...line].map((char) => {
          const glyph = embedded.font.glyphOf(char.codePointAt(0) as number);
          if (glyph !== 0 && !embedded.used.has(glyph)) embedded.used.set(glyph, char);
          return glyph;
        });
        const left = options.align === 'right' ? x - this.widthOf(line) : x;
        const hex = glyphs.map((glyph) => glyph.toString(16).padStart(4, '0')).join('');
        const page = this.pages.at(-1) as string[];
        page.push(
          `BT /${embedded.name} ${num(this.size)} Tf ${num(left * PT_PER_MM)} ${num(A4[1] - (y + i * this.lineHeight) * PT_PER_MM)} Td <${hex}> Tj ET`,
        );
      });
    return this;
  }

  line(x1: number, y1: number, x2: number, y2: number): this {
    const point = (x: number, y: number) => `${num(x * PT_PER_MM)} ${num(A4[1] - y * PT_PER_MM)}`;
    (this.pages.at(-1) as string[]).push(`0.57 w ${point(x1, y1)} m ${point(x2, y2)} l S`);
    return this;
  }

  /** The printed width of a line of text in the current font and size, in millimetres. */
  widthOf(text: string): number {
    let width = 0;
    for (const char of printableLines(text).join(' ')) width += this.charWidth(char);
    return width;
  }

  /** One character's advance in the current font and size, in millimetres. */
  private charWidth(char: string): number {
    const { font } = this.fonts[this.style];
    return (glyphWidth(font, font.glyphOf(char.codePointAt(0) as number)) * this.size) / 1000 / PT_PER_MM;
  }

  /**
   * The text broken into lines no wider than `width` millimetres: at its line breaks, at spaces, and
   * inside a word that is wider than a line by itself (a long SKU or IBAN is broken, never cut).
   */
  splitToWidth(text: string, width: number): string[] {
    const lines: string[] = [];
    for (const paragraph of printableLines(text)) {
      let current = '';
      for (const word of paragraph.split(' ').filter(Boolean)) {
        const candidate = current ? `${current} ${word}` : word;
        if (this.widthOf(candidate) <= width) {
          current = candidate;
          continue;
        }
        if (current) lines.push(current);
        current = '';
        for (const char of word) {
          if (current && this.widthOf(current + char) > width) {
            lines.push(current);
            current = '';
          }
          current += char;
        }
      }
      lines.push(current);
    }
    return lines;
  }

  /** The text, cut and ended with "…" where it would be wider than `width` millimetres ("…" alone at the least). */
  fitToWidth(text: string, width: number): string {
    if (this.widthOf(text) <= width) return text;
    // One pass, each character measured once: a catalogue name can be thousands of characters long.
    const room = width - this.widthOf('…');
    let kept = '';
    let used = 0;
    for (const char of printableLines(text).join(' ')) {
      used += this.charWidth(char);
      if (used > room) break;
      kept += char;
    }
    return `${kept.trimEnd()}…`;
  }

  output(): Uint8Array {
    const writer = new ObjectWriter();
    const catalog = writer.reserve();
    const pagesRoot = writer.reserve();
    const used = Object.values(this.fonts).filter((embedded) => embedded.used.size > 0);
    const fontRefs = used.map((embedded) => [embedded.name, writeFont(writer, embedded)] as const);
    const resources = `<< /Font << ${fontRefs.map(([name, ref]) => `/${name} ${ref} 0 R`).join(' ')} >> >>`;
    const pageRefs = this.pages.map((operators) => {
      const contents = writer.stream('', Buffer.from(operators.join('\n'), 'latin1'));
      return writer.add(
        `<< /Type /Page /Parent ${pagesRoot} 0 R /MediaBox [0 0 ${A4.join(' ')}] /Resources ${resources} /Contents ${contents} 0 R >>`,
      );
    });
    writer.set(
      pagesRoot,
      `<< /Type /Pages /Kids [${pageRefs.map((ref) => `${ref} 0 R`).join(' ')}] /Count ${pageRefs.length} >>`,
    );
    writer.set(catalog, `<< /Type /Catalog /Pages ${pagesRoot} 0 R >>`);
    const info = writer.add(
      `<< /Title ${textString(this.info.title)} /Creator ${textString(this.info.creator)} /Producer (sales-orders) /CreationDate (${pdfDate(this.info.createdAt)}) >>`,
    );
    return writer.finish(catalog, info);
  }
}

/** A text's lines (split at line breaks), other control characters as spaces. */
const printableLines = (text: string) =>
  text.split(/\r\n|[\n\r\u2028\u2029]/).map((line) => line.replace(/\p{Cc}/gu, ' '));

/** Font units in the PDF's text space: thousandths of the font size, rounded as the font dictionaries state them. */
const thousandths = (font: TrueTypeFont, units: number) => Math.round((units * 1000) / font.unitsPerEm);

/** Width of a glyph as the /W array states it (and text is placed with). */
const glyphWidth = (font: TrueTypeFont, glyph: number) => thousandths(font, font.advanceOf(glyph));

/** Type0 font -> CIDFontType2 -> descriptor -> subset font file, and the ToUnicode map; returns the Type0's number. */
function writeFont(writer: ObjectWriter, { font, used }: EmbeddedFont): number {
  const glyphs = [...used.keys()].sort((a, b) => a - b);
  const scale = (value: number) => thousandths(font, value);
  // A subset is named with a tag derived from its glyphs (PDF 32000-1, 9.6.4), the same for the same glyphs.
  const tag = [...createHash('sha256').update(glyphs.join(',')).digest().subarray(0, 6)]
    .map((byte) => String.fromCharCode(65 + (byte % 26)))
    .join('');
  const baseFont = `${tag}+${font.postScriptName}`;
  const file = font.subset(glyphs);
  const fontFile = writer.stream(`/Length1 ${file.length}`, file);
  const descriptor = writer.add(
    `<< /Type /FontDescriptor /FontName /${baseFont} /Flags 4 /FontBBox [${font.bbox.map(scale).join(' ')}] /ItalicAngle ${num(font.italicAngle)} /Ascent ${scale(font.ascent)} /Descent ${scale(font.descent)} /CapHeight ${scale(font.capHeight)} /StemV 80 /FontFile2 ${fontFile} 0 R >>`,
  );
  const widths = glyphs.map((glyph) => `${glyph} [${glyphWidth(font, glyph)}]`).join(' ');
  const cidFont = writer.add(
    `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /${baseFont} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor ${descriptor} 0 R /DW ${glyphWidth(font, 0)} /W [${widths}] /CIDToGIDMap /Identity >>`,
  );
  const toUnicode = writer.stream(
    '',
    Buffer.from(toUnicodeCmap(glyphs.map((glyph) => [glyph, used.get(glyph) as string])), 'latin1'),
  );
  return writer.add(
    `<< /Type /Font /Subtype /Type0 /BaseFont /${baseFont} /Encoding /Identity-H /DescendantFonts [${cidFont} 0 R] /ToUnicode ${toUnicode} 0 R >>`,
  );
}

function toUnicodeCmap(entries: [number, string][]): string {
  const hex = (value: number) => value.toString(16).padStart(4, '0');
  const utf16 = (text: string) =>
    [...text]
      .flatMap((char) => {
        const code = char.codePointAt(0) as number;
        return code > 0xffff ? [0xd800 + ((code - 0x10000) >> 10), 0xdc00 + ((code - 0x10000) & 0x3ff)] : [code];
      })
      .map(hex)
      .join('');
  const blocks: string[] = [];
  for (let i = 0; i < entries.length; i += 100) {
    const block = entries.slice(i, i + 100);
    blocks.push(
      `${block.length} beginbfchar\n${block.map(([glyph, text]) => `<${hex(glyph)}> <${utf16(text)}>`).join('\n')}\nendbfchar`,
    );
  }
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange',
    '<0000> <FFFF>',
    'endcodespacerange',
    ...blocks,
    'endcmap',
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
  ].join('\n');
}

/** Numbered objects, then the cross-reference table and trailer. */
class ObjectWriter {
  private readonly bodies: (Uint8Array | undefined)[] = [];

  reserve(): number {
    this.bodies.push(undefined);
    return this.bodies.length;
  }

  set(ref: number, body: string | Uint8Array): void {
    this.bodies[ref - 1] = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  }

  add(body: string | Uint8Array): number {
    const ref = this.reserve();
    this.set(ref, body);
    return ref;
  }

  /** A deflated stream object; `entries` are extra dictionary entries. */
  stream(entries: string, data: Uint8Array): number {
    const compressed = deflateSync(data);
    return this.add(
      Buffer.concat([
        Buffer.from(
          `<< /Length ${compressed.length} /Filter /FlateDecode${entries ? ` ${entries}` : ''} >>\nstream\n`,
          'latin1',
        ),
        compressed,
        Buffer.from('\nendstream', 'latin1'),
      ]),
    );
  }

  finish(root: number, info: number): Uint8Array {
    const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
    const offsets: number[] = [];
    let length = parts[0]?.length ?? 0;
    this.bodies.forEach((body, i) => {
      if (!body) throw new Error(`PDF object ${i + 1} was reserved but never written`);
      const object = Buffer.concat([
        Buffer.from(`${i + 1} 0 obj\n`, 'latin1'),
        body,
        Buffer.from('\nendobj\n', 'latin1'),
      ]);
      offsets.push(length);
      parts.push(object);
      length += object.length;
    });
    const id = createHash('sha256').update(Buffer.concat(parts)).digest('hex').slice(0, 32);
    const xref = [
      'xref',
      `0 ${offsets.length + 1}`,
      '0000000000 65535 f ',
      ...offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n `),
      'trailer',
      `<< /Size ${offsets.length + 1} /Root ${root} 0 R /Info ${info} 0 R /ID [<${id}> <${id}>] >>`,
      'startxref',
      String(length),
      '%%EOF',
      '',
    ].join('\n');
    parts.push(Buffer.from(xref, 'latin1'));
    return new Uint8Array(Buffer.concat(parts));
  }
}

/** A PDF text string any reader shows right: UTF-16BE with a byte order mark, in hex. */
function textString(text: string): string {
  return `<FEFF${Buffer.from(text, 'utf16le').swap16().toString('hex').toUpperCase()}>`;
}

const pdfDate = (date: Date) => `D:${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

/** A number as PDF writes it: at most two decimals, no trailing zeros. */
const num = (value: number) => String(Math.round(value * 100) / 100);
