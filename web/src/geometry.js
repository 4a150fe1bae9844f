// Plain GeoJSON geometry helpers (lon/lat degrees; the areas involved are small enough that
// planar maths on degrees is fine for picking label positions).

/** 'Polygon' | 'LineString' | 'Point' for any GeoJSON geometry type name (Multi… included). */
export function geometryGroup(type) {
  const t = String(type || '').replace(/^Multi/i, '').toLowerCase();
  if (t === 'polygon') return 'Polygon';
  if (t === 'linestring') return 'LineString';
  return 'Point';
}

function ringArea(ring) {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    a += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  }
  return Math.abs(a / 2);
}

function polygonsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return [geometry.coordinates];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

/** Crossings of the horizontal line y = lat with all rings, sorted by longitude. */
function crossings(polygon, lat) {
  const xs = [];
  for (const ring of polygon) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [x1, y1] = ring[j];
      const [x2, y2] = ring[i];
      if ((y1 > lat) !== (y2 > lat)) xs.push(x1 + ((lat - y1) / (y2 - y1)) * (x2 - x1));
    }
  }
  return xs.sort((a, b) => a - b);
}

/**
 * A point well inside a (Multi)Polygon to hang its label on: on the largest part, the middle of
 * the widest inside stretch along one of several horizontal scan lines. One point per feature,
 * so a large polygon is labelled once, not once per tile. With `clip` ([minLon, minLat, maxLon,
 * maxLat], e.g. the city extent) the point is put in the part of the polygon inside it, so a
 * district reaching far into the countryside is named where people look. null for other
 * geometries.
 */
export function labelPoint(geometry, clip = null) {
  if (clip) {
    const inside = scanPoint(geometry, clip);
    if (inside) return inside;
  }
  return scanPoint(geometry, null);
}

function scanPoint(geometry, clip) {
  const polygons = polygonsOf(geometry);
  if (polygons.length === 0) return null;
  let best = polygons[0];
  let bestArea = -1;
  for (const p of polygons) {
    const a = p[0] && p[0].length > 2 ? ringArea(p[0]) : 0;
    if (a > bestArea) {
      best = p;
      bestArea = a;
    }
  }
  const outer = best[0];
  if (!outer || outer.length === 0) return null;
  let minLat = Infinity;
  let maxLat = -Infinity;
  for (const [, lat] of outer) {
    minLat = Math.min(minLat, lat);
    maxLat = Math.max(maxLat, lat);
  }
  if (clip) {
    minLat = Math.max(minLat, clip[1]);
    maxLat = Math.min(maxLat, clip[3]);
    if (minLat >= maxLat) return null;
  }
  let point = clip ? null : outer[0];
  let widest = clip ? 0 : -1;
  for (const f of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) {
    const lat = minLat + (maxLat - minLat) * f;
    const xs = crossings(best, lat);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const x0 = clip ? Math.max(xs[i], clip[0]) : xs[i];
      const x1 = clip ? Math.min(xs[i + 1], clip[2]) : xs[i + 1];
      if (x1 <= x0) continue;
      // Prefer scan lines near the middle: weight the width a little by closeness to 0.5.
      const w = (x1 - x0) * (1 - Math.abs(f - 0.5) * 0.6);
      if (w > widest) {
        widest = w;
        point = [(x0 + x1) / 2, lat];
      }
    }
  }
  return point;
}

/** Every [lon, lat] position of a geometry, flattened. */
export function positions(geometry) {
  const out = [];
  const walk = (c) => {
    if (typeof c[0] === 'number') out.push(c);
    else for (const x of c) walk(x);
  };
  if (geometry && geometry.coordinates) walk(geometry.coordinates);
  if (geometry && geometry.type === 'GeometryCollection') {
    for (const g of geometry.geometries || []) out.push(...positions(g));
  }
  return out;
}

/** [minLon, minLat, maxLon, maxLat] of boxes (each may be null), or null when there are none. */
export function unionBBox(boxes) {
  let b = null;
  for (const x of boxes) {
    if (!Array.isArray(x) || x.length < 4 || !x.every(Number.isFinite)) continue;
    b = b
      ? [Math.min(b[0], x[0]), Math.min(b[1], x[1]), Math.max(b[2], x[2]), Math.max(b[3], x[3])]
      : [...x];
  }
  return b;
}
