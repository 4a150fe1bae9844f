// The problems section of the panel: show / heat-map toggles, the filters (status, overdue,
// category, district, unit, date range), a count summary (GET /api/stats) and the status legend.
// The filters live in the URL hash too:
//
//   &status=assigned&overdue=1&category=<code>&district=<name>&unit=<name>&from=<date>&to=<date>
//   &problems=0 (problems hidden)  &heat=1 (heat map)
//
// Dates are the city's calendar days, both ends included (`to` is sent as the next day, since
// the API's `to` is exclusive).

import { el, fillSelect } from './html.js';
import { OVERDUE_COLOUR, STATUSES, nextDay } from './report-labels.js';

export const DEFAULT_FILTERS = Object.freeze({
  shown: true,
  heat: false,
  status: '',
  overdue: false,
  category: '',
  district: '',
  unit: '',
  from: '',
  to: '',
});

const TEXT_KEYS = ['status', 'category', 'district', 'unit', 'from', 'to'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The filters held by the hash's extra keys (a Map, see hash.js); the rest default. */
export function filtersFromHash(params) {
  const f = { ...DEFAULT_FILTERS };
  f.shown = params.get('problems') !== '0';
  f.heat = params.get('heat') === '1';
  f.overdue = params.get('overdue') === '1';
  for (const key of TEXT_KEYS) f[key] = (params.get(key) || '').trim();
  if (!STATUSES.some((s) => s.code === f.status)) f.status = '';
  if (!DATE.test(f.from)) f.from = '';
  if (!DATE.test(f.to)) f.to = '';
  return f;
}

/** The hash's [key, value] pairs for `filters` (defaults are left out). */
export function filtersToHash(filters) {
  const out = [];
  if (!filters.shown) out.push(['problems', '0']);
  if (filters.heat) out.push(['heat', '1']);
  for (const key of ['status', 'overdue', 'category', 'district', 'unit', 'from', 'to']) {
    const value = filters[key];
    if (value === true) out.push([key, '1']);
    else if (value) out.push([key, value]);
  }
  return out;
}

/** GET /api/reports parameters for `filters`; with {forStats} without status and overdue. */
export function reportQuery(filters, { forStats = false } = {}) {
  return {
    status: forStats ? '' : filters.status,
    overdue: !forStats && filters.overdue ? 'true' : '',
    category: filters.category,
    district: filters.district,
    unit: filters.unit,
    from: filters.from,
    to: filters.to ? nextDay(filters.to) : '',
  };
}

const percent = (x) => (Number.isFinite(x) ? `${Math.round(x * 1000) / 10}%` : '–');
const count = (n) => (Number.isFinite(n) ? n.toLocaleString('zh-CN') : '–');

/**
 * Wires the problems section (markup in index.html). `categories` from GET /api/categories;
 * `onChange(filters)` runs after every change by the user. Returns {sync(filters),
 * setOptions({districts, units}), setStats(stats), setShown(n), setBusy(busy), setError(msg)}.
 */
export function setupProblemFilters(root, { categories, onChange }) {
  const form = root.querySelector('form');
  const field = (name) => form.elements.namedItem(name);
  const shown = root.querySelector('input[name="shown"]');

  fillSelect(field('status'), '全部状态', STATUSES.map((s) => [s.code, `${s.zh} ${s.en}`]));
  fillSelect(field('category'), '全部类别', categories.map((c) => [c.code, c.name_zh]));

  const read = () => ({
    shown: shown.checked,
    heat: field('heat').checked,
    status: field('status').value,
    overdue: field('overdue').checked,
    category: field('category').value,
    district: field('district').value,
    unit: field('unit').value,
    from: field('from').value,
    to: field('to').value,
  });
  const changed = () => onChange(read());
  form.addEventListener('change', changed);
  shown.addEventListener('change', changed);
  form.addEventListener('submit', (e) => e.preventDefault());
  form.addEventListener('reset', () => {
    // 'reset' fires before the fields are reset; the heat map is a display choice and stays.
    const heat = field('heat').checked;
    setTimeout(() => {
      field('heat').checked = heat;
      changed();
    });
  });

  // The legend: status colours (with counts once stats arrive) and the overdue ring.
  const legend = root.querySelector('.status-legend');
  const legendCounts = new Map();
  legend.replaceChildren(
    ...STATUSES.map((s) => {
      const n = el('span', { className: 'status-legend__count' }, '–');
      legendCounts.set(s.code, n);
      return el('li', { dataset: { status: s.code } },
        el('span', { className: 'dot', style: `--dot:${s.colour}` }),
        el('span', { className: 'status-legend__name' }, s.zh, el('span', { className: 'en' }, s.en)), n);
    }),
    (() => {
      const n = el('span', { className: 'status-legend__count' }, '–');
      legendCounts.set('overdue', n);
      return el('li', { dataset: { status: 'overdue' } },
        el('span', { className: 'dot dot--overdue', style: `--dot:${OVERDUE_COLOUR}` }),
        el('span', { className: 'status-legend__name' }, '超期', el('span', { className: 'en' }, 'Overdue')), n);
    })(),
  );

  const summary = root.querySelector('.problem-stats');
  const set = (name, text) => {
    const node = summary.querySelector(`[data-stat="${name}"]`);
    if (node) node.textContent = text;
  };
  const status = root.querySelector('.problems__status');

  const ensureOption = (select, value) => {
    if (value && ![...select.options].some((o) => o.value === value)) select.append(el('option', { value }, value));
  };

  return {
    sync(filters) {
      shown.checked = filters.shown;
      field('heat').checked = filters.heat;
      field('overdue').checked = filters.overdue;
      for (const key of TEXT_KEYS) {
        const input = field(key);
        if (input.tagName === 'SELECT') ensureOption(input, filters[key]);
        input.value = filters[key];
      }
      root.classList.toggle('problems--hidden', !filters.shown);
    },
    setOptions({ districts, units }) {
      fillSelect(field('district'), '全部区', districts.map((d) => [d, d]));
      fillSelect(field('unit'), '全部单位', units.map((u) => [u, u]));
    },
    setStats(stats) {
      set('total', count(stats.total));
      set('open', count(stats.open));
      set('overdue', count(stats.overdue));
      set('closure', percent(stats.closure_rate));
      for (const [code, node] of legendCounts) {
        node.textContent = count(code === 'overdue' ? stats.overdue : (stats.by_status || {})[code] ?? 0);
      }
    },
    setShown(n) {
      set('shown', count(n));
    },
    setBusy(busy) {
      root.classList.toggle('problems--busy', busy);
    },
    setError(message) {
      status.hidden = !message;
      status.textContent = message || '';
    },
  };
}
