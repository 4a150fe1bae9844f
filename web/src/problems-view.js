// Problems on the map, wired together: the problems layer (problems.js) fed from
// GET /api/reports with the panel's filters (problem-filters.js), the count summary from
// GET /api/stats, the detail sheet of a clicked problem (problem-detail.js) and filing
// (filing.js). main.js hands clicks here first and keeps the filters in the URL hash.

import { fetchCategories, fetchReport, fetchReports, fetchStats } from './api.js';
import { setupFiling } from './filing.js';
import { problemDetailHTML } from './problem-detail.js';
import { filtersFromHash, filtersToHash, reportQuery, setupProblemFilters } from './problem-filters.js';
import {
  CLUSTER_KIND,
  PROBLEM_KIND,
  addProblemLayers,
  expandCluster,
  selectProblem,
  setProblems,
  setProblemsDisplay,
} from './problems.js';
import { setupSheet } from './sheet.js';

const EMPTY = { type: 'FeatureCollection', features: [] };

/**
 * Sets up everything about problems. `features` are the loaded assets (main.js), `params` the
 * hash's extra keys at load, `highlight(geometry | null)` outlines a matched asset,
 * `onStateChange()` runs when the hash should be rewritten. Resolves, once the first problems
 * are drawn, to {filters, collection, hashParams(), applyHash(params), handleClick(lngLat, hit),
 * isPicking(), reload(), openProblem(id), setFilters(filters), filing}.
 */
export async function setupProblems({ map, catalogue, features, geolocate, params, labelsBefore, highlight, onStateChange }) {
  const categories = await fetchCategories();
  const categoryOf = new Map(categories.map((c) => [c.code, c]));
  const kindOf = new Map(catalogue.map((l) => [l.kind, l]));
  const kindName = (kind) => (kindOf.get(kind) ? kindOf.get(kind).name_zh : kind);
  const assetById = new Map([...features.values()].map((f) => [f.properties.id, f]));

  addProblemLayers(map, { labelsBefore });

  const view = {
    categories,
    filters: filtersFromHash(params),
    /** The FeatureCollection drawn now. */
    collection: EMPTY,
    /** Id of the problem whose detail is open. */
    openId: null,
  };

  const section = document.getElementById('problems');
  const panel = setupProblemFilters(section, {
    categories,
    onChange: (filters) => apply(filters),
  });
  // District and unit choices: those of the assets, plus any the reports name (a problem can be
  // reassigned to a unit responsible for no asset).
  const districts = new Set([...features.values()].filter((f) => f.properties.kind === 'district').map((f) => f.properties.name));
  const units = new Set([...features.values()].map((f) => f.properties.unit).filter(Boolean));
  const sortZh = (set) => [...set].sort((a, b) => a.localeCompare(b, 'zh-CN'));
  const addOptions = (stats) => {
    const before = districts.size + units.size;
    // "(none)" / "(unassigned)" count reports without one; they are no filter value.
    const names = (counts) => Object.keys(counts || {}).filter((k) => !k.startsWith('('));
    for (const d of names(stats && stats.by_district)) districts.add(d);
    for (const u of names(stats && stats.by_unit)) units.add(u);
    if (!stats || districts.size + units.size !== before) panel.setOptions({ districts: sortZh(districts), units: sortZh(units) });
  };
  addOptions(null);

  // ---------- loading ----------

  // Only the latest load counts; an older one finishing late is dropped (not aborted: a
  // cancelled request would read as a failed one).
  let loads = 0;
  async function reload() {
    const load = ++loads;
    panel.setBusy(true);
    try {
      const [collection, stats] = await Promise.all([
        fetchReports(reportQuery(view.filters)),
        fetchStats(reportQuery(view.filters, { forStats: true })),
      ]);
      if (load !== loads) return;
      view.collection = collection;
      setProblems(map, collection);
      panel.setStats(stats);
      addOptions(stats);
      panel.setShown(collection.features.length);
      panel.setError(null);
    } catch (err) {
      if (load !== loads) return;
      console.error('civmap: problems could not be loaded:', err);
      panel.setError(`问题加载失败 Problems failed to load: ${err.detail || err.message}`);
      throw err;
    } finally {
      if (load === loads) panel.setBusy(false);
    }
  }

  /** Shows `filters`; refetches when they ask for other problems than those drawn. */
  function apply(filters) {
    const refetch = JSON.stringify(reportQuery(filters)) !== JSON.stringify(reportQuery(view.filters));
    view.filters = filters;
    panel.sync(filters);
    setProblemsDisplay(map, filters);
    onStateChange();
    return refetch ? reload().catch(() => {}) : Promise.resolve();
  }

  // ---------- detail ----------

  const sheet = setupSheet(document.getElementById('sheet'));
  let opens = 0;
  async function openProblem(id) {
    const open = ++opens;
    selectProblem(map, id);
    try {
      const feature = await fetchReport(id);
      if (open !== opens) return;
      const html = problemDetailHTML(feature, {
        category: (code) => categoryOf.get(code),
        kindName,
        assetName: (assetId) => assetById.get(assetId)?.properties.name,
      });
      sheet.show({ name: 'detail', title: `问题 #${id}`, content: html, onClose: closedProblem });
      sheet.reveal(map, feature.geometry.coordinates);
      view.openId = id;
      onStateChange();
      const asset = feature.properties.asset && assetById.get(feature.properties.asset.id);
      highlight(asset ? asset.geometry : null);
    } catch (err) {
      if (open !== opens) return;
      sheet.show({ name: 'detail', title: `问题 #${id}`, content: `<p class="status status--error">无法加载 Could not load: ${err.detail || err.message}</p>`, onClose: closedProblem });
    }
  }
  function closedProblem() {
    view.openId = null;
    selectProblem(map, null);
    highlight(null);
    onStateChange();
  }
  document.getElementById('sheet').addEventListener('click', (e) => {
    const link = e.target.closest('.problem [data-problem]');
    if (!link) return;
    e.preventDefault();
    openProblem(Number(link.dataset.problem));
  });

  // ---------- filing ----------

  const filing = setupFiling({
    map,
    sheet,
    template: document.getElementById('filing-template'),
    categories,
    kindName,
    knownKinds: new Set(kindOf.keys()),
    geolocate,
    onFiled: async (result) => {
      if (!view.filters.shown) apply({ ...view.filters, shown: true });
      await reload().catch(() => {});
      return view.collection.features.some((f) => f.properties.id === result.id);
    },
    onOpenProblem: openProblem,
  });
  document.getElementById('file-report').addEventListener('click', () => filing.start());

  // ---------- clicks ----------

  /**
   * Handles a map click first: while filing it sets the spot; on a problem (a pick of kind
   * 'problem' or 'problem-cluster', see problems.js) it opens the detail or zooms into the
   * cluster. True when handled.
   */
  function handleClick(lngLat, hit) {
    if (filing.isPicking()) {
      filing.setLocation(lngLat.toArray());
      return true;
    }
    if (hit && hit.kind === PROBLEM_KIND) openProblem(hit.feature.properties.id);
    else if (hit && hit.kind === CLUSTER_KIND) expandCluster(map, hit.feature);
    else return false;
    return true;
  }

  // ---------- state ----------

  const openFromHash = (hashParams) => {
    const id = Number(hashParams.get('problem'));
    if (Number.isInteger(id) && id > 0 && id !== view.openId) openProblem(id);
    else if (!hashParams.has('problem') && view.openId !== null && sheet.view() === 'detail') sheet.close();
  };

  panel.sync(view.filters);
  setProblemsDisplay(map, view.filters);
  await reload();
  openFromHash(params);

  return Object.assign(view, {
    filing,
    reload,
    openProblem,
    handleClick,
    /** True while a map click sets the filing spot. */
    isPicking: () => filing.isPicking(),
    /** The hash's [key, value] pairs: the filters and the open problem. */
    hashParams: () => [...filtersToHash(view.filters), ...(view.openId ? [['problem', String(view.openId)]] : [])],
    /** Applies the problem keys of an edited hash. */
    applyHash(hashParams) {
      apply(filtersFromHash(hashParams));
      openFromHash(hashParams);
    },
    /** Applies filters as the panel would (the browser test and other scripts use this). */
    setFilters: (filters) => apply({ ...view.filters, ...filters }),
  });
}
