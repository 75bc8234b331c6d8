// The key desk's dates: the due date proposed from the loan term, and the
// date field's value to and from an instant (the end of that day in the
// site's time zone, whatever the desk's own clock is set to: a key due on
// the 16th is due by 23:59 of the 16th where the keys are).
import { dayKey } from "../../lib/time";

export function proposedDue(now: number, loanDays: number): number {
  return now + loanDays * 86_400_000;
}

/** The day of an instant in the site's time zone, as the date field wants it. */
export function toDateInput(ms: number, timeZone?: string | null): string {
  return dayKey(ms, timeZone);
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

/** The end (23:59) of the chosen day in the site's time zone; null for an
 * empty or malformed field. */
export function fromDateInput(value: string, timeZone?: string | null): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 0);
  // The offset at the guess, then at the answer (a day the clocks change).
  const guess = wall - zoneOffset(wall, timeZone);
  return wall - zoneOffset(guess, timeZone);
}
