import { describe, expect, it } from "vitest";
import type { RollCallEntry } from "../../bindings";
import { groups } from "./roll-call";

const entry = (name: string, standing: RollCallEntry["standing"], department: string | null, guest = false): RollCallEntry => ({
  who: guest ? { kind: "guest", visit: `v-${name}` } : { kind: "staff", person: `p-${name}` },
  name,
  department: guest ? null : department,
  company: guest ? "Acme" : null,
  card: guest ? 105 : null,
  host_name: guest ? "Anna" : null,
  standing,
  marked_at: standing === "missing" ? null : 1,
  marked_by: standing === "missing" ? null : "Marta",
});

describe("the roll call's groups", () => {
  it("keeps groups with someone missing on top and the missing first in each", () => {
    const list = [
      entry("Ala", "missing", "Engineering"),
      entry("Gosia", "missing", null, true),
      entry("Bartek", "safe", "Engineering"),
      entry("Cezary", "safe", "Kitchen"),
      entry("Dorota", "not-here", null),
    ];
    const g = groups(list, "Guests", "No department");
    expect(g.map((x) => [x.title, x.missing])).toEqual([
      ["Engineering", 1],
      ["Guests", 1],
      ["Kitchen", 0],
      ["No department", 0],
    ]);
    expect(g[0].entries.map((e) => e.name)).toEqual(["Ala", "Bartek"]);
  });
});
