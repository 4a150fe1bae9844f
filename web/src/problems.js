// The problems layer: reported problems (GET /api/reports) as markers coloured by status, past
// their deadline ringed in red, clustered at low zoom (count in full-width digits: the map draws
// only characters of the local CJK font, see labels.js), and an optional heat map.
//
// Sources:  problems        clustered points (promoteId id)
//           problems--heat  the same points unclustered, for the heat map
// Layers:   problems--heat, problems--clusters, problems--cluster-count,
//           problems--overdue (red ring + halo), problems (the markers; clicks use this id),
//           problems--selected (ring around the problem whose detail is open)

import { OVERDUE_COLOUR, STATUSES } from './report-labels.js';

export const PROBLEMS = 'problems';
const HEAT = `${PROBLEMS}--heat`;
const CLUSTERS = `${PROBLEMS}--clusters`;
const CLUSTER_COUNT = `${PROBLEMS}--cluster-count`;
const OVERDUE = `${PROBLEMS}--overdue`;
const SELECTED = `${PROBLEMS}--selected`;

/** Zoom from which every problem is drawn on its own. */
export const CLUSTER_MAX_ZOOM = 14;

const EMPTY = { type: 'FeatureCollection', features: [] };

/** Layers a click can pick, top-most first. */
const CLICK_LAYERS = [PROBLEMS, CLUSTERS, CLUSTER_COUNT];

const zoomRamp = (...stops) => ['interpolate', ['linear'], ['zoom'], ...stops];

/** A number (0–99999) as full-width digits, as a style expression. */
function fullWidthNumber(value) {
  const digits = ['literal', [...'０１２３４５６７８９']];
  const digit = (place) => ['at', ['%', ['floor', ['/', value, 10 ** place]], 10], digits];
  const parts = [];
  for (let place = 4; place > 0; place -= 1) {
    parts.push(['case', ['>=', value, 10 ** place], digit(place), '']);
  }
  parts.push(digit(0));
  return ['concat', ...parts];
}

const statusColour = ['match', ['get', 'status'], ...STATUSES.flatMap((s) => [s.code, s.colour]), '#495057'];
const isOverdue = ['==', ['get', 'overdue'], true];

/** Adds the problem sources and layers: the heat map below `labelsBefore`, markers on top. */
export function addProblemLayers(map, { labelsBefore } = {}) {
  map.addSource(PROBLEMS, {
    type: 'geojson',
    data: EMPTY,
    promoteId: 'id',
    cluster: true,
    clusterMaxZoom: CLUSTER_MAX_ZOOM,
    clusterRadius: 42,
    clusterProperties: { overdue: ['+', ['case', isOverdue, 1, 0]] },
  });
  map.addSource(HEAT, { type: 'geojson', data: EMPTY });

  map.addLayer({
    id: HEAT, type: 'heatmap', source: HEAT,
    layout: { visibility: 'none' },
    paint: {
      'heatmap-weight': ['case', ['==', ['get', 'status'], 'closed'], 0.3, isOverdue, 1.6, 1],
      'heatmap-intensity': zoomRamp(10, 0.8, 15, 2),
      'heatmap-radius': zoomRamp(10, 14, 13, 26, 16, 48),
      'heatmap-opacity': zoomRamp(14, 0.85, 17, 0.45),
      'heatmap-color': ['interpolate', ['linear'], ['heatmap-density'],
        0, 'rgba(255,255,178,0)', 0.15, 'rgba(254,217,118,0.7)', 0.35, '#feb24c',
        0.55, '#fd8d3c', 0.75, '#f03b20', 1, '#bd0026'],
    },
  }, labelsBefore);

  const clustered = ['has', 'point_count'];
  map.addLayer({
    id: CLUSTERS, type: 'circle', source: PROBLEMS, filter: clustered,
    paint: {
      'circle-color': '#343a40',
      'circle-opacity': 0.85,
      'circle-radius': ['step', ['get', 'point_count'], 13, 10, 16, 50, 20, 200, 25],
      'circle-stroke-color': ['case', ['>', ['get', 'overdue'], 0], OVERDUE_COLOUR, '#ffffff'],
      'circle-stroke-width': ['case', ['>', ['get', 'overdue'], 0], 3, 2],
    },
  });
  map.addLayer({
    id: CLUSTER_COUNT, type: 'symbol', source: PROBLEMS, filter: clustered,
    layout: {
      'text-field': fullWidthNumber(['get', 'point_count']),
      'text-size': 12,
      'text-allow-overlap': true,
      'text-ignore-placement': true,
    },
    paint: { 'text-color': '#ffffff' },
  });

  const single = ['!', clustered];
  // Open problems are drawn over finished ones, overdue ones over all.
  const drawOrder = ['case', isOverdue, 3, ['match', ['get', 'status'], 'closed', 0, 'verified', 1, 2]];
  map.addLayer({
    id: OVERDUE, type: 'circle', source: PROBLEMS, filter: ['all', single, isOverdue],
    paint: {
      'circle-color': OVERDUE_COLOUR,
      'circle-opacity': 0.22,
      'circle-radius': zoomRamp(10, 10, 14, 13, 18, 19),
      'circle-stroke-color': OVERDUE_COLOUR,
      'circle-stroke-width': 2.5,
    },
  });
  map.addLayer({
    id: PROBLEMS, type: 'circle', source: PROBLEMS, filter: single,
    layout: { 'circle-sort-key': drawOrder },
    paint: {
      'circle-color': statusColour,
      'circle-radius': zoomRamp(10, 5, 14, 7, 18, 10),
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 2,
      'circle-opacity': ['case', ['==', ['get', 'status'], 'closed'], 0.75, 1],
    },
  });
  map.addLayer({
    id: SELECTED, type: 'circle', source: PROBLEMS, filter: ['==', ['get', 'id'], -1],
    paint: {
      'circle-color': 'rgba(0,0,0,0)',
      'circle-radius': zoomRamp(10, 10, 14, 12, 18, 16),
      'circle-stroke-color': '#1f5fbf',
      'circle-stroke-width': 3,
    },
  });
}

/** Replaces the problems drawn (a FeatureCollection from GET /api/reports). */
export function setProblems(map, collection) {
  map.getSource(PROBLEMS).setData(collection);
  map.getSource(HEAT).setData(collection);
}

const setVisibility = (map, ids, on) => {
  for (const id of ids) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
};

/**
 * Shows or hides the problems. With `heat` the heat map replaces the clusters; single markers
 * still appear once the clusters break up (and stay clickable).
 */
export function setProblemsDisplay(map, { shown, heat }) {
  setVisibility(map, [HEAT], shown && heat);
  setVisibility(map, [CLUSTERS, CLUSTER_COUNT], shown && !heat);
  setVisibility(map, [OVERDUE, PROBLEMS, SELECTED], shown);
}

/** Rings the problem `id` (null: none). */
export function selectProblem(map, id) {
  map.setFilter(SELECTED, ['all', ['!', ['has', 'point_count']], ['==', ['get', 'id'], id ?? -1]]);
}

export const PROBLEM_KIND = 'problem';
export const CLUSTER_KIND = 'problem-cluster';

/**
 * The problem marker or cluster under `point`, in the shape of main.js's picks:
 * {kind: 'problem' | 'problem-cluster', feature}, or null.
 */
export function pickProblem(map, point, radius) {
  const layers = CLICK_LAYERS.filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none');
  if (layers.length === 0) return null;
  const box = [[point.x - radius, point.y - radius], [point.x + radius, point.y + radius]];
  const hit = map.queryRenderedFeatures(box, { layers })[0];
  if (!hit) return null;
  return { kind: hit.properties.cluster ? CLUSTER_KIND : PROBLEM_KIND, feature: hit };
}

/** Zooms in until the cluster `feature` breaks up. */
export async function expandCluster(map, feature) {
  const zoom = await map.getSource(PROBLEMS).getClusterExpansionZoom(feature.properties.cluster_id);
  map.easeTo({ center: feature.geometry.coordinates, zoom: Math.min(zoom + 0.2, map.getMaxZoom()) });
}
