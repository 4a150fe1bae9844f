// Small colour helpers for the style: catalogue colours are CSS hex strings (#rgb or #rrggbb).

function parse(hex) {
  let h = String(hex).trim().replace(/^#/, '');
  if (h.length === 3) h = [...h].map((c) => c + c).join('');
  if (!/^[0-9a-f]{6}$/i.test(h)) return null;
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
}

const hex = (rgb) => `#${rgb.map((v) => Math.round(Math.max(0, Math.min(255, v))).toString(16).padStart(2, '0')).join('')}`;

/** `a` moved towards `b` by `t` (0..1). Unparseable colours are returned unchanged. */
export function mix(a, b, t) {
  const ca = parse(a);
  const cb = parse(b);
  if (!ca || !cb) return a;
  return hex(ca.map((v, i) => v + (cb[i] - v) * t));
}

/** `colour` darkened towards black by `t` (0..1). */
export const darken = (colour, t) => mix(colour, '#000000', t);

/** A valid CSS colour for the catalogue's `colour`, grey when it is missing or malformed. */
export function safeColour(colour) {
  return parse(colour) ? colour : '#607d8b';
}
