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
