// Times in the site's time zone and the chosen language's format, 24-hour
// in every language the app speaks (its sites keep 24-hour clocks).

let zone: string | null = null;

/** The site's time zone, set when the device learns its site. */
export function setSiteZone(timeZone: string | null): void {
  zone = timeZone;
}

/** The site's time zone, when known. */
export function siteZone(): string | null {
  return zone;
}

export function formatTime(ms: number, lang: string, timeZone?: string | null): string {
  return new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: timeZone ?? undefined }).format(ms);
}

export function formatDay(ms: number, lang: string, timeZone?: string | null): string {
  return new Intl.DateTimeFormat(lang, { weekday: "short", day: "numeric", month: "short", timeZone: timeZone ?? undefined }).format(ms);
}

export function formatDateTime(ms: number, lang: string, timeZone?: string | null): string {
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short", hourCycle: "h23", timeZone: timeZone ?? undefined }).format(ms);
}

/** The calendar day of an instant in a time zone, as `YYYY-MM-DD`, for grouping. */
export function dayKey(ms: number, timeZone?: string | null): string {
  // From the parts, not a locale's format: a webview without en-CA's data
  // writes 12/16/2026, which no date field reads.
  const parts = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: timeZone ?? undefined }).formatToParts(ms);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** How far the zone's clock is ahead of UTC at an instant, in ms. */
function zoneOffset(ms: number, timeZone?: string | null): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: timeZone ?? undefined,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(ms);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second"));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant a date field's day (`YYYY-MM-DD`) shows `hour:minute` on the
 * clocks of the time zone; null for an empty or malformed field. */
export function wallClock(value: string, hour: number, minute: number, timeZone?: string | null): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), hour, minute, 0);
  // The offset at the guess, then at the answer (a day the clocks change).
  const guess = wall - zoneOffset(wall, timeZone);
  return wall - zoneOffset(guess, timeZone);
}

/** The day after a date field's day, as a date field's value. */
export function nextDay(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return value;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1)).toISOString().slice(0, 10);
}
