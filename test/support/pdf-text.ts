import { inflateSync } from 'node:zlib';

/**
 * The text of a PDF as a reader would copy it: the glyphs each text operator shows, decoded through
 * the font's ToUnicode map (fonts embedded with Identity-H) or as bytes (standard fonts, WinAnsi).
 * Enough for the PDFs adapters/pdf writes (objects in the clear, streams deflated); one string per
 * text-showing operator. test/unit/invoice-pdf.test.ts also reads them with pdf.js, a real reader.
 */
export function pdfText(pdf: Uint8Array): string[] {
  const source = Buffer.from(pdf).toString('latin1');
  const objects = new Map<string, string>();
  for (const match of source.matchAll(/(\d+) 0 obj([\s\S]*?)endobj/g))
    objects.set(match[1] as string, inflated(match[2] as string));

  const cmaps = new Map<string, Map<number, string>>(); // font resource name -> glyph id -> text
  for (const dict of source.matchAll(/\/Font\s*<<([^>]*)>>/g)) {
    for (const [, name, ref] of (dict[1] as string).matchAll(/\/(\w+)\s+(\d+) 0 R/g)) {
      const font = objects.get(ref as string) ?? '';
      const toUnicode = /\/ToUnicode (\d+) 0 R/.exec(font)?.[1];
      if (toUnicode) cmaps.set(name as string, parseCmap(objects.get(toUnicode) ?? ''));
    }
  }

  const lines: string[] = [];
  let font = '';
  for (const body of objects.values()) {
    const stream = /stream\r?\n([\s\S]*?)endstream/.exec(body)?.[1];
    if (!stream || !/\bBT\b/.test(stream)) continue;
    for (const op of stream.matchAll(/\/(\w+) [\d.]+ Tf|<([0-9A-Fa-f]*)> Tj|\(((?:\\.|[^\\)])*)\) Tj/g)) {
      if (op[1]) font = op[1];
      else if (op[2] !== undefined) {
        const cmap = cmaps.get(font);
        let text = '';
        for (let i = 0; i < op[2].length; i += 4) {
          const gid = Number.parseInt(op[2].slice(i, i + 4), 16);
          text += cmap?.get(gid) ?? '\uFFFD';
        }
        lines.push(text);
      } else if (op[3] !== undefined) {
        lines.push(op[3].replace(/\\([()\\])/g, '$1'));
      }
    }
  }
  return lines;
}

function parseCmap(stream: string): Map<number, string> {
  const map = new Map<number, string>();
  const hex = (value: string) => Number.parseInt(value, 16);
  const utf16 = (value: string) =>
    String.fromCharCode(...(value.match(/.{4}/g) ?? []).map((unit) => Number.parseInt(unit, 16)));
  for (const block of stream.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const [, from, to] of (block[1] as string).matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g))
      map.set(hex(from as string), utf16(to as string));
  }
  for (const block of stream.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const [, from, to, start] of (block[1] as string).matchAll(
      /<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g,
    )) {
      for (let gid = hex(from as string); gid <= hex(to as string); gid++)
        map.set(gid, String.fromCodePoint(hex(start as string) + gid - hex(from as string)));
    }
  }
  return map;
}

/** An object with its stream, if deflated, inflated in place (its /Length says where the data ends). */
function inflated(body: string): string {
  const match = /^([\s\S]*?\/Length (\d+)[\s\S]*?\/FlateDecode[\s\S]*?stream\r?\n)/.exec(body);
  if (!match) return body;
  const start = (match[1] as string).length;
  const data = Buffer.from(body.slice(start, start + Number(match[2])), 'latin1');
  return `${match[1]}${inflateSync(data).toString('latin1')}\nendstream`;
}
