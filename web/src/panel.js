// The layer panel: one row per catalogue kind (catalogue order) with a visibility toggle and its
// legend entry — swatch in the layer's colour and shape, Chinese and English name, feature count.
// On narrow screens the panel starts collapsed and opens over the map.

import { geometryGroup } from './geometry.js';
import { safeColour } from './colour.js';

const NARROW = window.matchMedia('(max-width: 720px)');

/** Opens the panel (set by setupPanelToggle); used to show a fatal error on a phone. */
export let revealPanel = () => {};

function swatch(layer) {
  const el = document.createElement('span');
  const group = geometryGroup(layer.geometry_type);
  el.className = `swatch swatch--${group.toLowerCase()}`;
  el.style.setProperty('--swatch', safeColour(layer.colour));
  el.setAttribute('aria-hidden', 'true');
  return el;
}

const formatCount = (n) => (Number.isFinite(n) ? n.toLocaleString('zh-CN') : '–');

/**
 * Fills the layer list. `isVisible(kind)` gives the current state; `onToggle(kind, visible)` is
 * called when the user flips a row. Returns {sync()} to refresh the checkboxes from state.
 */
export function renderLayerList(list, catalogue, { isVisible, onToggle }) {
  list.replaceChildren();
  const inputs = new Map();
  for (const layer of catalogue) {
    const li = document.createElement('li');
    li.className = 'layer';
    li.dataset.kind = layer.kind;
    if (!layer.count) li.classList.add('layer--empty');

    const label = document.createElement('label');
    label.className = 'layer__label';

    const input = document.createElement('input');
    input.type = 'checkbox';
    input.className = 'layer__toggle';
    input.name = `layer-${layer.kind}`;
    input.value = layer.kind;
    input.checked = isVisible(layer.kind);
    input.addEventListener('change', () => onToggle(layer.kind, input.checked));
    inputs.set(layer.kind, input);

    const names = document.createElement('span');
    names.className = 'layer__names';
    const zh = document.createElement('span');
    zh.className = 'layer__zh';
    zh.textContent = layer.name_zh || layer.kind;
    const en = document.createElement('span');
    en.className = 'layer__en';
    en.textContent = layer.name_en || layer.kind;
    names.append(zh, en);

    const count = document.createElement('span');
    count.className = 'layer__count';
    count.textContent = formatCount(layer.count);
    count.title = `${layer.count ?? 0} 个要素 features`;

    label.append(input, swatch(layer), names, count);
    li.append(label);
    list.append(li);
  }
  return {
    sync() {
      for (const [kind, input] of inputs) input.checked = isVisible(kind);
    },
  };
}

/**
 * Wires the collapse / expand buttons. Returns {isOpen(), setOpen(open)}; `onChange(open)` runs
 * after each change (the map resizes its padding).
 */
export function setupPanelToggle(panel, openButton, closeButton, onChange = () => {}) {
  const setOpen = (open) => {
    panel.classList.toggle('panel--collapsed', !open);
    document.body.classList.toggle('panel-open', open);
    openButton.setAttribute('aria-expanded', String(open));
    closeButton.setAttribute('aria-expanded', String(open));
    openButton.hidden = open;
    onChange(open);
  };
  openButton.addEventListener('click', () => setOpen(true));
  closeButton.addEventListener('click', () => setOpen(false));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && NARROW.matches && !panel.classList.contains('panel--collapsed')) setOpen(false);
  });
  setOpen(!NARROW.matches);
  revealPanel = () => setOpen(true);
  return {
    isOpen: () => !panel.classList.contains('panel--collapsed'),
    setOpen,
    isNarrow: () => NARROW.matches,
  };
}

/** Shows a message in the panel's status line (kind: 'error' | 'info'); null hides it. */
export function showStatus(message, kind = 'info') {
  const el = document.getElementById('status');
  if (!el) return;
  el.hidden = !message;
  el.textContent = message || '';
  el.className = `status status--${kind}`;
}
