import { readFileSync } from 'node:fs';
import type { FontStyle } from './document.ts';
import { parseTrueType, type TrueTypeFont } from './truetype.ts';

/**
 * Documents are set in Noto Sans, cut down to the scripts an invoice prints (fonts/subset.sh): the PDF
 * standard fonts only know Windows-1252 ("Łódź" came out as "Aódz"). The font files are read on the
 * first render, not at INIT, from beside the code: beside this file in the repository, beside the
 * bundle in a deployed function (OrderFunction's `files` copies them there, see FONT_BUNDLE_FILES).
 */
export const FONT_FILES: Record<FontStyle, string> = {
  normal: 'fonts/NotoSans-Regular.ttf',
  bold: 'fonts/NotoSans-Bold.ttf',
};

/** What a function that renders documents ships beside its bundle: bundle path -> repository path. */
export const FONT_BUNDLE_FILES: Record<string, string> = Object.fromEntries(
  Object.values(FONT_FILES).map((file) => [file, `functions/adapters/pdf/${file}`]),
);

let fonts: Record<FontStyle, TrueTypeFont> | undefined;

export function documentFonts(): Record<FontStyle, TrueTypeFont> {
  const load = (style: FontStyle) => parseTrueType(readFileSync(new URL(`./${FONT_FILES[style]}`, import.meta.url)));
  fonts ??= { normal: load('normal'), bold: load('bold') };
  return fonts;
}
