// Extension points for features whose API does not exist yet. Nothing here calls an endpoint
// and nothing in the UI uses these functions today; they only draw data they are given, so the
// coming issues can wire them to real responses:
//
//   routing / patrol plans  → drawRoute(map, geojson), clearRoute(map)
//   duty coverage (包路口)   → colourIntersectionsByCoverage(map, statusById, kind)
//
// (Problem reports are no longer a hook: see problems-view.js.)

const ROUTE_SOURCE = 'civmap-route';

/**
 * Draws a route (a GeoJSON LineString/MultiLineString Feature or FeatureCollection, WGS84) on
 * top of every layer, replacing any previous one.
 */
export function drawRoute(map, geojson) {
  const source = map.getSource(ROUTE_SOURCE);
  if (source) {
    source.setData(geojson);
    return;
  }
  map.addSource(ROUTE_SOURCE, { type: 'geojson', data: geojson });
  map.addLayer({
    id: `${ROUTE_SOURCE}--casing`, type: 'line', source: ROUTE_SOURCE,
    layout: { 'line-join': 'round', 'line-cap': 'round' },
    paint: { 'line-color': '#ffffff', 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 5, 16, 12] },
  });
  map.addLayer({
    id: ROUTE_SOURCE, type: 'line', source: ROUTE_SOURCE,
    layout: { 'line-join': 'round', 'line-cap': 'round' },
    paint: { 'line-color': '#1565c0', 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 3, 16, 8] },
  });
}

/** Removes the route drawn by drawRoute, if any. */
export function clearRoute(map) {
  for (const id of [ROUTE_SOURCE, `${ROUTE_SOURCE}--casing`]) if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource(ROUTE_SOURCE)) map.removeSource(ROUTE_SOURCE);
}

// The catalogue colour expression of each point layer before coverage colouring, per map.
const baseColours = new WeakMap();

/** Colours used for intersection duty coverage. */
export const COVERAGE_COLOURS = { covered: '#2e7d32', gap: '#c62828', partial: '#f9a825' };

/**
 * Colours intersections by duty coverage. `statusById` maps an intersection asset id to
 * 'covered' | 'gap' | 'partial' (as the coverage API will report it); intersections not in the
 * map keep their catalogue colour. Uses feature state, so the layer data is untouched.
 */
export function colourIntersectionsByCoverage(map, statusById, kind = 'intersection') {
  if (!map.getLayer(kind)) return;
  map.removeFeatureState({ source: kind });
  for (const [id, status] of Object.entries(statusById)) {
    map.setFeatureState({ source: kind, id }, { coverage: status });
  }
  if (!baseColours.has(map)) baseColours.set(map, {});
  const stored = baseColours.get(map);
  stored[kind] ??= map.getPaintProperty(kind, 'circle-color');
  map.setPaintProperty(kind, 'circle-color', [
    'match', ['coalesce', ['feature-state', 'coverage'], ''],
    'covered', COVERAGE_COLOURS.covered,
    'gap', COVERAGE_COLOURS.gap,
    'partial', COVERAGE_COLOURS.partial,
    stored[kind],
  ]);
}
