// End-to-end test of the web map in a real browser (Debian's Chromium through playwright-core,
// WebGL by SwiftShader). Needs a running civmap serving the built map:
//
//   cargo run --release -- serve --data /tmp/webdev --listen 127.0.0.1:8090 --web web/dist
//   cd web && npm test                     # CIVMAP_URL=http://127.0.0.1:8090 by default
//
// Env: CIVMAP_URL (base URL), CHROMIUM (browser binary, default /usr/bin/chromium),
// CIVMAP_TEST_OUTPUT (screenshot directory, default <repo>/test-output).
// Exits non-zero when any check fails.
//
// It files problem reports (through the API and through the map's form), so run it against a
// scratch data directory; it copes with reports left by earlier runs.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const BASE = (process.env.CIVMAP_URL || 'http://127.0.0.1:8090').replace(/\/+$/, '');
const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = process.env.CIVMAP_TEST_OUTPUT || path.resolve(HERE, '..', '..', 'test-output');
const CITY_CENTRE = [116.7, 39.52];
const VIEWPORT = { width: 1280, height: 800 };
const READY_TIMEOUT_MS = Number(process.env.CIVMAP_READY_TIMEOUT_MS || 90_000);

// ---------- tiny harness ----------

const failures = [];
let passed = 0;
/** Console errors, page errors and failed requests seen by any page. */
const problems = [];
/** Glyph PBF requests: none expected, every label is drawn from the local CJK font. */
const glyphRequests = [];
/**
 * HTTP errors the test provokes on purpose (the filing form's error display), as
 * {status, method, path}; each is expected once and is not a problem.
 */
const provoked = [];

function check(ok, what, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`  ok   ${what}`);
  } else {
    failures.push(`${what}${detail ? `: ${detail}` : ''}`);
    console.log(`  FAIL ${what}${detail ? `: ${detail}` : ''}`);
  }
  return ok;
}

function section(title) {
  console.log(`\n${title}`);
}

// ---------- browser plumbing ----------

/** Records console errors, page errors, failed requests and HTTP errors of a page. */
function watch(page, label, problems) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // Chromium logs every HTTP error response; the provoked ones are accounted for below.
    const expected = provoked.find((p) => !p.logged && msg.text().includes(`status of ${p.status}`));
    if (expected) expected.logged = true;
    else problems.push(`[${label}] console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`[${label}] page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    problems.push(`[${label}] request failed: ${req.method()} ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on('request', (req) => {
    if (new URL(req.url()).pathname.startsWith('/glyphs/')) glyphRequests.push(req.url());
  });
  page.on('response', (res) => {
    if (res.status() < 400) return;
    const { pathname } = new URL(res.url());
    const expected = provoked.find((p) => !p.seen && p.status === res.status() && p.method === res.request().method() && p.path === pathname);
    if (expected) expected.seen = true;
    else problems.push(`[${label}] HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
  });
}

async function waitReady(page) {
  await page.waitForFunction(() => window.civmap && window.civmap.ready, null, { timeout: READY_TIMEOUT_MS });
  await page.evaluate(
    (ms) =>
      Promise.race([
        window.civmap.ready.then(() => true),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`civmap.ready not resolved after ${ms} ms`)), ms)),
      ]),
    READY_TIMEOUT_MS,
  );
}

/** Moves the map without animation and waits until it has rendered everything. */
async function jumpTo(page, center, zoom) {
  await page.evaluate(
    ([c, z]) =>
      new Promise((resolve) => {
        const { map } = window.civmap;
        // Nudge repaints until idle (MapLibre schedules no frame after a 404 raster tile).
        const nudge = setInterval(() => map.triggerRepaint(), 500);
        map.once('idle', () => {
          clearInterval(nudge);
          resolve();
        });
        map.jumpTo({ center: c, zoom: z });
        map.triggerRepaint();
      }),
    [center, zoom],
  );
}

const renderedCount = (page, layerId) =>
  page.evaluate((id) => {
    const { map } = window.civmap;
    if (!map.getLayer(id)) return -1;
    return map.queryRenderedFeatures({ layers: [id] }).length;
  }, layerId);

/** A representative [lon, lat] of a GeoJSON geometry: a point, a mid vertex, a ring centre. */
function representative(geometry) {
  const flat = [];
  const walk = (c) => (typeof c[0] === 'number' ? flat.push(c) : c.forEach(walk));
  walk(geometry.coordinates);
  if (geometry.type.endsWith('Polygon')) {
    const ring = geometry.type === 'Polygon' ? geometry.coordinates[0] : geometry.coordinates[0][0];
    const n = ring.length - 1 || 1;
    return [ring.slice(0, n).reduce((s, p) => s + p[0], 0) / n, ring.slice(0, n).reduce((s, p) => s + p[1], 0) / n];
  }
  return flat[Math.floor(flat.length / 2)];
}

const dist2 = (a, b) => (a[0] - b[0]) ** 2 + ((a[1] - b[1]) * 1.3) ** 2;

async function getJSON(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

// ---------- problem reports ----------

/** The market the test files a report at through the map's form. */
const FILING_MARKET = '椿树市场';
const FILING_CATEGORY = '占道经营·店外经营';
/** A spot well outside the city: filing there is refused (422) and the form shows why. */
const OUTSIDE_CITY = [116.3, 39.75];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (bytes) => {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

/** A small RGB PNG, `w` × `h`, coloured by `pixel(x, y)` → [r, g, b]. */
function makePNG(w, h, pixel) {
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) raw.set(pixel(x, y), y * (w * 3 + 1) + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 64 × 48 test photo: a red awning over a grey pavement. */
const photo = (tint = 0) => makePNG(64, 48, (x, y) => (y < 18 ? [200 - tint, 40 + (x % 8) * 6, 40] : [150 + (y % 6) * 8, 150, 145 + tint]));

async function postJSON(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status}: ${json.detail}`);
  return json;
}

/** Files a report as multipart (report JSON + an optional PNG); the 201 body. */
async function fileReportViaAPI(report, png) {
  const form = new FormData();
  form.append('report', JSON.stringify(report));
  if (png) form.append('photo', new Blob([png], { type: 'image/png' }), 'photo.png');
  const res = await fetch(`${BASE}/api/reports`, { method: 'POST', body: form });
  const json = await res.json();
  if (res.status !== 201) throw new Error(`POST /api/reports: HTTP ${res.status}: ${json.detail}`);
  return json;
}

/**
 * Three reports at three markets (not the one filed through the form): one left reported (with
 * a photo), one assigned with a deadline two seconds ahead (overdue by the time the map looks),
 * one assigned and rectified (with a photo; its history has two entries).
 */
async function seedReports(markets) {
  const spots = markets.filter((m) => m.properties.name !== FILING_MARKET).slice(0, 3);
  if (spots.length < 3) throw new Error('the demo city has fewer than 4 markets');
  const file = async (market, category, reporter, png) => {
    const at = representative(market.geometry);
    const filed = await fileReportViaAPI({
      lon: at[0], lat: at[1], crs: 'wgs84', category, reporter,
      description: `e2e ${category} @ ${market.properties.name}`,
    }, png);
    return { id: filed.id, at, market, category, reporter, filed, status: 'reported', overdue: false };
  };
  const reported = await file(spots[0], 'street_occupation', '测试员甲', photo(0));
  const overdue = await file(spots[1], 'litter', '测试员乙');
  await postJSON(`${BASE}/api/reports/${overdue.id}/transitions`, {
    to: 'assigned', actor: '派单员', note: '限时清理', deadline: new Date(Date.now() + 2000).toISOString(),
  });
  Object.assign(overdue, { status: 'assigned', overdue: true });
  const rectified = await file(spots[2], 'illegal_posters', '测试员丙', photo(60));
  await postJSON(`${BASE}/api/reports/${rectified.id}/transitions`, { to: 'assigned', actor: '派单员', note: '请清除小广告' });
  await postJSON(`${BASE}/api/reports/${rectified.id}/transitions`, { to: 'rectified', actor: '整改人', note: '已清除小广告' });
  rectified.status = 'rectified';
  return { reported, overdue, rectified };
}

/** Waits until the page has applied its problem filters and drawn the answer. */
async function waitProblems(page) {
  await page.waitForFunction(() => {
    const p = window.civmap.problems;
    return p && !document.getElementById('problems').classList.contains('problems--busy');
  }, null, { timeout: 15_000 });
}

/** Ids of the problems a style layer draws in the current view. */
const renderedProblemIds = (page, layerId = 'problems') =>
  page.evaluate((id) => window.civmap.map.queryRenderedFeatures({ layers: [id] }).map((f) => f.properties.id), layerId);

/** Page coordinates of [lon, lat] and what a click there picks. */
const pointOnMap = (page, at) =>
  page.evaluate((coord) => {
    const { map } = window.civmap;
    const p = map.project(coord);
    const rect = map.getCanvas().getBoundingClientRect();
    const hit = window.civmap.pick(p, 5);
    return { x: rect.left + p.x, y: rect.top + p.y, kind: hit && hit.kind, id: hit && hit.feature.properties.id };
  }, at);

// ---------- duty coverage ----------

const COVERAGE_INTERSECTION = '永兴路与光明道交口';
const COVERAGE_UNIT = '安次交警大队';

/** The `how` and `covered` of intersection `id` as rendered on the coverage layer (null: not drawn). */
const renderedCoverage = (page, id) =>
  page.evaluate((wanted) => {
    const { map } = window.civmap;
    if (!map.getLayer('coverage')) return null;
    const f = map.queryRenderedFeatures({ layers: ['coverage'] }).find((x) => x.properties.id === wanted);
    return f ? { how: f.properties.how, covered: f.properties.covered } : null;
  }, id);

/** Waits until the coverage view has drawn its latest answer and the map is idle. */
async function coverageSettled(page) {
  await page.evaluate(async () => {
    const { map, coverage } = window.civmap;
    await coverage.loaded();
    await new Promise((resolve) => {
      const nudge = setInterval(() => map.triggerRepaint(), 500);
      map.once('idle', () => {
        clearInterval(nudge);
        resolve();
      });
      map.triggerRepaint();
    });
  });
}

async function coverageChecks(context) {
  const found = (await getJSON(`${BASE}/api/layers/intersection?q=${encodeURIComponent(COVERAGE_INTERSECTION)}`)).features;
  const target = found.find((f) => f.properties.name === COVERAGE_INTERSECTION);
  if (!check(!!target, `the intersection ${COVERAGE_INTERSECTION} exists`)) return;
  const id = target.properties.id;
  const post = await postJSON(`${BASE}/api/duty-posts`, {
    unit: COVERAGE_UNIT,
    intersections: [id],
    windows: [{ start: '07:00', end: '09:00', days: 'weekdays' }],
    from: '2026-11-01',
    actor: 'map.e2e',
  });
  check(Number.isFinite(Number(post.id)) && post.intersections.includes(id), `duty post #${post.id} holds ${COVERAGE_INTERSECTION} (${id}) 07:00–09:00 on weekdays`);

  const page = await context.newPage();
  watch(page, 'coverage', problems);
  await page.goto(`${BASE}/`, { waitUntil: 'domcontentloaded' });
  await waitReady(page);
  check(!(await page.isVisible('#coverage .coverage__body')) && (await page.evaluate(() => window.civmap.map.getLayoutProperty('coverage', 'visibility'))) === 'none',
    'the coverage view starts off');

  // Turn it on and pick Monday 2026-11-23, morning peak.
  await page.locator('#coverage input[name="coverage"]').check();
  const defaults = await page.evaluate(() => ({
    date: document.querySelector('#coverage input[name="coverage-date"]').value,
    time: document.querySelector('#coverage input[name="coverage-time"]').value,
  }));
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  check(defaults.date === today && defaults.time === '07:30', 'the time picker defaults to today 07:30', JSON.stringify(defaults));
  await page.fill('#coverage input[name="coverage-date"]', '2026-11-23');
  await page.locator('#coverage .coverage__quick button[data-time="17:30"]').click();
  await page.locator('#coverage .coverage__quick button[data-time="07:30"]').click();
  await coverageSettled(page);
  await jumpTo(page, target.geometry.coordinates, 15);
  const held = await renderedCoverage(page, id);
  check(!!held && held.how === 'held' && held.covered === true, `on Monday 2026-11-23 07:30 ${COVERAGE_INTERSECTION} renders as held`, JSON.stringify(held));
  const hash = await page.evaluate(() => window.location.hash);
  check(hash.includes('coverage=2026-11-23T07%3A30') || hash.includes('coverage=2026-11-23T07:30'), 'the coverage view and its time are in the hash', hash);

  // The district ratios in the panel match the API.
  const api = await getJSON(`${BASE}/api/coverage?at=2026-11-23T07:30&format=geojson`);
  const district = api.districts.find((d) => d.district === target.properties.district);
  const row = await page.locator(`#coverage .coverage-districts li[data-district="${target.properties.district}"]`).textContent().catch(() => '');
  const pct = `${Math.round(district.ratio * 1000) / 10}%`;
  check(district.covered >= 1 && row.includes(`${district.covered}/${district.main_intersections}`) && row.includes(pct),
    `the panel shows ${target.properties.district}'s ratio ${district.covered}/${district.main_intersections} (${pct})`, row);
  const legendHeld = await page.textContent('#coverage .coverage-legend li[data-how="held"]');
  check(/有岗/.test(legendHeld) && Number(legendHeld.replace(/\D+/g, '')) >= 1, 'the legend counts the held intersections', legendHeld.trim());
  const bars = await page.locator('#coverage .coverage-day .coverage-day__bar').count();
  check(bars === 24, 'the 24-hour strip has 24 bars', String(bars));

  // Clicking it tells who holds it.
  const px = await page.evaluate((c) => {
    const p = window.civmap.map.project(c);
    const rect = window.civmap.map.getContainer().getBoundingClientRect();
    return { x: rect.left + p.x, y: rect.top + p.y };
  }, target.geometry.coordinates);
  await page.mouse.click(px.x, px.y);
  const popupText = await page.waitForSelector('.coverage-popup', { timeout: 5000 }).then((e) => e.textContent(), () => '');
  check(popupText.includes(COVERAGE_INTERSECTION) && popupText.includes(COVERAGE_UNIT), `clicking it shows it is held by ${COVERAGE_UNIT}`, popupText.replace(/\s+/g, ' ').trim().slice(0, 160));

  await page.mouse.move(VIEWPORT.width - 200, VIEWPORT.height - 150);
  await mkdir(OUT_DIR, { recursive: true });
  const shot = path.join(OUT_DIR, 'map-coverage.png');
  await page.screenshot({ path: shot });
  console.log(`  saved ${path.relative(process.cwd(), shot)}`);

  // At noon nobody holds it.
  await page.fill('#coverage input[name="coverage-time"]', '12:00');
  await page.locator('#coverage input[name="coverage-time"]').dispatchEvent('change');
  await coverageSettled(page);
  const noon = await renderedCoverage(page, id);
  check(!!noon && noon.how === 'gap' && noon.covered === false, `at 12:00 ${COVERAGE_INTERSECTION} renders as a gap`, JSON.stringify(noon));
  const popupNoon = await page.textContent('.coverage-popup').catch(() => '');
  check(popupNoon.includes('缺口'), 'the open popup now says it is a gap', popupNoon.replace(/\s+/g, ' ').trim().slice(0, 120));

  // A reload restores the view from the hash.
  await page.reload({ waitUntil: 'domcontentloaded' });
  await waitReady(page);
  await coverageSettled(page);
  const restored = await page.evaluate(() => ({ ...window.civmap.coverage.state, checked: document.querySelector('#coverage input[name="coverage"]').checked }));
  check(restored.on && restored.checked && restored.at === '2026-11-23T12:00', 'reloading restores the coverage view and its time', JSON.stringify(restored));
  check((await renderedCoverage(page, id))?.how === 'gap', 'after the reload it still renders as a gap');
  await page.close();
}

// ---------- the test ----------

async function main() {
  section(`civmap web map at ${BASE}`);
  let catalogue;
  try {
    catalogue = (await getJSON(`${BASE}/api/layers`)).layers;
  } catch (err) {
    check(false, 'civmap is reachable', `${err.message} — start it with: cargo run --release -- serve --data /tmp/webdev --listen 127.0.0.1:8090 --web web/dist`);
    return;
  }
  const present = catalogue.filter((l) => l.count > 0);
  check(present.length > 0, 'the catalogue has layers with data', `${catalogue.length} kinds`);

  section('problem reports filed through the API');
  const categories = (await getJSON(`${BASE}/api/categories`)).categories;
  const categoryZh = (code) => categories.find((c) => c.code === code)?.name_zh;
  const markets = (await getJSON(`${BASE}/api/layers/market?limit=100000`)).features;
  const seeded = await seedReports(markets);
  const seededList = Object.values(seeded);
  check(
    seededList.every((r) => r.filed.asset && r.filed.asset.id === r.market.properties.id),
    `filed #${seededList.map((r) => r.id).join(', #')} (reported, assigned with a 2 s deadline, rectified), each matched to its market`,
  );

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--use-gl=angle',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, locale: 'zh-CN' });
    const page = await context.newPage();
    watch(page, 'desktop', problems);

    // 1. First load: fitted to the city, every non-empty kind drawn.
    section('first load');
    await page.goto(`${BASE}/`, { waitUntil: 'load' });
    await waitReady(page);
    check(true, 'window.civmap.ready resolved');
    const fitted = await page.evaluate(() => ({
      zoom: window.civmap.map.getZoom(),
      center: window.civmap.map.getCenter().toArray(),
      layers: window.civmap.catalogue.map((l) => l.kind),
    }));
    check(
      JSON.stringify(fitted.layers) === JSON.stringify(catalogue.map((l) => l.kind)),
      'the page uses the catalogue order from /api/layers',
    );
    const legend = await page.$$eval('#layer-list .layer', (rows) =>
      rows.map((r) => ({ kind: r.dataset.kind, text: r.textContent })),
    );
    for (const layer of catalogue) {
      const row = legend.find((r) => r.kind === layer.kind);
      check(
        !!row && row.text.includes(layer.name_zh) && row.text.includes(layer.name_en) &&
          row.text.replace(/\D/g, '').includes(String(layer.count)),
        `legend row for ${layer.kind} shows ${layer.name_zh} / ${layer.name_en} / ${layer.count}`,
      );
    }
    const boxes = present.map((l) => l.bbox).filter((b) => Array.isArray(b) && b.length === 4);
    const all = [0, 1, 2, 3].map((i) => (i < 2 ? Math.min : Math.max)(...boxes.map((b) => b[i])));
    const visibleBounds = await page.evaluate(() => window.civmap.map.getBounds().toArray().flat());
    const inside = fitted.center[0] > all[0] && fitted.center[0] < all[2] && fitted.center[1] > all[1] && fitted.center[1] < all[3];
    // Some layer's whole box is in view (the city extent, not the whole countryside or one street).
    const someBoxInView = boxes.some((b) => b[0] >= visibleBounds[0] && b[1] >= visibleBounds[1] && b[2] <= visibleBounds[2] && b[3] <= visibleBounds[3]);
    check(inside && someBoxInView && fitted.zoom > 8, 'the first view is fitted to the city', `centre ${fitted.center.map((v) => v.toFixed(4))} zoom ${fitted.zoom.toFixed(2)}`);
    for (const layer of present) {
      const n = await renderedCount(page, layer.kind);
      check(n >= 1, `layer ${layer.kind} renders at the fitted view`, `${n} features at zoom ${fitted.zoom.toFixed(2)}`);
    }

    // 2. Close-up: every kind renders near its own feature closest to the centre at zoom 14.
    section('zoom 14 close-ups');
    const samples = {};
    for (const layer of present) {
      const fc = await getJSON(`${BASE}/api/layers/${encodeURIComponent(layer.kind)}?limit=100000`);
      const best = fc.features
        .map((f) => ({ f, at: representative(f.geometry) }))
        .sort((a, b) => dist2(a.at, CITY_CENTRE) - dist2(b.at, CITY_CENTRE))[0];
      samples[layer.kind] = { features: fc.features, at: best.at };
      await jumpTo(page, best.at, 14);
      const n = await renderedCount(page, layer.kind);
      check(n >= 1, `layer ${layer.kind} renders at zoom 14`, `${n} features near ${best.at.map((v) => v.toFixed(4))}`);
    }

    // 3. Clicking a road opens a popup with its Chinese name.
    section('road popup');
    const roadLayer = present.find((l) => l.kind === 'road') || present.find((l) => l.geometry_type === 'LineString');
    if (check(!!roadLayer, 'there is a road layer to click')) {
      const roads = samples[roadLayer.kind].features
        .filter((f) => f.properties.class === 'main' || !('class' in f.properties))
        .concat(samples[roadLayer.kind].features);
      let clicked = null;
      for (const road of roads.slice(0, 12)) {
        // Candidate points along the road: fractions of each segment, nearest the centre first.
        const lines = road.geometry.type === 'LineString' ? [road.geometry.coordinates] : road.geometry.coordinates;
        const candidates = [];
        for (const line of lines) {
          for (let i = 0; i + 1 < line.length; i += 1) {
            for (const t of [0.5, 0.3, 0.7]) {
              candidates.push([line[i][0] + (line[i + 1][0] - line[i][0]) * t, line[i][1] + (line[i + 1][1] - line[i][1]) * t]);
            }
          }
        }
        candidates.sort((a, b) => dist2(a, CITY_CENTRE) - dist2(b, CITY_CENTRE));
        for (const at of candidates.slice(0, 10)) {
          await jumpTo(page, at, 16);
          // Click only where the road itself is the top-most clickable feature.
          const target = await page.evaluate(
            ([coord, kind]) => {
              const { map } = window.civmap;
              const p = map.project(coord);
              const hit = window.civmap.pick(p, 5);
              const rect = map.getCanvas().getBoundingClientRect();
              return hit && hit.kind === kind ? { x: rect.left + p.x, y: rect.top + p.y, id: hit.feature.properties.id } : null;
            },
            [at, roadLayer.kind],
          );
          if (target && target.id === road.properties.id) {
            clicked = { road, target };
            break;
          }
        }
        if (clicked) break;
      }
      if (check(!!clicked, 'found a spot where a road is the top-most feature')) {
        await page.mouse.click(clicked.target.x, clicked.target.y);
        const popup = await page.waitForSelector('.maplibregl-popup', { timeout: 5000 }).catch(() => null);
        const text = popup ? await popup.textContent() : '';
        check(!!popup && text.includes(clicked.road.properties.name), `clicking the road opens a popup naming ${clicked.road.properties.name}`, text.slice(0, 120));
        for (const [what, value] of [['district', clicked.road.properties.district], ['unit', clicked.road.properties.unit], ['id', clicked.road.properties.id]]) {
          if (value) check(text.includes(value), `the popup shows the road's ${what} (${value})`);
        }
        check(text.includes(roadLayer.name_zh), `the popup shows the kind ${roadLayer.name_zh}`);
        await page.keyboard.press('Escape');
        await page.evaluate(() => document.querySelector('.maplibregl-popup-close-button')?.click());
      }
    }

    // 4. The hash follows the view and a reload restores it (view and visible layers).
    section('URL hash');
    await jumpTo(page, CITY_CENTRE, 13);
    const before = await page.evaluate(() => window.location.hash);
    check(/^#map=13\.00\//.test(before), 'the hash holds the view', before);
    const box = await page.locator('#map canvas').boundingBox();
    const sx = box.x + box.width * 0.6;
    const sy = box.y + box.height * 0.55;
    await page.mouse.move(sx, sy);
    await page.mouse.down();
    for (let i = 1; i <= 10; i += 1) await page.mouse.move(sx - 18 * i, sy - 9 * i);
    await page.mouse.up();
    await page.waitForFunction((h) => window.location.hash !== h, before, { timeout: 5000 }).catch(() => {});
    const panned = await page.evaluate(() => window.location.hash);
    check(panned !== before, 'the hash changes after a pan', `${before} → ${panned}`);
    const hideKind = [...present].reverse().find((l) => l.geometry_type === 'Point')?.kind || present[present.length - 1].kind;
    await page.locator(`#layer-list .layer[data-kind="${hideKind}"] input`).uncheck();
    const toggled = await page.evaluate(() => window.location.hash);
    check(!toggled.split('layers=')[1]?.split(',').includes(hideKind), `hiding ${hideKind} removes it from the hash`, toggled);
    const viewBefore = await page.evaluate(() => ({ c: window.civmap.map.getCenter().toArray(), z: window.civmap.map.getZoom() }));
    await page.reload({ waitUntil: 'load' });
    await waitReady(page);
    const restored = await page.evaluate((kind) => ({
      hash: window.location.hash,
      c: window.civmap.map.getCenter().toArray(),
      z: window.civmap.map.getZoom(),
      visible: window.civmap.map.getLayoutProperty(kind, 'visibility'),
      checked: document.querySelector(`#layer-list .layer[data-kind="${kind}"] input`).checked,
    }), hideKind);
    check(
      Math.abs(restored.c[0] - viewBefore.c[0]) < 1e-4 && Math.abs(restored.c[1] - viewBefore.c[1]) < 1e-4 && Math.abs(restored.z - viewBefore.z) < 0.01,
      'reloading restores centre and zoom from the hash',
      `${JSON.stringify(viewBefore)} → ${JSON.stringify({ c: restored.c, z: restored.z })}`,
    );
    check(restored.visible === 'none' && restored.checked === false, `reloading keeps ${hideKind} hidden`);
    await page.locator(`#layer-list .layer[data-kind="${hideKind}"] input`).check();
    check((await renderedCount(page, hideKind)) >= 0 && (await page.evaluate((k) => window.civmap.map.getLayoutProperty(k, 'visibility'), hideKind)) === 'visible', `showing ${hideKind} again works`);

    // 5. Screenshot at zoom 13 over the city centre, all layers on, with road names.
    section('screenshot');
    await jumpTo(page, CITY_CENTRE, 13);
    const labels = await page.evaluate((kind) => {
      const { map } = window.civmap;
      const id = `${kind}--label`;
      if (!map.getLayer(id)) return [];
      return map.queryRenderedFeatures({ layers: [id] }).map((f) => f.properties._label);
    }, roadLayer ? roadLayer.kind : 'road');
    check(labels.length >= 3, 'road names are drawn at zoom 13', `${labels.length} labels: ${[...new Set(labels)].slice(0, 8).join(' ')}`);
    const asciiLabels = await page.evaluate(() =>
      [...window.civmap.features.values()]
        .map((f) => f.properties._label)
        .filter((t) => typeof t === 'string' && /[\u0000-\u007f]/.test(t)),
    );
    check(
      labels.length > 0 && asciiLabels.length === 0,
      'no map label contains ASCII (labels draw from the local CJK font)',
      asciiLabels.slice(0, 5).join(' | '),
    );
    for (const layer of present) {
      const n = await renderedCount(page, layer.kind);
      check(n >= 1, `layer ${layer.kind} is in the zoom-13 screenshot`, `${n} features`);
    }
    await page.mouse.move(VIEWPORT.width - 200, VIEWPORT.height - 150); // no hover highlight in the panel
    await mkdir(OUT_DIR, { recursive: true });
    const shot = path.join(OUT_DIR, 'map-z13.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`  saved ${path.relative(process.cwd(), shot)}`);

    // 6. The problems layer: the filed reports, coloured by status, overdue ringed, clustered.
    section('problems layer');
    const loadedIds = await page.evaluate(() => window.civmap.problems.collection.features.map((f) => f.properties.id));
    check(seededList.every((r) => loadedIds.includes(r.id)), 'the problems layer holds the reports filed through the API', `${loadedIds.length} problems loaded`);
    for (const r of seededList) {
      await jumpTo(page, r.at, 15.5);
      const drawn = await page.evaluate((id) =>
        window.civmap.map.queryRenderedFeatures({ layers: ['problems'] }).filter((f) => f.properties.id === id).map((f) => f.properties.status), r.id);
      check(drawn.includes(r.status), `problem #${r.id} is drawn as ${r.status} at zoom 15.5`, `drawn: ${drawn.join(',') || 'nothing'}`);
      const ringed = (await renderedProblemIds(page, 'problems--overdue')).includes(r.id);
      check(ringed === r.overdue, `problem #${r.id} ${r.overdue ? 'is' : 'is not'} ringed as overdue`);
    }
    await jumpTo(page, CITY_CENTRE, 10.5);
    const clusters = await page.evaluate(() => {
      const { map } = window.civmap;
      const seen = new Map();
      for (const f of map.queryRenderedFeatures({ layers: ['problems--clusters'] })) seen.set(`c${f.properties.cluster_id}`, f.properties.point_count);
      for (const f of map.queryRenderedFeatures({ layers: ['problems'] })) seen.set(`p${f.properties.id}`, 1);
      return {
        clusters: [...seen.keys()].filter((k) => k.startsWith('c')).length,
        points: [...seen.values()].reduce((a, b) => a + b, 0),
        total: window.civmap.problems.collection.features.length,
      };
    });
    check(clusters.clusters >= 1 && clusters.points === clusters.total, 'at zoom 10.5 the problems are clustered and the clusters count them all', JSON.stringify(clusters));
    const stats = await getJSON(`${BASE}/api/stats`);
    const summary = await page.$$eval('#problems [data-stat]', (nodes) => Object.fromEntries(nodes.map((n) => [n.dataset.stat, n.textContent.replace(/\D/g, '')])));
    check(
      summary.total === String(stats.total) && summary.open === String(stats.open) && summary.overdue === String(stats.overdue) && stats.overdue >= 1,
      'the panel summarises /api/stats (total, open, overdue)',
      `${JSON.stringify(summary)} vs total ${stats.total} open ${stats.open} overdue ${stats.overdue}`,
    );
    await page.locator('#problems input[name="heat"]').check();
    const heat = await page.evaluate(() => ({
      heat: window.civmap.map.getLayoutProperty('problems--heat', 'visibility'),
      clusters: window.civmap.map.getLayoutProperty('problems--clusters', 'visibility'),
      hash: window.location.hash,
    }));
    check(heat.heat === 'visible' && heat.clusters === 'none' && heat.hash.includes('heat=1'), 'the heat-map toggle swaps clusters for a heat map (and is kept in the hash)', JSON.stringify(heat));
    await page.locator('#problems input[name="heat"]').uncheck();

    // 7. Filters: a status filter refetches, changes what is drawn, survives a reload.
    section('problem filters');
    await page.selectOption('#problems select[name="status"]', 'assigned');
    await waitProblems(page);
    const onlyAssigned = await page.evaluate(() => [...new Set(window.civmap.problems.collection.features.map((f) => f.properties.status))]);
    check(onlyAssigned.length === 1 && onlyAssigned[0] === 'assigned', 'status 已交办 loads assigned problems only', onlyAssigned.join(','));
    await jumpTo(page, seeded.reported.at, 15.5);
    check(!(await renderedProblemIds(page)).includes(seeded.reported.id), `the reported problem #${seeded.reported.id} is no longer drawn`);
    await jumpTo(page, seeded.overdue.at, 15.5);
    check((await renderedProblemIds(page)).includes(seeded.overdue.id), `the assigned problem #${seeded.overdue.id} is still drawn`);
    const filteredHash = await page.evaluate(() => window.location.hash);
    check(filteredHash.includes('status=assigned'), 'the status filter is in the hash', filteredHash);
    await page.reload({ waitUntil: 'load' });
    await waitReady(page);
    const afterReload = await page.evaluate(() => ({
      select: document.querySelector('#problems select[name="status"]').value,
      statuses: [...new Set(window.civmap.problems.collection.features.map((f) => f.properties.status))],
    }));
    check(afterReload.select === 'assigned' && afterReload.statuses.join() === 'assigned', 'reloading keeps the status filter', JSON.stringify(afterReload));
    check((await renderedProblemIds(page)).includes(seeded.overdue.id), `after the reload #${seeded.overdue.id} is drawn`);
    await page.fill('#problems input[name="to"]', '2001-01-01');
    await page.locator('#problems input[name="to"]').dispatchEvent('change');
    await waitProblems(page);
    const past = await page.evaluate(() => ({ n: window.civmap.problems.collection.features.length, shown: document.querySelector('#problems [data-stat="shown"]').textContent }));
    check(past.n === 0 && past.shown === '0', 'a date range in the past shows no problems', JSON.stringify(past));
    await page.click('#problems button[type="reset"]');
    await page.waitForFunction(() => window.civmap.problems.filters.status === '' && window.civmap.problems.filters.to === '');
    await waitProblems(page);
    const cleared = await page.evaluate(() => ({ ids: window.civmap.problems.collection.features.map((f) => f.properties.id), hash: window.location.hash }));
    check(seededList.every((r) => cleared.ids.includes(r.id)) && !/status=|to=/.test(cleared.hash), 'clearing the filters shows every problem again', cleared.hash);

    // 8. Clicking a problem opens its detail: category, status, asset, unit, photos, history.
    section('problem detail');
    const rect = seeded.rectified;
    await jumpTo(page, rect.at, 16);
    const spot = await pointOnMap(page, rect.at);
    if (check(spot.kind === 'problem' && spot.id === rect.id, `problem #${rect.id} is the top-most feature at its spot`, JSON.stringify(spot))) {
      await page.mouse.click(spot.x, spot.y);
      const opened = await page.waitForSelector(`#sheet .problem[data-id="${rect.id}"]`, { timeout: 8000 }).catch(() => null);
      const text = opened ? await page.textContent('#sheet') : '';
      check(!!opened, `clicking problem #${rect.id} opens its detail`);
      const m = rect.market.properties;
      for (const [what, value] of [
        ['category', categoryZh(rect.category)], ['status', '已整改'], ['asset', m.name], ['unit', m.unit],
        ['district', rect.filed.district], ['reporter', rect.reporter],
      ]) {
        check(!!value && text.includes(value), `the detail shows the ${what} (${value})`);
      }
      const history = await page.$$eval('#sheet .history__item', (items) => items.map((i) => i.textContent.replace(/\s+/g, ' ').trim()));
      check(
        history.length === 3 && history[1].includes('派单员') && history[1].includes('请清除小广告') && history[2].includes('整改人') && history[2].includes('已清除小广告'),
        'the detail lists the history: filed, assigned (who, note), rectified (who, note)',
        history.join(' | '),
      );
      const photoLoaded = await page
        .waitForFunction(() => [...document.querySelectorAll('#sheet .thumbs img')].some((i) => i.complete && i.naturalWidth > 0 && i.src.includes('/api/photos/')), null, { timeout: 5000 })
        .then(() => true, () => false);
      check(photoLoaded, 'the detail shows the photo from /api/photos/{hash}');
      check((await page.evaluate(() => window.location.hash)).includes(`problem=${rect.id}`), 'the open problem is in the hash');
      await page.click('#sheet .sheet__close');
      check(!(await page.isVisible('#sheet')), 'the detail closes');
    }

    // 9. Filing through the map: spot, category, description, reporter, photo; the match is
    // shown before submitting; the new problem appears with the server's match.
    section('filing a report through the map');
    const market = (await getJSON(`${BASE}/api/layers/market?q=${encodeURIComponent(FILING_MARKET)}`)).features
      .find((f) => f.properties.name === FILING_MARKET);
    if (check(!!market, `the demo city has ${FILING_MARKET}`)) {
      const marketAt = representative(market.geometry);
      await page.click('#file-report');
      check(await page.isVisible('#sheet[data-view="filing"] #filing form'), 'the 上报问题 button opens the filing form');

      // A spot outside the city: no asset in reach, and the server's refusal is shown.
      await jumpTo(page, OUTSIDE_CITY, 14);
      const outside = await pointOnMap(page, OUTSIDE_CITY);
      await page.mouse.click(outside.x, outside.y);
      await page.selectOption('#filing select[name="category"]', { label: FILING_CATEGORY });
      const none = await page.waitForSelector('#filing .filing__match--none', { timeout: 8000 }).catch(() => null);
      check(!!none && (await none.textContent()).includes('未匹配'), 'far from every asset the form says 未匹配 before submitting');
      await page.fill('#filing input[name="reporter"]', '巡查员小李');
      provoked.push({ status: 422, method: 'POST', path: '/api/reports' });
      const [refused] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/reports'),
        page.click('#filing button[type="submit"]'),
      ]);
      const problem = await refused.json();
      const errorBox = await page.waitForSelector('#filing [data-role="error"]:not([hidden])', { timeout: 5000 }).catch(() => null);
      const errorText = errorBox ? await errorBox.textContent() : '';
      check(refused.status() === 422 && !!problem.detail && errorText.includes(problem.detail), 'a refused report shows the server\'s problem detail', errorText);

      // The market.
      await jumpTo(page, marketAt, 17);
      const at = await pointOnMap(page, marketAt);
      await page.mouse.click(at.x, at.y);
      await page.selectOption('#filing select[name="category"]', { label: FILING_CATEGORY });
      await page.fill('#filing textarea[name="description"]', '市场门口店外摆摊，占用人行道');
      await page.fill('#filing input[name="reporter"]', '巡查员小李');
      await page.setInputFiles('#filing input[name="photo"]', { name: 'awning.png', mimeType: 'image/png', buffer: photo(30) });
      const hit = await page.waitForSelector('#filing .filing__match--hit', { timeout: 8000 }).catch(() => null);
      const preview = hit ? await hit.textContent() : '';
      check(
        preview.includes(FILING_MARKET) && preview.includes(market.properties.unit),
        `before submitting, the form shows the asset it will match (${FILING_MARKET}) and its unit (${market.properties.unit})`,
        preview.replace(/\s+/g, ' ').trim(),
      );
      check(await page.isVisible('#filing [data-role="thumbs"] img'), 'the chosen photo is previewed');
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/reports'),
        page.click('#filing button[type="submit"]'),
      ]);
      const filed = await response.json();
      check(response.status() === 201 && filed.asset && filed.asset.id === market.properties.id, `the report is filed (201) and matched to ${FILING_MARKET}`, `HTTP ${response.status()} ${JSON.stringify(filed.asset)}`);
      const result = await page.waitForSelector(`#filing .filing-result[data-id="${filed.id}"]:not([hidden])`, { timeout: 8000 }).catch(() => null);
      const resultText = result ? (await result.textContent()).replace(/\s+/g, ' ') : '';
      check(
        resultText.includes(`#${filed.id}`) && resultText.includes(FILING_MARKET) && resultText.includes(filed.unit) && resultText.includes(filed.district),
        'the form shows the server\'s match: id, asset, unit, district',
        resultText.slice(0, 160),
      );
      const dupes = filed.possible_duplicates || [];
      check(dupes.every((d) => resultText.includes(`#${d.id}`)), `the form lists the possible duplicates (${dupes.length})`);
      const stored = (await getJSON(`${BASE}/api/reports/${filed.id}`)).properties;
      check(
        stored.photos.length === 1 && stored.reporter === '巡查员小李' && stored.category === 'street_occupation' && stored.description.includes('占用人行道'),
        'the server holds the report with its photo, reporter, category and description',
      );
      await page.waitForFunction((id) => window.civmap.problems.collection.features.some((f) => f.properties.id === id), filed.id, { timeout: 8000 }).catch(() => {});
      await jumpTo(page, marketAt, 15.5);
      check((await renderedProblemIds(page)).includes(filed.id), `the new problem #${filed.id} appears on the map`);
      await page.mouse.move(VIEWPORT.width / 2, VIEWPORT.height - 60);
      const problemsShot = path.join(OUT_DIR, 'map-problems.png');
      await page.screenshot({ path: problemsShot });
      console.log(`  saved ${path.relative(process.cwd(), problemsShot)}`);
      await page.click(`#filing .filing-result button[data-problem="${filed.id}"]`);
      const detail = await page.waitForSelector(`#sheet .problem[data-id="${filed.id}"]`, { timeout: 8000 }).catch(() => null);
      check(!!detail && (await detail.textContent()).includes(FILING_MARKET), '查看详情 opens the new problem\'s detail');
      await page.click('#sheet .sheet__close');
    }
    check(provoked.every((p) => p.seen), 'the provoked 422 was answered as expected');

    // 10. Duty coverage (路口覆盖): a post holding one main intersection on weekday mornings.
    section('duty coverage');
    await coverageChecks(context);
    await context.close();

    // 11. Phone: the panel starts collapsed and opens; filing works as a bottom sheet.
    section('phone');
    // The phone stands at the filing market's centre (for 使用我的位置).
    const filingMarket = markets.find((m) => m.properties.name === FILING_MARKET);
    const standAt = filingMarket ? representative(filingMarket.geometry) : CITY_CENTRE;
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN',
      geolocation: { longitude: standAt[0], latitude: standAt[1], accuracy: 10 }, permissions: ['geolocation'],
    });
    const mobile = await phone.newPage();
    watch(mobile, 'phone', problems);
    await mobile.goto(`${BASE}/`, { waitUntil: 'load' });
    await waitReady(mobile);
    check(!(await mobile.isVisible('#panel')), 'on a phone the layer panel starts collapsed');
    await mobile.tap('#panel-open');
    check(await mobile.isVisible('#layer-list'), 'tapping 图层 opens the layer panel');
    await mobile.screenshot({ path: path.join(OUT_DIR, 'map-phone.png') });
    await mobile.tap('#panel-close');
    check(!(await mobile.isVisible('#panel')), 'the panel collapses again');
    await mobile.tap('#file-report');
    const sheetBox = await mobile.locator('#sheet').boundingBox();
    check(!!sheetBox && Math.abs(sheetBox.width - 390) < 1 && Math.abs(sheetBox.y + sheetBox.height - 844) < 2 && sheetBox.height < 844 * 0.6,
      'on a phone the filing form is a bottom sheet under the map', JSON.stringify(sheetBox));
    await mobile.tap('#map', { position: { x: 195, y: 200 } });
    const coords = await mobile.textContent('#filing [data-role="coords"]');
    check(/\d+\.\d{6}, \d+\.\d{6}/.test(coords), 'tapping the map above the sheet sets the spot', coords);
    await mobile.tap('#filing [data-role="locate"]');
    const located = await mobile
      .waitForFunction(([lon, lat]) => {
        const [y, x] = document.querySelector('#filing [data-role="coords"]').textContent.split(',').map(Number);
        return Math.abs(y - lat) < 1e-5 && Math.abs(x - lon) < 1e-5;
      }, standAt, { timeout: 10_000 })
      .then(() => true, () => false);
    check(located, '使用我的位置 takes the spot from the device position (geolocate control)', await mobile.textContent('#filing [data-role="coords"]'));
    await mobile.selectOption('#filing select[name="category"]', { label: FILING_CATEGORY });
    const phonePreview = await mobile.waitForSelector('#filing .filing__match--hit', { timeout: 8000 }).then((e) => e.textContent(), () => '');
    check(phonePreview.includes(FILING_MARKET), `there the form previews ${FILING_MARKET}`, phonePreview.replace(/\s+/g, ' ').trim());
    // The map pans the pin out from under the sheet (after the geolocate control's own move).
    const pinAbove = () =>
      document.querySelector('.maplibregl-marker').getBoundingClientRect().bottom <= document.getElementById('sheet').getBoundingClientRect().top;
    await mobile.waitForFunction(pinAbove, null, { timeout: 5000 }).catch(() => {});
    const pin = await mobile.evaluate(() => ({
      pinBottom: document.querySelector('.maplibregl-marker').getBoundingClientRect().bottom,
      sheetTop: document.getElementById('sheet').getBoundingClientRect().top,
    }));
    check(pin.pinBottom <= pin.sheetTop, 'the pin is shown above the bottom sheet', JSON.stringify(pin));
    await mobile.tap('#sheet .sheet__close');
    check(!(await mobile.isVisible('#sheet')) && (await mobile.isVisible('#file-report')), 'closing the sheet leaves filing mode');
    await phone.close();
  } finally {
    await browser.close();
  }

  section('console and network');
  check(problems.length === 0, 'no console errors and no failed requests', `\n    ${problems.join('\n    ')}`);
  check(glyphRequests.length === 0, 'no glyph PBF was needed (all labels local CJK)', glyphRequests.slice(0, 3).join(' '));
}

const timer = setTimeout(() => {
  console.error('map.e2e: timed out after 480 s');
  process.exit(2);
}, 480_000);
timer.unref();

main()
  .catch((err) => {
    failures.push(`unexpected error: ${err.stack || err}`);
    console.log(`  FAIL ${err.stack || err}`);
  })
  .finally(() => {
    if (problems.length && !failures.some((f) => f.startsWith('no console errors'))) {
      console.log(`\nbrowser problems seen before the failure:\n    ${problems.join('\n    ')}`);
    }
    console.log(`\n${passed} checks passed, ${failures.length} failed`);
    if (failures.length) {
      for (const f of failures) console.log(`  - ${f.split('\n')[0]}`);
      process.exitCode = 1;
    }
  });
