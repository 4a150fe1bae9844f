// View state in the URL hash, so a view can be bookmarked, shared and restored on reload:
//
//   #map=<zoom>/<lat>/<lon>&layers=<kind>,<kind>,...[&<key>=<value>...]
//
// `map` follows the OpenStreetMap convention (zoom/lat/lon). `layers` lists the visible kinds;
// when it is absent every kind is visible, when it is empty none is. Further keys (the problem
// filters, see problem-filters.js) are kept in `params` and written after these two.

/**
 * From a hash string: {view: {zoom, center: [lon, lat]} | null, layers: string[] | null,
 * params: Map of the other keys}.
 */
export function parseHash(hash = window.location.hash) {
  const state = { view: null, layers: null, params: new Map() };
  const text = hash.replace(/^#/, '');
  if (!text) return state;
  for (const part of text.split('&')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = decodeURIComponent(part.slice(0, eq));
    const value = decodeURIComponent(part.slice(eq + 1));
    if (key === 'map') {
      const [zoom, lat, lon] = value.split('/').map(Number);
      if (
        [zoom, lat, lon].every(Number.isFinite) &&
        zoom >= 0 && zoom <= 24 && Math.abs(lat) <= 85 && Math.abs(lon) <= 180
      ) {
        state.view = { zoom, center: [lon, lat] };
      }
    } else if (key === 'layers') {
      state.layers = value.split(',').map((s) => s.trim()).filter(Boolean);
    } else if (key) {
      state.params.set(key, value);
    }
  }
  return state;
}

/**
 * The hash for a view, the visible kinds (in the order given) and further [key, value] pairs
 * (in the order given).
 */
export function formatHash({ zoom, center }, visibleKinds, params = []) {
  const [lon, lat] = center;
  const layers = visibleKinds.map(encodeURIComponent).join(',');
  const extra = params.map(([k, v]) => `&${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('');
  return `#map=${zoom.toFixed(2)}/${lat.toFixed(5)}/${lon.toFixed(5)}&layers=${layers}${extra}`;
}

/**
 * Keeps the hash in step with the map: `getState()` returns {zoom, center, visibleKinds,
 * params: [[key, value], ...]}; call the returned `update()` after anything that changes the
 * state. `onExternalChange(state)` is called when the user edits the hash or navigates
 * back/forward.
 */
export function syncHash(getState, onExternalChange) {
  let written = window.location.hash;
  const update = () => {
    const { zoom, center, visibleKinds, params } = getState();
    const hash = formatHash({ zoom, center }, visibleKinds, params);
    if (hash === written) return;
    written = hash;
    // replaceState: panning must not flood the browser history.
    window.history.replaceState(window.history.state, '', `${window.location.pathname}${window.location.search}${hash}`);
  };
  window.addEventListener('hashchange', () => {
    if (window.location.hash === written) return;
    written = window.location.hash;
    onExternalChange(parseHash(written));
  });
  return update;
}
