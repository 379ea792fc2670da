#!/usr/bin/env bash
# Regenerates NotoSans-Regular.ttf and NotoSans-Bold.ttf: Noto Sans (SIL Open Font License 1.1, see OFL.txt)
# from the pinned npm package @expo-google-fonts/noto-sans, cut down to the scripts an invoice prints (Latin
# with all its extensions, Greek, Cyrillic, punctuation, currency and letterlike symbols) and without hinting,
# layout tables or glyph names, none of which a PDF uses. The full fonts have 4,503 glyphs, 629 KB each.
# Needs fontTools (`apt-get install python3-fonttools` or `pip install fonttools`). Run from the repo root:
#   bash functions/adapters/pdf/fonts/subset.sh
set -euo pipefail
cd "$(dirname "$0")"
package=../../../../node_modules/@expo-google-fonts/noto-sans
unicodes='U+0020-007E,U+00A0-036F,U+0370-03FF,U+0400-052F,U+1E00-1EFF,U+2000-206F,U+20A0-20CF,U+2100-214F,U+2212,U+FFFD'
for style in Regular Bold; do
  weight=$([ "$style" = Regular ] && echo 400Regular || echo 700Bold)
  python3 -m fontTools.subset "$package/$weight/NotoSans_$weight.ttf" --unicodes="$unicodes" \
    --no-hinting --layout-features='' --drop-tables+=GSUB,GPOS,GDEF,STAT,gasp,prep \
    --no-glyph-names --notdef-outline --output-file="NotoSans-$style.ttf"
done
cp "$package/LICENSE_FONT" OFL.txt
ls -l NotoSans-*.ttf
