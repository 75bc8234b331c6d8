// The key desk's dates: the due date proposed from the loan term, and the
// date field's value to and from an instant (the end of that day in the
// site's time zone, whatever the desk's own clock is set to: a key due on
// the 16th is due by 23:59 of the 16th where the keys are).
import { dayKey, wallClock } from "../../lib/time";

export function proposedDue(now: number, loanDays: number): number {
  return now + loanDays * 86_400_000;
}

/** The day of an instant in the site's time zone, as the date field wants it. */
export function toDateInput(ms: number, timeZone?: string | null): string {
  return dayKey(ms, timeZone);
}

/** The end (23:59) of the chosen day in the site's time zone; null for an
 * empty or malformed field. */
export function fromDateInput(value: string, timeZone?: string | null): number | null {
  return wallClock(value, 23, 59, timeZone);
}
