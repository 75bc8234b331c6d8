// The staff screen's logic: what a person still holds, in words, and their
// history grouped by day.
import type { Holdings, PresenceEntry } from "../../bindings";

export function holdingsList(h: Holdings): string[] {
  return [...h.keys.map((k) => k.label), ...h.items.map((i) => `${i.name} ${i.asset_number}`)];
}

export type Day = { day: string; entries: PresenceEntry[] };

/** Entries (newest first) grouped by calendar day, oldest entry first within a day. */
export function historyDays(history: PresenceEntry[], day: (ms: number) => string): Day[] {
  const days: Day[] = [];
  for (const e of history) {
    const key = day(e.at);
    const last = days[days.length - 1];
    if (last && last.day === key) last.entries.unshift(e);
    else days.push({ day: key, entries: [e] });
  }
  return days;
}
