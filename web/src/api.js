// civmap HTTP API client: the only module that knows URLs. Everything is same-origin; GeoJSON
// is RFC 7946 (WGS84 lon/lat). Errors come back as application/problem+json {status, detail}.

/** An API call that failed, carrying the server's problem detail when there was one. */
export class ApiError extends Error {
  constructor(url, status, detail) {
    super(`${url}: ${status ? `HTTP ${status}: ` : ''}${detail}`);
    this.name = 'ApiError';
    this.url = url;
    this.status = status;
    this.detail = detail;
  }
}

/**
 * JSON from `url` (GET unless `init` says otherwise). Throws ApiError carrying the server's
 * problem+json `detail`, or rethrows the AbortError of a cancelled request.
 */
async function requestJSON(url, { signal, ...init } = {}) {
  let response;
  try {
    response = await fetch(url, {
      signal,
      ...init,
      headers: { Accept: 'application/geo+json, application/json;q=0.9', ...init.headers },
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(url, 0, `network error: ${err.message}`);
  }
  if (!response.ok) {
    let detail = response.statusText || 'request failed';
    try {
      const problem = await response.json();
      if (problem && typeof problem.detail === 'string') detail = problem.detail;
    } catch {
      // Not a problem+json body; keep the status text.
    }
    throw new ApiError(url, response.status, detail);
  }
  return response.json();
}

const getJSON = (url, options) => requestJSON(url, { signal: options && options.signal });

/**
 * The layer catalogue, in catalogue order:
 * [{kind, name_zh, name_en, geometry_type, colour, count, bbox}].
 */
export async function fetchCatalogue(options) {
  const body = await getJSON('/api/layers', options);
  if (!body || !Array.isArray(body.layers)) {
    throw new ApiError('/api/layers', 200, 'response has no "layers" array');
  }
  return body.layers;
}

/** Largest page the API serves; one page holds a whole layer of the demo city. */
const PAGE_LIMIT = 100000;

/**
 * Every feature of one layer as a FeatureCollection, following `next` links when the layer is
 * larger than one page. `filters` may hold bbox, district, unit, q.
 */
export function fetchLayer(kind, filters = {}, options) {
  const params = new URLSearchParams({ ...filters, limit: String(PAGE_LIMIT) });
  return fetchAllPages(`/api/layers/${encodeURIComponent(kind)}?${params}`, options);
}

/** A paged FeatureCollection, all pages joined; numberMatched as the server counted. */
async function fetchAllPages(first, options) {
  let url = first;
  const features = [];
  let numberMatched = 0;
  for (let page = 0; url; page += 1) {
    if (page > 1000) throw new ApiError(url, 0, 'too many pages');
    const body = await getJSON(url, options);
    features.push(...(body.features || []));
    numberMatched = body.numberMatched ?? features.length;
    const next = (body.links || []).find((link) => link.rel === 'next');
    // `next` may be absolute (built from the Host header); keep only path + query so the page's
    // own origin (and the dev-server proxy) is used.
    url = next ? relative(next.href) : null;
  }
  return { type: 'FeatureCollection', numberMatched, features };
}

function relative(href) {
  const u = new URL(href, window.location.href);
  return `${u.pathname}${u.search}`;
}

const query = (params) => {
  const clean = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return new URLSearchParams(clean).toString();
};

// ---------- problem reports ----------

/**
 * The report categories, in catalogue order:
 * [{code, name_zh, name_en, eligible_kinds, max_distance_m, deadline_hours, permitted_in}].
 */
export async function fetchCategories(options) {
  const body = await getJSON('/api/categories', options);
  if (!body || !Array.isArray(body.categories)) {
    throw new ApiError('/api/categories', 200, 'response has no "categories" array');
  }
  return body.categories;
}

/**
 * Every report matching `filters` ({status, category, district, unit, asset, bbox, from, to,
 * overdue}; empty values are left out) as a FeatureCollection of points.
 */
export function fetchReports(filters = {}, options) {
  return fetchAllPages(`/api/reports?${query({ ...filters, limit: String(PAGE_LIMIT) })}`, options);
}

/** One report as a Feature; properties.history is its audit trail. */
export const fetchReport = (id, options) => getJSON(`/api/reports/${encodeURIComponent(id)}`, options);

/** Counts over the reports matching `filters` (same filters as fetchReports). */
export const fetchStats = (filters = {}, options) => getJSON(`/api/stats?${query(filters)}`, options);

/** The `k` assets of `kinds` nearest to (lon, lat) (WGS84), with properties.distance_m. */
export const fetchNearest = (lon, lat, kinds, k = 1, options) =>
  getJSON(`/api/nearest?${query({ lon, lat, kind: kinds.join(','), k })}`, options);

/**
 * Files a report: `report` is the JSON ({lon, lat, crs, category, description, reporter, …}),
 * `photos` File/Blob objects sent beside it as multipart `photo` fields. Resolves to the 201
 * body ({id, status, asset, unit, district, possible_duplicates, …}).
 */
export function fileReport(report, photos = [], options) {
  const body = new FormData();
  body.append('report', JSON.stringify(report));
  for (const photo of photos) body.append('photo', photo, photo.name || 'photo');
  return requestJSON('/api/reports', { method: 'POST', body, signal: options && options.signal });
}

/** The URL of a stored photo. */
export const photoURL = (hash) => `/api/photos/${encodeURIComponent(hash)}`;

// ---------- duty coverage (包路口) ----------

/**
 * Coverage of the main intersections at `at` (local "YYYY-MM-DDTHH:MM", Asia/Shanghai) as a
 * FeatureCollection of points with properties {id, name, district, covered, cover}, plus
 * top-level `districts` [{district, main_intersections, covered, ratio}] and `at`.
 */
export const fetchCoverage = ({ at, district, nearby_m } = {}, options) =>
  getJSON(`/api/coverage?${query({ at, district, nearby_m, format: 'geojson' })}`, options);

/** Held main intersections per hour of one day: {hours: [{hour, held, main_intersections, ratio}]}. */
export const fetchCoverageDay = ({ date, district } = {}, options) =>
  getJSON(`/api/coverage/day?${query({ date, district })}`, options);

/** Gaps worth a post first: {suggestions: [{id, name, district, lon, lat, open_traffic_disorder, open_problems}]}. */
export const fetchCoverageSuggestions = ({ at, district, limit } = {}, options) =>
  getJSON(`/api/coverage/suggestions?${query({ at, district, limit })}`, options);
