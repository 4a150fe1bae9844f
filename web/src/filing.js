// Filing a problem (上报问题): the inspector picks the spot by clicking the map (or with the
// device position from the geolocate control), fills the form (category, description,
// reporter, photos) and sees before submitting which asset the report will match and its
// responsible unit: the nearest asset of the category's eligible kinds within its reach
// (GET /api/nearest). Submitting POSTs multipart (report JSON + photos); the answer shows the
// server's actual match, district and possible duplicates. Errors show the server's `detail`.
//
// States: idle → picking (form open, no spot) → located → sending → done (result shown).

import maplibregl from 'maplibre-gl';

import { fetchNearest, fileReport } from './api.js';
import { el, escape, fillSelect } from './html.js';
import { formatDistance, statusInfo } from './report-labels.js';

const REPORTER_KEY = 'civmap:reporter';

const storedReporter = () => {
  try {
    return window.localStorage.getItem(REPORTER_KEY) || '';
  } catch {
    return '';
  }
};
const storeReporter = (name) => {
  try {
    window.localStorage.setItem(REPORTER_KEY, name);
  } catch {
    // Private mode: nothing to remember with.
  }
};

/**
 * Sets up filing. `template` is the form markup (index.html <template id="filing-template">);
 * `sheet` the sheet (sheet.js); `kindName(kind)` the catalogue's Chinese name of a kind;
 * `knownKinds` the catalogue kinds; `onFiled(result)` runs after a 201 and resolves to whether
 * the new problem is shown under the current filters; `onOpenProblem(id)` opens a detail.
 * Returns {start(), stop(), isPicking(), setLocation([lon, lat])}.
 */
export function setupFiling({ map, sheet, template, categories, kindName, knownKinds, geolocate, onFiled, onOpenProblem }) {
  const root = template.content.firstElementChild.cloneNode(true);
  const form = root.querySelector('form');
  const part = (role) => root.querySelector(`[data-role="${role}"]`);
  const field = (name) => form.elements.namedItem(name);
  const categoryOf = new Map(categories.map((c) => [c.code, c]));
  fillSelect(field('category'), '请选择类别', categories.map((c) => [c.code, c.name_zh]));

  let state = 'idle';
  let location = null;
  // Only the latest preview counts (stale answers are dropped, not aborted).
  let previews = 0;
  const marker = new maplibregl.Marker({ color: '#b23a30', draggable: true });
  marker.on('dragend', () => setLocation(marker.getLngLat().toArray(), { move: false }));

  const setState = (next) => {
    state = next;
    root.dataset.state = next;
    document.body.classList.toggle('filing-mode', next === 'picking' || next === 'located' || next === 'sending');
    form.hidden = next === 'done';
    part('result').hidden = next !== 'done';
    form.querySelector('button[type="submit"]').disabled = next !== 'located';
  };

  const showError = (message) => {
    part('error').hidden = !message;
    part('error').textContent = message || '';
  };

  // ---------- where ----------

  function setLocation(lngLat, { move = true } = {}) {
    if (state !== 'picking' && state !== 'located') return;
    location = lngLat.map((v) => Math.round(v * 1e6) / 1e6);
    marker.setLngLat(location).addTo(map);
    part('coords').textContent = `${location[1].toFixed(6)}, ${location[0].toFixed(6)}`;
    part('coords').classList.remove('muted');
    showError(null);
    setState('located');
    if (move) {
      // The geolocate control may still be flying to the position.
      const reveal = () => location && sheet.reveal(map, location);
      if (map.isMoving()) map.once('moveend', reveal);
      else reveal();
    }
    preview();
  }

  part('locate').addEventListener('click', () => {
    showError(null);
    // The geolocate control asks the browser; its 'geolocate' event sets the spot below.
    if (!geolocate.trigger()) showError('无法获取当前位置 Your position is not available');
  });
  geolocate.on('geolocate', (position) => {
    if (state === 'picking' || state === 'located') {
      setLocation([position.coords.longitude, position.coords.latitude]);
    }
  });
  geolocate.on('error', () => {
    if (state === 'picking' || state === 'located') showError('无法获取当前位置，请在地图上点击 Position unavailable: click the map');
  });

  // ---------- what it will match ----------

  async function preview() {
    const out = part('preview');
    const category = categoryOf.get(field('category').value);
    const current = ++previews;
    if (!location || !category) {
      out.hidden = true;
      return;
    }
    out.hidden = false;
    out.className = 'filing__match filing__match--busy';
    out.textContent = '查找匹配对象… Finding the asset…';
    const [lon, lat] = location;
    const eligible = category.eligible_kinds.filter((k) => knownKinds.has(k));
    const permitted = (category.permitted_in || []).filter((k) => knownKinds.has(k));
    try {
      const [near, zone] = await Promise.all([
        eligible.length ? fetchNearest(lon, lat, eligible, 1) : null,
        permitted.length ? fetchNearest(lon, lat, permitted, 1) : null,
      ]);
      if (current !== previews) return;
      const hit = near && near.features[0];
      const inReach = hit && hit.properties.distance_m <= category.max_distance_m;
      const inZone = zone && zone.features[0] && zone.features[0].properties.distance_m === 0 ? zone.features[0] : null;
      out.className = `filing__match ${inReach ? 'filing__match--hit' : 'filing__match--none'}`;
      out.innerHTML = `
        <div class="filing__match-head">预计匹配 <span class="en">Will match</span></div>
        ${inReach ? matchHTML(hit.properties.name || hit.properties.id, hit.properties.kind, hit.properties.distance_m, hit.properties.unit, hit.properties.district) : `<div class="filing__match-name">未匹配 <span class="en">no asset in reach</span></div><div class="muted">${escape(formatDistance(category.max_distance_m))}内没有${escape(eligible.map(kindName).join('、') || '可匹配的对象')}</div>`}
        ${inZone ? `<div class="filing__warn">位于 ${escape(inZone.properties.name)} 内：此处允许该行为 <span class="en">inside a zone where this is permitted</span></div>` : ''}`;
      out.dataset.asset = inReach ? hit.properties.id : '';
    } catch (err) {
      if (current !== previews) return;
      out.className = 'filing__match filing__match--none';
      out.textContent = `无法预览匹配 Preview failed: ${err.detail || err.message}`;
    }
  }

  function matchHTML(name, kind, distance, unit, district) {
    return `
      <div class="filing__match-name">${escape(name)} <span class="muted">${escape(kindName(kind))} · ${escape(formatDistance(distance))}</span></div>
      <div>责任单位 <span class="en">Unit</span> <strong>${escape(unit || '–')}</strong></div>
      ${district ? `<div class="muted">${escape(district)}</div>` : ''}`;
  }

  field('category').addEventListener('change', preview);

  // ---------- photos ----------

  field('photo').addEventListener('change', () => {
    const files = [...field('photo').files];
    part('thumbs').replaceChildren(
      ...files.map((file) => {
        const img = el('img', { alt: file.name, src: URL.createObjectURL(file) });
        img.addEventListener('load', () => URL.revokeObjectURL(img.src), { once: true });
        return img;
      }),
    );
  });

  // ---------- submit ----------

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (state !== 'located') return;
    const category = field('category').value;
    const reporter = field('reporter').value.trim();
    if (!category) return showError('请选择问题类别 Choose a category');
    if (!reporter) return showError('请填写上报人 Enter the reporter');
    showError(null);
    setState('sending');
    const report = {
      lon: location[0],
      lat: location[1],
      crs: 'wgs84',
      category,
      description: field('description').value.trim(),
      reporter,
    };
    try {
      const result = await fileReport(report, [...field('photo').files]);
      storeReporter(reporter);
      marker.remove();
      setState('done');
      showResult(result, null);
      const shown = await onFiled(result);
      showResult(result, shown);
    } catch (err) {
      setState('located');
      showError(`上报失败 Filing failed: ${err.detail || err.message}`);
    }
  });

  function showResult(r, shown) {
    const s = statusInfo(r.status);
    const duplicates = r.possible_duplicates || [];
    const out = part('result');
    out.dataset.id = r.id;
    out.innerHTML = `
      <p class="filing-result__ok">上报成功 <span class="en">Filed</span> <strong>问题 #${escape(r.id)}</strong>
        <span class="badge" style="--badge:${escape(s.colour)}">${escape(s.zh)}<span class="en">${escape(s.en)}</span></span></p>
      <div class="filing__match filing__match--${r.asset ? 'hit' : 'none'}">
        <div class="filing__match-head">匹配结果 <span class="en">Matched</span></div>
        ${r.asset ? matchHTML(r.asset.name || r.asset.id, r.asset.kind, r.asset.distance_m, r.unit, r.district) : `<div class="filing__match-name">未匹配 <span class="en">no asset in reach</span></div><div class="muted">${escape(r.district || '')}</div>`}
        ${r.permitted_zone ? `<div class="filing__warn">位于 ${escape(r.permitted_zone.name || r.permitted_zone.id)} 内：此处允许该行为 <span class="en">inside a permitted zone</span></div>` : ''}
      </div>
      ${duplicates.length ? `<div class="filing__dups">疑似重复 <span class="en">Possible duplicates</span>: ${duplicates
        .map((d) => `<a href="#" data-problem="${escape(d.id)}">#${escape(d.id)}</a> <span class="muted">${escape(formatDistance(d.distance_m))}</span>`)
        .join('、')}</div>` : ''}
      ${shown === false ? '<p class="muted">当前筛选条件下不显示 <span class="en">hidden by the current filters</span></p>' : ''}
      <div class="filing__actions">
        <button type="button" class="button" data-action="again">继续上报 <span class="en">File another</span></button>
        <button type="button" class="button button--primary" data-problem="${escape(r.id)}">查看详情 <span class="en">View</span></button>
      </div>`;
  }

  part('result').addEventListener('click', (e) => {
    const target = e.target.closest('[data-problem], [data-action]');
    if (!target) return;
    e.preventDefault();
    if (target.dataset.action === 'again') start();
    else onOpenProblem(Number(target.dataset.problem));
  });
  part('cancel').addEventListener('click', () => sheet.close());

  // ---------- mode ----------

  function start() {
    previews += 1;
    location = null;
    const keepCategory = field('category').value;
    form.reset();
    field('category').value = keepCategory;
    field('reporter').value = storedReporter();
    part('thumbs').replaceChildren();
    part('preview').hidden = true;
    part('coords').textContent = '请在地图上点击问题位置';
    part('coords').classList.add('muted');
    showError(null);
    setState('picking');
    sheet.show({ name: 'filing', title: '上报问题', content: root, onClose: stop });
  }

  function stop() {
    previews += 1;
    marker.remove();
    setState('idle');
  }

  setState('idle');
  return {
    start,
    stop: () => {
      if (sheet.view() === 'filing') sheet.close();
      else stop();
    },
    /** True while a map click sets the spot. */
    isPicking: () => state === 'picking' || state === 'located',
    setLocation,
  };
}
