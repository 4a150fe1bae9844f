// The feature popup: HTML (so any text shows, Latin included), built from the feature's own
// properties as civmap served them. All values are escaped.

import { escape } from './html.js';

// The properties every asset has, shown first and in this order.
const CORE = ['id', 'kind', 'name', 'district', 'unit'];

// Labels for free properties the demo city uses; other properties show under their own key.
const PROPERTY_LABELS = {
  class: ['等级', 'Class'],
  lanes: ['车道数', 'Lanes'],
  oneway: ['单行', 'One-way'],
  roads: ['相交道路', 'Roads'],
  main: ['主要路口', 'Main'],
  capacity: ['泊位', 'Capacity'],
  parking_kind: ['类型', 'Type'],
  community: ['社区', 'Community'],
  market_kind: ['类型', 'Type'],
  road: ['所在道路', 'Road'],
  lines: ['线路', 'Lines'],
  length_m: ['长度', 'Length'],
  area_m2: ['面积', 'Area'],
  stalls: ['摊位', 'Stalls'],
  category: ['类别', 'Category'],
  serves: ['服务对象', 'Serves'],
  direction: ['方向', 'Direction'],
  side: ['所在侧', 'Side'],
  unit_id: ['单位编号', 'Unit ID'],
  adcode: ['区划代码', 'Admin code'],
  provenance: ['数据来源', 'Provenance'],
};

// Units for numeric free properties.
const UNITS = { length_m: ' 米 m', area_m2: ' 平方米 m²', capacity: ' 个 bays', stalls: ' 个' };

const VALUE_LABELS = {
  main: '主干道 main',
  secondary: '次干道 secondary',
  lot: '停车场 lot',
  on_street: '路内停车位 on-street',
  reference: '参考资料 reference',
};

function formatValue(value) {
  if (value === null || value === undefined || value === '') return '–';
  if (typeof value === 'boolean') return value ? '是 yes' : '否 no';
  if (Array.isArray(value)) return value.map(formatValue).join('、');
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'string' && VALUE_LABELS[value]) return VALUE_LABELS[value];
  return String(value);
}

function row(zh, en, valueHtml, className = '') {
  return `<div class="popup__row ${className}"><dt>${escape(zh)}<span class="en">${escape(en)}</span></dt><dd>${valueHtml}</dd></div>`;
}

/**
 * Popup HTML for `feature` (properties as served by civmap). `layer` is its catalogue entry
 * ({name_zh, name_en, colour}) or undefined for a kind the page does not know.
 */
export function popupHTML(feature, layer) {
  const p = feature.properties || {};
  const kindZh = layer ? layer.name_zh : p.kind;
  const kindEn = layer ? layer.name_en : '';
  const colour = layer ? layer.colour : '#607d8b';
  const rows = [
    row('所属区', 'District', escape(formatValue(p.district))),
    row('包联单位', 'Responsible unit', escape(formatValue(p.unit))),
  ];
  for (const [key, value] of Object.entries(p)) {
    if (CORE.includes(key) || key.startsWith('_')) continue;
    const [zh, en] = PROPERTY_LABELS[key] || [key, ''];
    const text = typeof value === 'number' && UNITS[key]
      ? `${value.toLocaleString('zh-CN')}${UNITS[key]}`
      : formatValue(value);
    rows.push(row(zh, en, escape(text), 'popup__row--extra'));
  }
  rows.push(row('编号', 'ID', `<code>${escape(formatValue(p.id))}</code>`));
  return `
    <article class="popup" data-kind="${escape(p.kind ?? '')}" data-id="${escape(p.id ?? '')}">
      <header class="popup__header">
        <span class="popup__kind" style="--swatch:${escape(colour)}">${escape(kindZh ?? '')}<span class="en">${escape(kindEn ?? '')}</span></span>
        <h3 class="popup__name">${escape(p.name || '（未命名）')}</h3>
      </header>
      <dl class="popup__props">${rows.join('')}</dl>
    </article>`;
}
