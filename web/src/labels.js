// Map label text. civmap runs with no internet and serves no Latin glyphs (its /glyphs route
// answers with an empty glyph set), so MapLibre can draw only the characters it renders from the
// local CJK font (`localIdeographFontFamily`): CJK ideographs, CJK punctuation, kana and the
// full-width forms block (U+FF00–FFEF). A label is therefore rewritten into characters from
// those blocks: ASCII digits and letters become their full-width forms (3号 → ３号, A区 → Ａ区),
// which read naturally in Chinese text. The popup (HTML) always shows the original name.

// The code point ranges MapLibre 5 draws with localIdeographFontFamily (a subset of its
// codePointUsesLocalIdeographFontFamily, enough for Chinese place names).
const LOCAL =
  /[\u02EA\u02EB\u2E80-\u2FDF\u3000-\u30FF\u3105-\u312F\u31A0-\u4DBF\u4E00-\uA48C\uF900-\uFA6D\uFA70-\uFAD9\uFE10-\uFE1F\uFE30-\uFE4F\uFF00-\uFFEF\u{20000}-\u{2A6DF}\u{2A700}-\u{2EBEF}\u{30000}-\u{3134F}]/u;

const SUBSTITUTES = new Map([
  [' ', '\u3000'], // ideographic space
  ['\u00B7', '\u30FB'], // middle dot · → ・
  ['\u2022', '\u30FB'],
  ['\u2013', '\uFF0D'], // en dash → full-width hyphen-minus
  ['\u2014', '\uFF0D'],
  ['\u2018', '\uFF07'],
  ['\u2019', '\uFF07'],
  ['\u201C', '\uFF02'],
  ['\u201D', '\uFF02'],
]);

/**
 * The text to draw on the map for `name`: every character drawable from the local CJK font.
 * Characters with no drawable equivalent are dropped; returns '' when nothing is left.
 */
export function mapLabel(name) {
  if (name === null || name === undefined) return '';
  let out = '';
  for (const ch of String(name).normalize('NFC')) {
    const cp = ch.codePointAt(0);
    if (LOCAL.test(ch)) out += ch;
    else if (cp >= 0x21 && cp <= 0x7e) out += String.fromCodePoint(cp + 0xfee0);
    else if (SUBSTITUTES.has(ch)) out += SUBSTITUTES.get(ch);
  }
  return out.replace(/^\u3000+|\u3000+$/g, '');
}

/** True when every character of `text` is drawn from the local CJK font. */
export function isDrawableLabel(text) {
  for (const ch of String(text)) if (!LOCAL.test(ch)) return false;
  return true;
}
