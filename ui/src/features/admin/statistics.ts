// The statistics' figures as the charts and their tables show them: the
// default period (the last seven days on the site's calendar), each day's
// label in the screen's language, and the series each chart draws.
import type { Statistics } from "../../bindings";
import { dayKey } from "../../lib/time";

/** One line or set of bars: a name already translated, one value per label. */
export interface Series {
  name: string;
  values: number[];
}

/** The figures of a day the daily charts draw, in their order. */
export const DAILY = ["visits_registered", "visits_admitted", "sign_ins", "people_signed_in"] as const;
export const THINGS = ["keys_lent", "items_taken", "tickets_opened", "tickets_resolved"] as const;
export type Figure = (typeof DAILY)[number] | (typeof THINGS)[number];

/** The last `days` days up to today on the site's calendar, as date fields' values. */
export function lastDays(now: number, timeZone: string | null, days = 7): { from: string; to: string } {
  const to = dayKey(now, timeZone);
  const [y, m, d] = to.split("-").map(Number);
  const from = new Date(Date.UTC(y, m - 1, d - (days - 1))).toISOString().slice(0, 10);
  return { from, to };
}

/** A `YYYY-MM-DD` day as the language writes a short date ("3 Dec", "3 гру"). */
export function dayLabel(day: string, lang: string): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", timeZone: "UTC" }).format(Date.UTC(y, m - 1, d));
}

/** The series of the chosen figures, one value per day of the period. */
export function daily(stats: Statistics, figures: readonly Figure[], name: (f: Figure) => string): Series[] {
  return figures.map((f) => ({ name: name(f), values: stats.days.map((d) => Number(d[f])) }));
}

/** The hours of the day as labels, 24-hour: "00"…"23". */
export function hourLabels(): string[] {
  return Array.from({ length: 24 }, (_, h) => String(h).padStart(2, "0"));
}
