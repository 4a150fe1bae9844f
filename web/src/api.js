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

async function getJSON(url, { signal } = {}) {
  let response;
  try {
    response = await fetch(url, {
      signal,
      headers: { Accept: 'application/geo+json, application/json;q=0.9' },
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
export async function fetchLayer(kind, filters = {}, options) {
  const params = new URLSearchParams({ ...filters, limit: String(PAGE_LIMIT) });
  let url = `/api/layers/${encodeURIComponent(kind)}?${params}`;
  const features = [];
  let numberMatched = 0;
  for (let page = 0; url; page += 1) {
    if (page > 1000) throw new ApiError(url, 0, 'too many pages');
    const body = await getJSON(url, options);
    features.push(...(body.features || []));
    numberMatched = body.numberMatched ?? features.length;
    const next = (body.links || []).find((link) => link.rel === 'next');
    // `next` is absolute (built from the Host header); keep only path + query so the page's own
    // origin (and the dev-server proxy) is used.
    url = next ? relative(next.href) : null;
  }
  return { type: 'FeatureCollection', numberMatched, features };
}

function relative(href) {
  const u = new URL(href, window.location.href);
  return `${u.pathname}${u.search}`;
}
