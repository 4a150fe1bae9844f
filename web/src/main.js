// civmap web map: civmap's own layers as the base map (no internet needed), a layer panel with
// legend, feature popups, the problems layer with its filters, detail and filing
// (problems-view.js) and the view in the URL hash.
//
// window.civmap = {map, ready, catalogue, problems, ...}; `ready` resolves once every layer and
// the problems are loaded and the map is idle (the browser test waits on it) and rejects if the
// map could not be built.

import 'maplibre-gl/dist/maplibre-gl.css';
import './map.css';
import maplibregl from 'maplibre-gl';

import { fetchCatalogue, fetchLayer } from './api.js';
import { CITY_NAME, LOCAL_IDEOGRAPH_FONT, rasterBasemap } from './config.js';
import { geometryGroup, labelPoint } from './geometry.js';
import { parseHash, syncHash } from './hash.js';
import * as hooks from './hooks.js';
import { mapLabel } from './labels.js';
import { renderLayerList, revealPanel, setupPanelToggle, showStatus } from './panel.js';
import { popupHTML } from './popup.js';
import { pickProblem } from './problems.js';
import { setupCoverage } from './coverage-view.js';
import { setupProblems } from './problems-view.js';
import {
  KIND_METADATA,
  LABEL_PROPERTY,
  buildStyle,
  cityExtent,
  interactiveLayerIds,
  isFallbackKind,
  labelPointSource,
  layerIdsFor,
} from './style.js';

const SELECTION = 'civmap-selection';
const EMPTY = { type: 'FeatureCollection', features: [] };

const civmap = {
  /** The maplibregl.Map, set as soon as the catalogue has arrived. */
  map: null,
  /** Resolves when all layers are loaded and the map is idle. */
  ready: null,
  /** The layer catalogue from GET /api/layers, in catalogue order. */
  catalogue: [],
  /** Loaded features by `${kind}/${id}` (full properties as served). */
  features: new Map(),
  /** Style layer ids a click can pick. */
  interactiveLayers: [],
  /** Style layer ids drawing one kind. */
  layerIdsFor: (kind) => (civmap.map ? layerIdsFor(civmap.map, kind) : []),
  /** Hooks for coming features (routes, duty coverage); see hooks.js. */
  hooks,
  /** Problems: filters, the drawn collection, openProblem(id), filing… (problems-view.js). */
  problems: null,
  /** Duty coverage of the main intersections (coverage-view.js). */
  coverage: null,
};
window.civmap = civmap;

const featureKey = (kind, id) => `${kind}/${id}`;

/**
 * Resolves on the map's next `idle`. MapLibre schedules no new frame when a raster tile answers
 * 404 (a base map with holes), so `idle` could wait forever: nudge a repaint until it comes.
 */
const idle = (map) =>
  new Promise((resolve) => {
    const nudge = setInterval(() => map.triggerRepaint(), 500);
    map.once('idle', () => {
      clearInterval(nudge);
      resolve();
    });
    map.triggerRepaint();
  });

/**
 * Resolves once the style is loaded (sources can take data); rejects on a style error before
 * that (e.g. an invalid style). Source and tile errors (e.g. an unreachable raster base map) are
 * reported by the map's error handler, not fatal. `style.load` is used rather than `load`: a
 * base map answering 404 for every tile never lets `load` fire.
 */
const styleLoaded = (map) =>
  new Promise((resolve, reject) => {
    const fail = (e) => {
      if (e && (e.sourceId || e.tile)) return;
      done();
      reject((e && e.error) || new Error(String(e)));
    };
    const ok = () => {
      done();
      resolve();
    };
    const done = () => {
      map.off('error', fail);
      map.off('style.load', ok);
      map.off('load', ok);
    };
    map.on('error', fail);
    map.on('style.load', ok);
    map.on('load', ok);
  });

civmap.ready = start();
civmap.ready.catch((err) => {
  console.error('civmap: the map could not be loaded:', err);
  showStatus(`地图加载失败 Map failed to load: ${err.message}`, 'error');
  document.querySelector('.layer-list__placeholder')?.remove();
  revealPanel();
});

async function start() {
  document.getElementById('city-name').textContent = CITY_NAME;
  // The panel first: on a phone it must be collapsed before anything else shows.
  const panelEl = document.getElementById('panel');
  const panel = setupPanelToggle(
    panelEl,
    document.getElementById('panel-open'),
    document.getElementById('panel-close'),
  );
  const catalogue = await fetchCatalogue();
  civmap.catalogue = catalogue;
  const layerOf = new Map(catalogue.map((l) => [l.kind, l]));

  const hashState = parseHash();
  const visible = new Set(
    hashState.layers ? hashState.layers.filter((k) => layerOf.has(k)) : catalogue.map((l) => l.kind),
  );

  // Ask for every non-empty layer now, while the map starts up.
  const loads = catalogue.map((layer) =>
    layer.count > 0 ? fetchLayer(layer.kind) : Promise.resolve({ ...EMPTY, numberMatched: 0 }),
  );

  const fitPadding = () => {
    const pad = panel.isNarrow() ? 16 : 32;
    const left = panel.isOpen() && !panel.isNarrow() ? panelEl.getBoundingClientRect().right + pad : pad;
    return { top: pad, bottom: pad, right: pad + (panel.isNarrow() ? 0 : 40), left };
  };
  const extent = cityExtent(catalogue);

  const style = buildStyle(catalogue, { basemap: rasterBasemap() });
  for (const layer of style.layers) {
    const kind = layer.metadata && layer.metadata[KIND_METADATA];
    if (kind && !visible.has(kind)) layer.layout = { ...layer.layout, visibility: 'none' };
  }

  let initialView;
  if (hashState.view) initialView = { center: hashState.view.center, zoom: hashState.view.zoom };
  else if (extent) initialView = { bounds: extent, fitBoundsOptions: { padding: fitPadding() } };
  else initialView = { center: [105, 35], zoom: 3 };

  const map = new maplibregl.Map({
    container: 'map',
    style,
    ...initialView,
    localIdeographFontFamily: LOCAL_IDEOGRAPH_FONT,
    attributionControl: false,
    maxZoom: 19,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
  });
  civmap.map = map;
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  const geolocate = new maplibregl.GeolocateControl({ trackUserLocation: false, showAccuracyCircle: true });
  map.addControl(geolocate, 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-right');
  map.addControl(new maplibregl.AttributionControl({ compact: true, customAttribution: 'civmap' }), 'bottom-right');
  let basemapWarned = false;
  map.on('error', (e) => {
    const message = (e && e.error && e.error.message) || String(e);
    if (e && e.sourceId === 'basemap') {
      // The optional external base map is unreachable (e.g. no internet): say so once.
      if (!basemapWarned) console.warn('civmap: the raster base map is unavailable:', message);
      basemapWarned = true;
      showStatus('外部底图无法加载，仅显示本地图层。External base map unavailable.', 'info');
      return;
    }
    console.error('civmap: map error:', message);
    showStatus(`地图错误 Map error: ${message}`, 'error');
  });

  await styleLoaded(map);
  addSelectionLayers(map);

  // Load the layers; a failing layer is reported but does not hide the others.
  const settled = await Promise.allSettled(loads);
  const failures = [];
  let total = 0;
  settled.forEach((result, i) => {
    const layer = catalogue[i];
    if (result.status === 'rejected') {
      failures.push(`${layer.name_zh} ${layer.kind}: ${result.reason.message}`);
      return;
    }
    const collection = result.value;
    total += collection.features.length;
    for (const f of collection.features) {
      f.properties = f.properties || {};
      f.properties[LABEL_PROPERTY] = mapLabel(f.properties.name);
      civmap.features.set(featureKey(layer.kind, f.properties.id ?? f.id), f);
    }
    map.getSource(layer.kind).setData(collection);
    if (geometryGroup(layer.geometry_type) === 'Polygon') {
      map.getSource(labelPointSource(layer.kind)).setData(labelPoints(collection, extent));
    }
  });
  document.getElementById('feature-total').textContent = total.toLocaleString('zh-CN');

  // Layer panel and visibility.
  civmap.interactiveLayers = interactiveLayerIds(catalogue);
  const setKindVisible = (kind, on) => {
    if (on) visible.add(kind);
    else visible.delete(kind);
    for (const id of layerIdsFor(map, kind)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
    if (!on && popup.isOpen() && popupKind === kind) popup.remove();
    list.sync();
    updateHash();
  };
  civmap.setLayerVisible = setKindVisible;
  civmap.isLayerVisible = (kind) => visible.has(kind);
  const list = renderLayerList(document.getElementById('layer-list'), catalogue, {
    isVisible: (kind) => visible.has(kind),
    onToggle: setKindVisible,
  });

  // View state in the URL hash.
  const updateHash = syncHash(
    () => ({
      zoom: map.getZoom(),
      center: map.getCenter().toArray(),
      visibleKinds: catalogue.map((l) => l.kind).filter((k) => visible.has(k)),
      // The problem filters; until they are set up, those the page was opened with.
      params: [
        ...(civmap.problems ? civmap.problems.hashParams() : [...hashState.params].filter(([k]) => k !== 'coverage')),
        ...(civmap.coverage ? civmap.coverage.hashParams() : [...hashState.params].filter(([k]) => k === 'coverage')),
      ],
    }),
    (state) => {
      if (state.view) map.jumpTo({ center: state.view.center, zoom: state.view.zoom });
      const wanted = state.layers ? new Set(state.layers) : new Set(catalogue.map((l) => l.kind));
      for (const l of catalogue) if (wanted.has(l.kind) !== visible.has(l.kind)) setKindVisible(l.kind, wanted.has(l.kind));
      if (civmap.problems) civmap.problems.applyHash(state.params);
      if (civmap.coverage) civmap.coverage.applyHash(state.params);
    },
  );
  map.on('moveend', updateHash);

  civmap.fitCity = () => {
    if (extent) map.fitBounds(extent, { padding: fitPadding(), duration: 600 });
  };
  document.getElementById('fit-city').addEventListener('click', civmap.fitCity);

  // Clicks → popup.
  const popup = new maplibregl.Popup({ maxWidth: '340px', className: 'civmap-popup', focusAfterOpen: false });
  let popupKind = null;
  popup.on('close', () => {
    popupKind = null;
    map.getSource(SELECTION).setData(EMPTY);
  });
  civmap.pick = (point, radius = 5) => pickFeature(map, point, radius);
  map.on('click', (e) => {
    if (panel.isNarrow() && panel.isOpen()) panel.setOpen(false);
    const radius = e.originalEvent && e.originalEvent.pointerType === 'touch' ? 12 : 5;
    const hit = pickFeature(map, e.point, radius);
    // Problems first: the filing spot, a problem's detail, a cluster.
    let handled = civmap.problems && civmap.problems.handleClick(e.lngLat, hit);
    // Then the coverage view: who holds the clicked intersection.
    if (!handled && civmap.coverage && (!hit || (hit.kind !== 'problem' && hit.kind !== 'problem-cluster'))) {
      handled = civmap.coverage.handleClick(e.point, radius);
    }
    if (handled || !hit) {
      popup.remove();
      return;
    }
    onMapClick(hit, e.lngLat);
  });
  const onMapClick = ({ kind, feature }, lngLat) => {
    const layer = layerOf.get(kind);
    const at = feature.geometry && feature.geometry.type === 'Point' ? feature.geometry.coordinates : lngLat;
    popupKind = kind;
    popup.setLngLat(at).setHTML(popupHTML(feature, layer)).addTo(map);
    // Context polygons (districts) are outlined only: a fill would tint the whole view.
    const properties = { fill: !isFallbackKind(kind) };
    map.getSource(SELECTION).setData(feature.geometry ? { type: 'Feature', geometry: feature.geometry, properties } : EMPTY);
  };

  let hoverFrame = 0;
  map.on('mousemove', (e) => {
    if (hoverFrame) return;
    hoverFrame = requestAnimationFrame(() => {
      hoverFrame = 0;
      // While filing the map's CSS shows a crosshair.
      const filing = civmap.problems && civmap.problems.isPicking();
      map.getCanvas().style.cursor = !filing && pickFeature(map, e.point, 4, { fallback: false }) ? 'pointer' : '';
    });
  });

  // Problems: markers, filters, detail and filing.
  try {
    civmap.problems = await setupProblems({
      map,
      catalogue,
      features: civmap.features,
      geolocate,
      params: hashState.params,
      labelsBefore: firstLabelLayer(map),
      highlight: (geometry) => {
        map.getSource(SELECTION).setData(geometry ? { type: 'Feature', geometry, properties: { fill: true } } : EMPTY);
      },
      onStateChange: () => updateHash(),
    });
  } catch (err) {
    failures.push(`问题 problems: ${err.message}`);
  }

  // Duty coverage of the main intersections (off unless the hash says otherwise).
  try {
    civmap.coverage = setupCoverage({
      map,
      params: hashState.params,
      labelsBefore: firstLabelLayer(map),
      nameOf: (id) => civmap.features.get(featureKey('intersection', id))?.properties.name,
      onStateChange: () => updateHash(),
    });
    await civmap.coverage.loaded();
  } catch (err) {
    failures.push(`路口覆盖 coverage: ${err.message}`);
  }

  if (failures.length) {
    throw new Error(`some layers failed to load: ${failures.join('; ')}`);
  }
  await idle(map);
  updateHash();
  return civmap;
}

/**
 * The feature under `point` (top-most first; polygons marked as fallback, like districts, only
 * when nothing else is there): {kind, feature} with the feature's full served properties.
 * Problem markers lie on top of everything: kind 'problem' or 'problem-cluster'.
 */
function pickFeature(map, point, radius, { fallback = true } = {}) {
  const problem = civmap.problems ? pickProblem(map, point, radius) : null;
  if (problem) return problem;
  const layers = civmap.interactiveLayers.filter((id) => map.getLayer(id));
  if (layers.length === 0) return null;
  const box = [[point.x - radius, point.y - radius], [point.x + radius, point.y + radius]];
  const kindOf = (f) => f.layer.metadata && f.layer.metadata[KIND_METADATA];
  const hits = map.queryRenderedFeatures(box, { layers });
  let hit = hits.find((f) => !isFallbackKind(kindOf(f)));
  if (!hit && fallback) {
    // Fallback polygons are picked at the exact point, not anywhere in the box.
    hit = map.queryRenderedFeatures(point, { layers }).find((f) => isFallbackKind(kindOf(f)));
  }
  if (!hit) return null;
  const kind = kindOf(hit);
  const id = hit.properties.id ?? hit.id;
  return { kind, feature: civmap.features.get(featureKey(kind, id)) || hit };
}

/** One label point per polygon feature (see style.js: labels once per feature, not per tile). */
function labelPoints(collection, clip) {
  const features = [];
  for (const f of collection.features) {
    const label = f.properties[LABEL_PROPERTY];
    const at = label ? labelPoint(f.geometry, clip) : null;
    if (!at) continue;
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: at },
      properties: { id: f.properties.id, kind: f.properties.kind, name: f.properties.name, [LABEL_PROPERTY]: label },
    });
  }
  return { type: 'FeatureCollection', features };
}

/** Id of the lowest label layer (highlights and the heat map go below it). */
function firstLabelLayer(map) {
  const firstLabel = map.getStyle().layers.find((l) => l.type === 'symbol');
  return firstLabel ? firstLabel.id : undefined;
}

/** The highlight of the clicked feature, drawn above the layers and below the labels. */
function addSelectionLayers(map) {
  map.addSource(SELECTION, { type: 'geojson', data: EMPTY });
  const before = firstLabelLayer(map);
  const colour = '#1f5fbf';
  map.addLayer({
    id: `${SELECTION}--fill`, type: 'fill', source: SELECTION,
    filter: ['all', ['match', ['geometry-type'], ['Polygon', 'MultiPolygon'], true, false], ['get', 'fill']],
    paint: { 'fill-color': colour, 'fill-opacity': 0.14 },
  }, before);
  map.addLayer({
    id: `${SELECTION}--line`, type: 'line', source: SELECTION,
    filter: ['match', ['geometry-type'], ['Point', 'MultiPoint'], false, true],
    layout: { 'line-join': 'round', 'line-cap': 'round' },
    paint: { 'line-color': colour, 'line-opacity': 0.85, 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 2.5, 16, 5] },
  }, before);
  map.addLayer({
    id: `${SELECTION}--point`, type: 'circle', source: SELECTION,
    filter: ['match', ['geometry-type'], ['Point', 'MultiPoint'], true, false],
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 7, 16, 12],
      'circle-color': 'rgba(0,0,0,0)',
      'circle-stroke-color': colour,
      'circle-stroke-width': 2.5,
    },
  }, before);
}
