// Names, colours and formatting of problem reports (问题): statuses of the lifecycle
// (挂账销号: reported → assigned → rectified → verified → closed), close reasons, times in the
// city's time zone and distances.

/** The statuses in lifecycle order, with the marker colour of each. */
export const STATUSES = [
  { code: 'reported', zh: '已上报', en: 'Reported', colour: '#f08c00' },
  { code: 'assigned', zh: '已交办', en: 'Assigned', colour: '#1c7ed6' },
  { code: 'rectified', zh: '已整改', en: 'Rectified', colour: '#7048e8' },
  { code: 'verified', zh: '已复核', en: 'Verified', colour: '#0ca678' },
  { code: 'closed', zh: '已销号', en: 'Closed', colour: '#868e96' },
];

/** Ring and halo of problems past their deadline. */
export const OVERDUE_COLOUR = '#e03131';

const STATUS_BY_CODE = new Map(STATUSES.map((s) => [s.code, s]));

/** {code, zh, en, colour} of a status code (unknown codes are shown as they are). */
export const statusInfo = (code) =>
  STATUS_BY_CODE.get(code) || { code, zh: String(code ?? '–'), en: '', colour: '#495057' };

const CLOSE_REASONS = {
  resolved: ['已解决', 'resolved'],
  invalid: ['无效', 'invalid'],
  duplicate: ['重复', 'duplicate'],
};

/** '已解决 resolved' for a close reason code. */
export function closeReasonText(reason) {
  const names = CLOSE_REASONS[reason];
  return names ? `${names[0]} ${names[1]}` : String(reason ?? '');
}

/** The city's time zone: times are shown as people there read them. */
export const TIME_ZONE = 'Asia/Shanghai';

const DATE_TIME = new Intl.DateTimeFormat('zh-CN', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

/** '2026/11/22 10:46' for an RFC 3339 time, '–' for none. */
export function formatTime(iso) {
  if (!iso) return '–';
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? String(iso) : DATE_TIME.format(t);
}

/** '12 米' / '1.2 公里' for metres. */
export function formatDistance(m) {
  if (!Number.isFinite(m)) return '–';
  return m < 1000 ? `${Math.round(m)} 米` : `${(m / 1000).toFixed(1)} 公里`;
}

/** The YYYY-MM-DD after `day` (YYYY-MM-DD). */
export function nextDay(day) {
  const t = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(t.getTime())) return day;
  t.setUTCDate(t.getUTCDate() + 1);
  return t.toISOString().slice(0, 10);
}
