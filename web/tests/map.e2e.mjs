// End-to-end test of the web map in a real browser (Debian's Chromium through playwright-core,
// WebGL by SwiftShader). Needs a running civmap serving the built map:
//
//   cargo run --release -- serve --data /tmp/webdev --listen 127.0.0.1:8090 --web web/dist
//   cd web && npm test                     # CIVMAP_URL=http://127.0.0.1:8090 by default
//
// Env: CIVMAP_URL (base URL), CHROMIUM (browser binary, default /usr/bin/chromium),
// CIVMAP_TEST_OUTPUT (screenshot directory, default <repo>/test-output).
// Exits non-zero when any check fails.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
    if (msg.type() === 'error') problems.push(`[${label}] console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`[${label}] page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    problems.push(`[${label}] request failed: ${req.method()} ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on('request', (req) => {
    if (new URL(req.url()).pathname.startsWith('/glyphs/')) glyphRequests.push(req.url());
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`[${label}] HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
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
    await context.close();

    // 6. Phone: the panel starts collapsed and opens.
    section('phone');
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' });
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
    await phone.close();
  } finally {
    await browser.close();
  }

  section('console and network');
  check(problems.length === 0, 'no console errors and no failed requests', `\n    ${problems.join('\n    ')}`);
  check(glyphRequests.length === 0, 'no glyph PBF was needed (all labels local CJK)', glyphRequests.slice(0, 3).join(' '));
}

const timer = setTimeout(() => {
  console.error('map.e2e: timed out after 300 s');
  process.exit(2);
}, 300_000);
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
