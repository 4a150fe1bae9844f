// View state in the URL hash, so a view can be bookmarked, shared and restored on reload:
//
//   #map=<zoom>/<lat>/<lon>&layers=<kind>,<kind>,...
//
// `map` follows the OpenStreetMap convention (zoom/lat/lon). `layers` lists the visible kinds;
// when it is absent every kind is visible, when it is empty none is.

/** {zoom, center: [lon, lat]} | null, and {layers: string[] | null} from a hash string. */
export function parseHash(hash = window.location.hash) {
  const state = { view: null, layers: null };
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
    }
  }
  return state;
}

/** The hash for a view and the visible kinds (in the order given). */
export function formatHash({ zoom, center }, visibleKinds) {
  const [lon, lat] = center;
  const layers = visibleKinds.map(encodeURIComponent).join(',');
  return `#map=${zoom.toFixed(2)}/${lat.toFixed(5)}/${lon.toFixed(5)}&layers=${layers}`;
}

/**
 * Keeps the hash in step with the map: `getState()` returns {zoom, center, visibleKinds}; call
 * the returned `update()` after anything that changes the state. `onExternalChange(state)` is
 * called when the user edits the hash or navigates back/forward.
 */
export function syncHash(getState, onExternalChange) {
  let written = window.location.hash;
  const update = () => {
    const { zoom, center, visibleKinds } = getState();
    const hash = formatHash({ zoom, center }, visibleKinds);
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
