// The sheet: a side panel on the right (a bottom sheet on phones) showing one view at a time —
// a problem's detail or the filing form. Showing a view closes the previous one (its onClose
// runs), so the two never fight over the sheet.

/**
 * Wires the sheet markup (index.html #sheet). Returns {show({name, title, content, onClose}),
 * close(), isOpen(), view(), reveal(map, lngLat)}; `content` is a Node or an HTML string.
 */
export function setupSheet(root) {
  const title = root.querySelector('.sheet__title');
  const body = root.querySelector('.sheet__body');
  let current = null;

  const close = () => {
    if (!current) return;
    const { onClose } = current;
    current = null;
    root.hidden = true;
    root.removeAttribute('data-view');
    document.body.classList.remove('sheet-open');
    body.replaceChildren();
    if (onClose) onClose();
  };

  root.querySelector('.sheet__close').addEventListener('click', close);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && current && !e.defaultPrevented) close();
  });

  return {
    show({ name, title: text, content, onClose }) {
      if (current && current.content !== content) close();
      current = { name, content, onClose };
      title.textContent = text;
      if (typeof content === 'string') body.innerHTML = content;
      else if (body.firstChild !== content) body.replaceChildren(content);
      root.dataset.view = name;
      root.hidden = false;
      document.body.classList.add('sheet-open');
      body.scrollTop = 0;
    },
    /** Pans `map` so that [lon, lat] lies in the part the sheet leaves free (above it on phones). */
    reveal(map, lngLat) {
      const box = map.getContainer().getBoundingClientRect();
      const sheetBox = root.getBoundingClientRect();
      let free = { left: 0, top: 0, right: box.width, bottom: box.height };
      if (!root.hidden && sheetBox.width > 0) {
        free = sheetBox.width >= box.width - 1
          ? { ...free, bottom: sheetBox.top - box.top }
          : { ...free, right: sheetBox.left - box.left };
      }
      const p = map.project(lngLat);
      const margin = 40;
      const inside = p.x >= free.left + margin && p.x <= free.right - margin && p.y >= free.top + margin && p.y <= free.bottom - margin;
      if (!inside) map.panBy([p.x - (free.left + free.right) / 2, p.y - (free.top + free.bottom) / 2], { duration: 300 });
    },
    close,
    isOpen: () => current !== null,
    view: () => (current ? current.name : null),
  };
}
