// The roll call's list in groups: staff by department, guests together;
// within a group the missing first, as the core sorts them.
import type { RollCallEntry } from "../../bindings";

export type Group = { key: string; title: string; missing: number; entries: RollCallEntry[] };

/** A stable key for a person on the list. */
export const subjectKey = (e: RollCallEntry): string => (e.who.kind === "staff" ? `person:${e.who.person}` : `visit:${e.who.visit}`);

/**
 * Groups in the order the entries come (missing people first), each with
 * how many of it are still missing; a group whose people are all accounted
 * for sinks below every group with someone missing.
 */
export function groups(entries: RollCallEntry[], guests: string, noDepartment: string): Group[] {
  const byKey = new Map<string, Group>();
  for (const e of entries) {
    const key = e.who.kind === "guest" ? "guests" : `d-${e.department ?? ""}`;
    const title = e.who.kind === "guest" ? guests : (e.department ?? noDepartment);
    let g = byKey.get(key);
    if (!g) {
      g = { key: key.replace(/[^A-Za-z0-9_-]/g, "_"), title, missing: 0, entries: [] };
      byKey.set(key, g);
    }
    g.entries.push(e);
    if (e.standing === "missing") g.missing += 1;
  }
  const all = [...byKey.values()];
  for (const g of all) g.entries.sort((a, b) => Number(a.standing !== "missing") - Number(b.standing !== "missing"));
  return [...all.filter((g) => g.missing > 0), ...all.filter((g) => g.missing === 0)];
}
