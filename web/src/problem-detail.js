// The detail of one problem (GET /api/reports/{id}) as HTML for the sheet: category, status,
// matched asset and responsible unit, district, deadline, photos and the audit trail (history).
// All values are escaped.

import { photoURL } from './api.js';
import { escape } from './html.js';
import { closeReasonText, formatDistance, formatTime, statusInfo } from './report-labels.js';

function row(zh, en, valueHtml) {
  return `<div class="popup__row"><dt>${escape(zh)}<span class="en">${escape(en)}</span></dt><dd>${valueHtml}</dd></div>`;
}

const badge = (code) => {
  const s = statusInfo(code);
  return `<span class="badge" style="--badge:${escape(s.colour)}">${escape(s.zh)}<span class="en">${escape(s.en)}</span></span>`;
};

function thumbs(hashes, alt) {
  if (!hashes || hashes.length === 0) return '';
  return `<div class="thumbs">${hashes
    .map((h) => `<a href="${escape(photoURL(h))}" target="_blank" rel="noopener"><img src="${escape(photoURL(h))}" alt="${escape(alt)}" loading="lazy" /></a>`)
    .join('')}</div>`;
}

function historyItem(entry) {
  const lines = [];
  if (entry.unit) lines.push(`交办 <span class="en">to</span> ${escape(entry.unit)}`);
  if (entry.deadline_at) lines.push(`期限 <span class="en">deadline</span> ${escape(formatTime(entry.deadline_at))}`);
  if (entry.reason) lines.push(`原因 <span class="en">reason</span> ${escape(closeReasonText(entry.reason))}`);
  if (entry.note) lines.push(`<q>${escape(entry.note)}</q>`);
  return `
    <li class="history__item">
      <div class="history__head">
        <time datetime="${escape(entry.at)}">${escape(formatTime(entry.at))}</time>
        <span class="history__actor">${escape(entry.actor)}</span>
      </div>
      <div class="history__move">${entry.from ? `${badge(entry.from)}<span class="history__arrow" aria-label="→">→</span>` : ''}${badge(entry.to)}</div>
      ${lines.map((l) => `<div class="history__line">${l}</div>`).join('')}
      ${thumbs(entry.photos, '整改照片 photo')}
    </li>`;
}

/**
 * Detail HTML for a report Feature. `context`: {category(code) → {name_zh, name_en} | undefined,
 * kindName(kind) → string, assetName(id) → string | undefined}.
 */
export function problemDetailHTML(feature, context) {
  const p = feature.properties || {};
  const category = context.category(p.category);
  const asset = p.asset;
  const rows = [];
  if (p.description) rows.push(row('描述', 'Description', escape(p.description)));
  rows.push(row('匹配对象', 'Asset', asset
    ? `${escape(asset.name || asset.id)} <span class="muted">${escape(context.kindName(asset.kind))} · ${escape(formatDistance(asset.distance_m))}</span>`
    : '<span class="muted">未匹配 no asset in reach</span>'));
  rows.push(row('责任单位', 'Responsible unit', escape(p.unit || '–')));
  if (p.matched_unit && p.matched_unit !== p.unit) rows.push(row('原匹配单位', 'Matched unit', escape(p.matched_unit)));
  rows.push(row('所属区', 'District', escape(p.district || '–')));
  rows.push(row('整改期限', 'Deadline', p.deadline_at
    ? `${escape(formatTime(p.deadline_at))}${p.overdue ? ' <span class="overdue-flag">已超期 overdue</span>' : ''}`
    : '<span class="muted">未交办 not assigned</span>'));
  rows.push(row('上报', 'Reported', `${escape(formatTime(p.reported_at))} · ${escape(p.reporter || '–')}`));
  if (p.observed_at && p.observed_at !== p.reported_at) rows.push(row('发现时间', 'Observed', escape(formatTime(p.observed_at))));
  if (p.permitted_zone) {
    const zone = context.assetName(p.permitted_zone) || p.permitted_zone;
    rows.push(row('允许区域', 'Permitted zone', `位于 ${escape(zone)} 内 <span class="muted">(permitted here)</span>`));
  }
  if (p.duplicate_of) rows.push(row('重复于', 'Duplicate of', `<a href="#" data-problem="${escape(p.duplicate_of)}">#${escape(p.duplicate_of)}</a>`));
  if (p.close_reason) rows.push(row('销号原因', 'Closed as', escape(closeReasonText(p.close_reason))));

  const history = [
    { at: p.reported_at, actor: p.reporter, from: null, to: 'reported', photos: [] },
    ...(p.history || []),
  ];
  return `
    <article class="problem" data-id="${escape(p.id)}" data-status="${escape(p.status)}">
      <header class="problem__header">
        <div class="problem__badges">${badge(p.status)}${p.overdue ? '<span class="badge badge--overdue">超期<span class="en">overdue</span></span>' : ''}</div>
        <h3 class="problem__category">${escape(category ? category.name_zh : p.category)}<span class="en">${escape(category ? category.name_en : '')}</span></h3>
      </header>
      <dl class="popup__props">${rows.join('')}</dl>
      ${p.photos && p.photos.length ? `<h4>照片 <span class="en">Photos</span></h4>${thumbs(p.photos, '问题照片 photo')}` : ''}
      <h4>处置记录 <span class="en">History</span></h4>
      <ol class="history">${history.map(historyItem).join('')}</ol>
    </article>`;
}
