// The MapLibre style, built from civmap's layer catalogue (GET /api/layers). Every catalogue
// kind becomes one GeoJSON source named after the kind and a few style layers:
//
//   <kind>            the primary layer (fill, line or circle) — tests and clicks use this id
//   <kind>--outline   polygon outline
//   <kind>--casing    line casing (widths follow the free property `class`: main/secondary)
//   <kind>--marker    a dot per small polygon at low zoom (markets)
//   <kind>--label     names, drawn only in characters the local CJK font has (see labels.js);
//                     polygon names come from the point source <kind>--labelpoints (one
//                     point per polygon, so a big district is not labelled once per tile)
//
// Every style layer carries metadata {"civmap:kind": kind}.
// A kind is drawn from its geometry type and catalogue colour, so a kind added to the catalogue
// appears with no code change. KIND_HINTS only refines the cartography of kinds we know
// (how faint district fills are, from which zoom names show); it never decides which kinds exist.
// Draw order: polygons, then lines, then points, then labels; within each group the catalogue
// order (first = lowest).

import { darken, mix, safeColour } from './colour.js';
import { geometryGroup, unionBBox } from './geometry.js';

export { geometryGroup };

export const LABEL_PROPERTY = '_label';
export const KIND_METADATA = 'civmap:kind';

/** The source holding one label point per polygon of `kind`. */
export const labelPointSource = (kind) => `${kind}--labelpoints`;

const HINTS_BY_GEOMETRY = {
  Polygon: { fillOpacity: 0.32, outlineWidth: 1, label: { minzoom: 15, size: [15, 11, 18, 13] } },
  LineString: { label: { minzoom: 14.5, size: [14, 11, 18, 13] } },
  Point: { label: { minzoom: 16.5, size: [16, 10.5, 19, 12] } },
};

const KIND_HINTS = {
  district: {
    fillOpacity: 0.035,
    outlineWidth: [9, 1, 13, 1.8, 17, 3],
    outlineDash: [4, 2.5],
    outlineOpacity: 0.7,
    interactive: 'fallback',
    context: true,
    // Named at overview zooms only, above road names (three labels displace a few road names).
    label: {
      minzoom: 9,
      maxzoom: 12.6,
      size: [9, 13, 12, 17],
      bold: true,
      spacing: 0.3,
      opacity: [9, 0.9, 12, 0.8, 12.6, 0.5],
      colour: '#5f6368',
      top: true,
    },
  },
  road: { label: { minzoom: 11.5, size: [11.5, 11, 14, 13, 17, 15], priority: true } },
  back_alley: { label: { minzoom: 14.3, size: [14, 10.5, 17, 12.5] } },
  market: {
    fillOpacity: 0.5,
    // Markets are a few dozen metres across: a dot marks them until the polygon is big enough.
    marker: { maxzoom: 14.5 },
    label: { minzoom: 12, size: [12, 11, 15, 13, 18, 15], bold: true, top: true, below: [14.5, 1.2, 15, 0] },
  },
  parking_zone: { fillOpacity: 0.4, outlineWidth: 0.8, label: { minzoom: 16.5, size: [16, 10.5, 19, 12] } },
  bus_stop: { pointScale: 0.8 },
  intersection: { pointScale: 1 },
};

function hintsFor(layer) {
  const base = HINTS_BY_GEOMETRY[geometryGroup(layer.geometry_type)];
  const own = KIND_HINTS[layer.kind] || {};
  return { ...base, ...own, label: own.label === false ? false : { ...base.label, ...own.label } };
}

const linearRamp = (stops) => ['interpolate', ['linear'], ['zoom'], ...stops];

// Line widths by the free property `class` (roads: main / secondary); other lines are thin.
const WIDTH_STOPS = {
  main: [10, 1.3, 12, 2.4, 14, 5.5, 16, 13, 18, 34],
  secondary: [10, 0.7, 12, 1.5, 14, 3.8, 16, 9.5, 18, 25],
  other: [10, 0.3, 12, 0.7, 14, 1.8, 16, 4.5, 18, 11],
};

// One zoom ramp at the top (MapLibre allows no other), choosing the width by class per stop.
function widthByClass(extra = 0) {
  const zooms = WIDTH_STOPS.main.filter((_, i) => i % 2 === 0);
  const at = (stops, z) => stops[stops.indexOf(z) + 1] + extra * (z >= 14 ? 1.6 : 1);
  return ['interpolate', ['exponential', 1.5], ['zoom'],
    ...zooms.flatMap((z) => [z, ['match', ['get', 'class'],
      'main', at(WIDTH_STOPS.main, z),
      'secondary', at(WIDTH_STOPS.secondary, z),
      at(WIDTH_STOPS.other, z)]])];
}

const POINT_RADIUS = [10, 1.4, 12, 2.4, 14, 4, 16, 6, 18, 9];

/** The style layers of one kind, grouped by where they go in the draw order. */
function kindLayers(layer) {
  const { kind } = layer;
  const colour = safeColour(layer.colour);
  const group = geometryGroup(layer.geometry_type);
  const hints = hintsFor(layer);
  const out = { base: [], casing: [], main: [], points: [], labels: [] };
  const src = { source: kind };
  const onlyGeometry = (types) => ['match', ['geometry-type'], types, true, false];

  if (group === 'Polygon') {
    out.base.push({
      id: kind, type: 'fill', ...src,
      filter: onlyGeometry(['Polygon', 'MultiPolygon']),
      paint: { 'fill-color': colour, 'fill-opacity': hints.fillOpacity },
    });
    const outlineWidth = Array.isArray(hints.outlineWidth)
      ? linearRamp(hints.outlineWidth)
      : linearRamp([11, hints.outlineWidth * 0.6, 15, hints.outlineWidth * 1.4]);
    out.base.push({
      id: `${kind}--outline`, type: 'line', ...src,
      filter: onlyGeometry(['Polygon', 'MultiPolygon']),
      layout: { 'line-join': 'round' },
      paint: {
        'line-color': darken(colour, 0.22),
        'line-width': outlineWidth,
        'line-opacity': hints.outlineOpacity ?? 0.9,
        ...(hints.outlineDash ? { 'line-dasharray': hints.outlineDash } : {}),
      },
    });
    if (hints.marker) {
      out.points.push({
        id: `${kind}--marker`, type: 'circle', source: labelPointSource(kind),
        maxzoom: hints.marker.maxzoom,
        paint: {
          'circle-color': colour,
          'circle-radius': linearRamp([10, 2.5, 14, 5]),
          'circle-stroke-color': '#ffffff',
          'circle-stroke-width': 1.5,
        },
      });
    }
  } else if (group === 'LineString') {
    const lineFilter = onlyGeometry(['LineString', 'MultiLineString']);
    out.casing.push({
      id: `${kind}--casing`, type: 'line', ...src, filter: lineFilter,
      layout: { 'line-join': 'round', 'line-cap': 'round' },
      paint: {
        'line-color': darken(colour, 0.28),
        'line-width': widthByClass(1.1),
        'line-opacity': linearRamp([10, 0.55, 13, 0.9]),
      },
    });
    out.main.push({
      id: kind, type: 'line', ...src, filter: lineFilter,
      layout: { 'line-join': 'round', 'line-cap': 'round' },
      paint: {
        'line-color': ['match', ['get', 'class'],
          'main', colour,
          'secondary', mix(colour, '#ffffff', 0.45),
          mix(colour, '#ffffff', 0.15)],
        'line-width': widthByClass(0),
      },
    });
  } else {
    const scale = hints.pointScale ?? 0.9;
    const mainScale = ['case', ['==', ['get', 'main'], true], 1.25, 1];
    out.points.push({
      id: kind, type: 'circle', ...src,
      filter: onlyGeometry(['Point', 'MultiPoint']),
      paint: {
        'circle-color': colour,
        'circle-radius': ['interpolate', ['exponential', 1.5], ['zoom'],
          ...POINT_RADIUS.flatMap((v, i) => (i % 2 === 0 ? [v] : [['*', v * scale, mainScale]]))],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': linearRamp([10, 0.4, 13, 1, 16, 1.8]),
        'circle-opacity': linearRamp([10, 0.75, 13, 1]),
        'circle-stroke-opacity': linearRamp([10, 0.6, 13, 1]),
      },
    });
  }

  if (hints.label) {
    const l = hints.label;
    // Line names (roads) one point larger on main roads.
    const size = group === 'LineString'
      ? ['interpolate', ['linear'], ['zoom'],
        ...l.size.flatMap((v, i) => (i % 2 === 0 ? [v] : [['match', ['get', 'class'], 'main', v + 1, v]]))]
      : linearRamp(l.size);
    const textColour = l.colour || darken(colour, group === 'LineString' ? 0.62 : 0.5);
    const common = {
      'text-field': ['get', LABEL_PROPERTY],
      'text-size': size,
      'text-letter-spacing': l.spacing ?? (group === 'LineString' ? 0.08 : 0.02),
      'text-padding': 3,
      'text-optional': true,
      ...(l.bold ? { 'text-font': ['Noto Sans CJK SC Bold'] } : {}),
    };
    const paint = {
      'text-color': textColour,
      'text-halo-color': 'rgba(255,255,255,0.92)',
      'text-halo-width': group === 'Polygon' && kind !== 'district' ? 1.4 : 1.6,
      'text-halo-blur': 0.3,
      ...(l.opacity ? { 'text-opacity': linearRamp(l.opacity) } : {}),
    };
    const labelLayer = {
      id: `${kind}--label`, type: 'symbol',
      source: group === 'Polygon' ? labelPointSource(kind) : kind,
      minzoom: l.minzoom,
      ...(l.maxzoom ? { maxzoom: l.maxzoom } : {}),
      filter: ['!=', ['get', LABEL_PROPERTY], ''],
      paint,
    };
    if (group === 'LineString') {
      labelLayer.layout = {
        ...common,
        'symbol-placement': 'line',
        'symbol-spacing': 320,
        'text-max-angle': 28,
        'text-rotation-alignment': 'map',
        'text-pitch-alignment': 'viewport',
        'text-keep-upright': true,
        'symbol-sort-key': ['match', ['get', 'class'], 'main', 0, 'secondary', 1, 2],
      };
    } else {
      labelLayer.layout = {
        ...common,
        'symbol-placement': 'point',
        'text-anchor': group === 'Point' ? 'top' : 'center',
        'text-offset': group === 'Point'
          ? [0, 0.6]
          : l.below
            ? ['interpolate', ['linear'], ['zoom'], l.below[0], ['literal', [0, l.below[1]]], l.below[2], ['literal', [0, l.below[3]]]]
            : [0, 0],
        'text-max-width': group === 'Polygon' ? 10 : 9,
      };
    }
    out.labels.push({ layer: labelLayer, order: l.top ? 3 : l.priority ? 2 : 1 });
  }
  return out;
}

/**
 * The full style for `catalogue`. `basemap` is {url, attribution} for an optional raster base
 * map, or null.
 */
export function buildStyle(catalogue, { basemap = null } = {}) {
  const sources = {};
  const groups = { Polygon: [], casing: [], LineString: [], Point: [], labels: [] };
  for (const layer of catalogue) {
    sources[layer.kind] = {
      type: 'geojson',
      data: { type: 'FeatureCollection', features: [] },
      promoteId: 'id',
    };
    if (geometryGroup(layer.geometry_type) === 'Polygon') {
      sources[labelPointSource(layer.kind)] = {
        type: 'geojson',
        data: { type: 'FeatureCollection', features: [] },
        promoteId: 'id',
      };
    }
    const parts = kindLayers(layer);
    const tag = (l) => {
      l.metadata = { [KIND_METADATA]: layer.kind };
      return l;
    };
    for (const list of Object.values(parts)) {
      for (const item of list) tag(item.layer || item);
    }
    groups.Polygon.push(...parts.base);
    groups.casing.push(...parts.casing);
    groups.LineString.push(...parts.main);
    groups.Point.push(...parts.points);
    groups.labels.push(...parts.labels);
  }
  // Stable sort keeps catalogue order within a label tier; higher tiers draw on top and win
  // label collisions (other names < road names < district and market names).
  groups.labels.sort((a, b) => a.order - b.order);

  const layers = [
    { id: 'background', type: 'background', paint: { 'background-color': '#f3f2ee' } },
  ];
  if (basemap) {
    sources.basemap = {
      type: 'raster', tiles: [basemap.url], tileSize: 256, maxzoom: 19,
      attribution: basemap.attribution || '',
    };
    layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.9 } });
  }
  layers.push(
    ...groups.Polygon,
    ...groups.casing,
    ...groups.LineString,
    ...groups.Point,
    ...groups.labels.map((l) => l.layer),
  );

  return {
    version: 8,
    name: 'civmap',
    // civmap answers with an empty glyph set; CJK labels are drawn from the local font.
    glyphs: `${window.location.origin}/glyphs/{fontstack}/{range}.pbf`,
    sources,
    layers,
  };
}

/** Ids of every style layer drawing `kind` (toggled together). */
export function layerIdsFor(map, kind) {
  return map
    .getStyle()
    .layers.filter((l) => l.metadata && l.metadata[KIND_METADATA] === kind)
    .map((l) => l.id);
}

/** Layers a click can pick, top-most first in draw order; districts only as a last resort. */
export function interactiveLayerIds(catalogue) {
  const ids = [];
  for (const layer of catalogue) {
    const group = geometryGroup(layer.geometry_type);
    ids.push(layer.kind);
    if (group !== 'Polygon' || (KIND_HINTS[layer.kind] || {}).interactive !== 'fallback') {
      const hints = hintsFor(layer);
      if (hints.label) ids.push(`${layer.kind}--label`);
      if (hints.marker) ids.push(`${layer.kind}--marker`);
    }
  }
  return ids;
}

/**
 * The city's extent for the first view: the union of the layers' boxes, leaving out context
 * layers (administrative districts reach far into the countryside) unless nothing else has data.
 */
export function cityExtent(catalogue) {
  const filled = catalogue.filter((l) => l.count > 0);
  const assets = filled.filter((l) => !(KIND_HINTS[l.kind] || {}).context);
  return unionBBox((assets.length ? assets : filled).map((l) => l.bbox));
}

/** True when clicks should pick this kind only if nothing else is under the pointer. */
export function isFallbackKind(kind) {
  return (KIND_HINTS[kind] || {}).interactive === 'fallback';
}
