// 路口覆盖 Coverage: duty coverage of the main intersections by traffic police posts (包路口).
//
// When on, the main intersections from GET /api/coverage?at=…&format=geojson are drawn on top of
// the map, coloured by how they are covered at the chosen time: held by a post (green), only a
// post nearby (amber) or a gap (red). The panel section holds the toggle, the time picker (date +
// time, quick buttons 早高峰 07:30 / 晚高峰 17:30), the legend with counts, the per-district
// ratios, a 24-hour strip (GET /api/coverage/day) and the top suggestions
// (GET /api/coverage/suggestions). A click on an intersection tells who holds it.
//
// In the hash: `&coverage=YYYY-MM-DDTHH:MM` while the view is on (absent = off).
//
// Style layers: `coverage` (circles; property `how` = held | nearby_post | gap), `coverage--halo`.

import maplibregl from 'maplibre-gl';

import { fetchCoverage, fetchCoverageDay, fetchCoverageSuggestions } from './api.js';
import { escape, el } from './html.js';
import { COVERAGE_COLOURS } from './hooks.js';

export const COVERAGE_LAYER = 'coverage';
const SOURCE = 'civmap-coverage';
const EMPTY = { type: 'FeatureCollection', features: [] };
const TIME_ZONE = 'Asia/Shanghai';
const AT = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})$/;

export const COVERAGE_STATES = [
  { how: 'held', zh: '有岗', en: 'Held', colour: COVERAGE_COLOURS.covered },
  { how: 'nearby_post', zh: '附近有岗', en: 'Post nearby', colour: COVERAGE_COLOURS.partial },
  { how: 'gap', zh: '缺口', en: 'Gap', colour: COVERAGE_COLOURS.gap },
];
export const QUICK_TIMES = [
  { time: '07:30', zh: '早高峰', en: 'AM peak' },
  { time: '17:30', zh: '晚高峰', en: 'PM peak' },
];

/** Today in the city (Asia/Shanghai) as YYYY-MM-DD. */
export function cityToday(now = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** The default time: today 07:30 (morning peak). */
export const defaultAt = () => `${cityToday()}T07:30`;

/** `how` of a coverage feature's properties. */
export const howOf = (p) => (p.cover && (p.cover.how === 'held' || p.cover.how === 'nearby_post') ? p.cover.how : 'gap');

const percent = (x) => (Number.isFinite(x) ? `${Math.round(x * 1000) / 10}%` : '–');
const list = (v) => (Array.isArray(v) ? v : v ? [v] : []);

/** Adds the (empty, hidden) coverage layers, below the labels. */
function addCoverageLayers(map, before) {
  map.addSource(SOURCE, { type: 'geojson', data: EMPTY });
  const colour = ['match', ['get', 'how'], ...COVERAGE_STATES.flatMap((s) => [s.how, s.colour]), COVERAGE_COLOURS.gap];
  map.addLayer({
    id: `${COVERAGE_LAYER}--halo`, type: 'circle', source: SOURCE,
    layout: { visibility: 'none' },
    paint: {
      'circle-color': colour,
      'circle-opacity': 0.22,
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 6, 16, 18],
    },
  }, before);
  map.addLayer({
    id: COVERAGE_LAYER, type: 'circle', source: SOURCE,
    layout: { visibility: 'none' },
    paint: {
      'circle-color': colour,
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 3.5, 16, 9],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 10, 1, 16, 2],
    },
  }, before);
}

/** The popup HTML for one coverage feature (properties as served, `how` added). */
export function coveragePopupHTML(p, nameOf = () => null) {
  const state = COVERAGE_STATES.find((s) => s.how === p.how) || COVERAGE_STATES[2];
  const cover = p.cover || {};
  let body;
  if (p.how === 'held') {
    const units = [...new Set(list(cover.units))];
    const posts = list(cover.posts);
    body = `<p>值守单位 <span class="en">Held by</span>: <strong>${escape(units.join('、') || '–')}</strong></p>`
      + (posts.length ? `<p class="muted">岗位 <span class="en">Posts</span>: ${posts.map((x) => `#${escape(typeof x === 'object' ? x.id : x)}`).join(' ')}</p>` : '');
  } else if (p.how === 'nearby_post') {
    const via = nameOf(cover.via_intersection) || cover.via_intersection;
    body = `<p>本路口无岗，附近有岗 <span class="en">No post here; one nearby</span></p>`
      + `<p>${escape(cover.unit || '–')} · 岗位 #${escape(cover.post)} @ ${escape(via || '–')}`
      + `${Number.isFinite(cover.distance_m) ? ` · ${Math.round(cover.distance_m)} 米` : ''}</p>`;
  } else {
    body = '<p><strong>缺口</strong>：此时无人值守 <span class="en">Gap: no post holds this intersection now</span></p>';
  }
  return `<div class="coverage-popup">
    <h3>${escape(p.name || p.id)}</h3>
    <p class="coverage-popup__state"><span class="dot" style="--dot:${state.colour}"></span> ${state.zh} <span class="en">${state.en}</span></p>
    ${body}
    <p class="muted">${escape(p.district || '')} · ${escape(p.id)}</p>
  </div>`;
}

/**
 * Sets up the coverage view (panel markup: index.html #coverage). `params` are the hash's extra
 * keys at load; `onStateChange()` runs when the hash should be rewritten. Returns {state,
 * hashParams(), applyHash(params), handleClick(point, lngLat), setOn(on), setAt(at), loaded()}.
 */
export function setupCoverage({ map, params, labelsBefore, nameOf, onStateChange }) {
  addCoverageLayers(map, labelsBefore);
  const root = document.getElementById('coverage');
  const toggle = root.querySelector('input[name="coverage"]');
  const dateInput = root.querySelector('input[name="coverage-date"]');
  const timeInput = root.querySelector('input[name="coverage-time"]');
  const body = root.querySelector('.coverage__body');
  const legend = root.querySelector('.coverage-legend');
  const districtsEl = root.querySelector('.coverage-districts');
  const strip = root.querySelector('.coverage-day');
  const suggestionsEl = root.querySelector('.coverage-suggestions');
  const status = root.querySelector('.coverage__status');
  const atLabel = root.querySelector('.coverage__at');

  const quick = root.querySelector('.coverage__quick');
  quick.replaceChildren(...QUICK_TIMES.map((q) =>
    el('button', { type: 'button', className: 'chip', dataset: { time: q.time }, title: `${q.zh} ${q.time}` },
      `${q.zh} ${q.time}`)));

  const counts = new Map();
  legend.replaceChildren(...COVERAGE_STATES.map((s) => {
    const n = el('span', { className: 'status-legend__count' }, '–');
    counts.set(s.how, n);
    return el('li', { dataset: { how: s.how } },
      el('span', { className: 'dot', style: `--dot:${s.colour}` }),
      el('span', { className: 'status-legend__name' }, s.zh, el('span', { className: 'en' }, s.en)), n);
  }));

  const popup = new maplibregl.Popup({ maxWidth: '300px', className: 'civmap-popup', focusAfterOpen: false });

  const fromHash = (p) => {
    const v = (p.get('coverage') || '').trim();
    if (!v) return { on: false, at: state ? state.at : defaultAt() };
    return { on: true, at: AT.test(v) ? v : defaultAt() };
  };
  let state = null;
  state = fromHash(params);

  let seq = 0;
  let daySeq = 0;
  let dayKey = '';
  let pending = Promise.resolve();
  /** The features drawn now, by id. */
  const drawn = new Map();

  const setStatus = (message) => {
    status.hidden = !message;
    status.textContent = message || '';
  };

  function sync() {
    toggle.checked = state.on;
    const [, date, time] = AT.exec(state.at) || [];
    dateInput.value = date || '';
    timeInput.value = time || '';
    body.hidden = !state.on;
    for (const b of quick.querySelectorAll('button')) b.classList.toggle('chip--on', b.dataset.time === time);
    const visibility = state.on ? 'visible' : 'none';
    for (const id of [COVERAGE_LAYER, `${COVERAGE_LAYER}--halo`]) map.setLayoutProperty(id, 'visibility', visibility);
    if (!state.on) popup.remove();
  }

  function load() {
    if (!state.on) return Promise.resolve();
    const n = ++seq;
    const { at } = state;
    root.classList.add('coverage--busy');
    const main = fetchCoverage({ at }).then((fc) => {
      if (n !== seq) return;
      const tally = { held: 0, nearby_post: 0, gap: 0 };
      drawn.clear();
      for (const f of fc.features) {
        f.properties.how = howOf(f.properties);
        tally[f.properties.how] += 1;
        drawn.set(f.properties.id, f);
      }
      map.getSource(SOURCE).setData(fc);
      for (const [how, node] of counts) node.textContent = String(tally[how]);
      atLabel.textContent = `${(fc.at || at).slice(0, 16).replace('T', ' ')} 北京时间`;
      districtsEl.replaceChildren(...(fc.districts || []).map((d) =>
        el('li', { dataset: { district: d.district } },
          el('span', { className: 'coverage-districts__name' }, d.district),
          el('span', { className: 'coverage-districts__bar', style: `--ratio:${Math.max(0, Math.min(1, d.ratio || 0))}` }),
          el('span', { className: 'coverage-districts__ratio' }, `${d.covered}/${d.main_intersections} · ${percent(d.ratio)}`))));
      setStatus('');
      if (popup.isOpen() && popup._coverageId && drawn.has(popup._coverageId)) {
        popup.setHTML(coveragePopupHTML(drawn.get(popup._coverageId).properties, nameOf));
      }
    });
    const date = at.slice(0, 10);
    const day = dayKey === date ? Promise.resolve() : loadDay(date);
    const sugg = fetchCoverageSuggestions({ at, limit: 5 }).then((body) => {
      if (n !== seq) return;
      suggestionsEl.replaceChildren(...(body.suggestions || []).map((s) =>
        el('li', {},
          el('button', { type: 'button', className: 'text-button', dataset: { id: s.id, lon: s.lon, lat: s.lat } }, s.name),
          el('span', { className: 'muted' }, ` ${s.district} · 问题 ${s.open_problems ?? 0} · 交通秩序 ${s.open_traffic_disorder ?? 0}`))));
    });
    pending = Promise.all([main, day, sugg])
      .catch((err) => {
        if (n === seq) setStatus(`覆盖加载失败 Coverage failed: ${err.detail || err.message}`);
      })
      .finally(() => {
        if (n === seq) root.classList.remove('coverage--busy');
      });
    markHour();
    return pending;
  }

  function loadDay(date) {
    const n = ++daySeq;
    return fetchCoverageDay({ date }).then((body) => {
      if (n !== daySeq) return;
      dayKey = date;
      strip.replaceChildren(...(body.hours || []).map((h) =>
        el('button', {
          type: 'button',
          className: 'coverage-day__bar',
          dataset: { hour: String(h.hour) },
          title: `${String(h.hour).padStart(2, '0')}:00 · ${h.held}/${h.main_intersections} · ${percent(h.ratio)}`,
          style: `--ratio:${Math.max(0, Math.min(1, h.ratio || 0))}`,
        })));
      markHour();
    });
  }

  function markHour() {
    const hour = Number(state.at.slice(11, 13));
    for (const b of strip.children) b.classList.toggle('coverage-day__bar--now', Number(b.dataset.hour) === hour);
  }

  function apply(next) {
    const changed = next.on !== state.on || next.at !== state.at;
    state = next;
    sync();
    if (changed) onStateChange();
    return changed || (state.on && drawn.size === 0) ? load() : pending;
  }

  toggle.addEventListener('change', () => apply({ ...state, on: toggle.checked }));
  const fromInputs = () => {
    const date = dateInput.value || cityToday();
    const time = timeInput.value ? timeInput.value.slice(0, 5) : '07:30';
    apply({ ...state, at: `${date}T${time}` });
  };
  dateInput.addEventListener('change', fromInputs);
  timeInput.addEventListener('change', fromInputs);
  quick.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-time]');
    if (b) apply({ on: true, at: `${state.at.slice(0, 10)}T${b.dataset.time}` });
  });
  strip.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-hour]');
    if (b) apply({ ...state, at: `${state.at.slice(0, 10)}T${b.dataset.hour.padStart(2, '0')}:00` });
  });
  suggestionsEl.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-id]');
    if (!b) return;
    const at = [Number(b.dataset.lon), Number(b.dataset.lat)];
    map.easeTo({ center: at, zoom: Math.max(map.getZoom(), 15), duration: 500 });
    const f = drawn.get(b.dataset.id);
    if (f) showPopup(f.properties, at);
  });

  function showPopup(properties, at) {
    popup._coverageId = properties.id;
    popup.setLngLat(at).setHTML(coveragePopupHTML(properties, nameOf)).addTo(map);
  }

  sync();
  load();

  return {
    get state() {
      return { ...state };
    },
    /** The hash's [key, value] pairs. */
    hashParams: () => (state.on ? [['coverage', state.at]] : []),
    applyHash: (p) => apply(fromHash(p)),
    /** Shows who holds the clicked intersection; true when the click was on one. */
    handleClick(point, radius = 6) {
      if (!state.on || !map.getLayer(COVERAGE_LAYER)) return false;
      const box = [[point.x - radius, point.y - radius], [point.x + radius, point.y + radius]];
      const hit = map.queryRenderedFeatures(box, { layers: [COVERAGE_LAYER] })[0];
      if (!hit) return false;
      const f = drawn.get(hit.properties.id);
      showPopup(f ? f.properties : hit.properties, hit.geometry.coordinates);
      return true;
    },
    setOn: (on) => apply({ ...state, on }),
    setAt: (at) => apply({ ...state, at }),
    /** Resolves when the latest coverage request has been drawn. */
    loaded: () => pending,
    /** The drawn features by intersection id. */
    drawn,
  };
}
