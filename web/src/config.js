// Deployment settings of the map. civmap works with no internet: its own layers are the base
// map. An external raster base map is optional and off by default.

/**
 * Raster tile URL template for an optional base map under civmap's layers, e.g.
 * 'https://tiles.example.cn/{z}/{x}/{y}.png'. null = none. It can also be given per visit as
 * the query parameter `?basemap=<url-encoded template>` (and `&basemap_attribution=<text>`).
 *
 * The tiles must be in WGS84 / Web Mercator (e.g. OSM, 天地图 Tianditu). Tiles of Chinese
 * commercial maps in GCJ-02 (高德, 腾讯) or BD-09 (百度) will be offset by several hundred metres
 * from civmap's WGS84 data.
 */
export const RASTER_BASEMAP_URL = null;
export const RASTER_BASEMAP_ATTRIBUTION = '';

/** The city shown in the panel title (the demo data is Langfang). */
export const CITY_NAME = '廊坊';

/** The font MapLibre draws CJK labels with (installed locally; no glyph server needed). */
export const LOCAL_IDEOGRAPH_FONT = "'Noto Sans CJK SC', sans-serif";

/** The base map raster settings for this visit: {url, attribution} or null. */
export function rasterBasemap(search = window.location.search) {
  const params = new URLSearchParams(search);
  const url = params.get('basemap') || RASTER_BASEMAP_URL;
  if (!url || !/^https?:\/\//.test(url)) return null;
  return {
    url,
    attribution: params.get('basemap_attribution') || RASTER_BASEMAP_ATTRIBUTION,
  };
}
