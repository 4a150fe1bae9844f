// Tiny DOM helpers shared by the popups, the problem detail and the forms.

/** `value` safe to put into HTML text or a quoted attribute. */
export const escape = (value) =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/**
 * A new element: `el('p', {className: 'x', dataset: {id: 1}}, 'text', child)`. Attributes are
 * set as properties (className, hidden, value, …) except `dataset` and names with a dash.
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.includes('-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** `<option>`s for a select: the first is `all` (value ''), then [value, label] pairs. */
export function fillSelect(select, all, entries) {
  const current = select.value;
  select.replaceChildren(
    ...(all ? [el('option', { value: '' }, all)] : []),
    ...entries.map(([value, label]) => el('option', { value }, label)),
  );
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}
