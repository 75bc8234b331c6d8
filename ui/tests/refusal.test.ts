// Refusals in the screen's language: every kind the core can send has words
// (the kinds are read from the generated bindings, so a new kind without
// words fails here), and values are said as the site would: names as they
// are, times in the site's zone on a 24-hour clock.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Refusal } from "../src/bindings";
import { LANGUAGES, resources, setLanguage, type Messages } from "../src/lib/i18n.svelte";
import { refusalWords } from "../src/lib/refusal";
import { setSiteZone } from "../src/lib/time";

const bindings = join(__dirname, "..", "src", "bindings");
const read = (name: string) => readFileSync(join(bindings, `${name}.ts`), "utf8");

/** Each area and the kinds its refusal type can carry, from the bindings. */
function kindsByArea(): Map<string, string[]> {
  const areas = [...read("Reason").matchAll(/"area": "([a-z-]+)", "refusal": (\w+)/g)];
  const out = new Map<string, string[]>();
  for (const [, area, type] of areas) {
    if (area === "denied" || area === "invalid") continue;
    // The server's refusals: a kind alone, a union of strings.
    if (area === "server") {
      out.set(area, [...read(type).matchAll(/"([a-z-]+)"/g)].map((m) => m[1]));
      continue;
    }
    out.set(area, [...read(type).matchAll(/"kind": "([a-z-]+)"/g)].map((m) => m[1]).filter((k) => k !== "denied" && k !== "invalid"));
  }
  return out;
}

const has = (m: Messages, path: string[]): boolean => {
  let node: string | Messages | undefined = m;
  for (const p of path) node = typeof node === "object" ? node[p] : undefined;
  return typeof node === "string" && node.trim() !== "";
};

const refusal = (area: string, kind: string, values: unknown, message = "the core's words"): Refusal =>
  ({ message, fields: [], remedy: null, reason: { area, refusal: { kind, values } } }) as unknown as Refusal;

afterEach(() => {
  setLanguage("en");
  setSiteZone(null);
});

describe("refusals", () => {
  it("reads every area's kinds from the bindings", () => {
    const areas = kindsByArea();
    expect([...areas.keys()].sort()).toEqual(["announcement", "equipment", "keys", "person", "presence", "repair", "roll-call", "server", "site", "statistics", "visit"]);
    expect(areas.get("visit")).toContain("card-in-use");
    expect(areas.get("server")).toContain("bad-contact");
  });

  it.each(LANGUAGES.map((l) => l.code))("has words for every kind in %s", (code) => {
    const missing: string[] = [];
    for (const [area, kinds] of kindsByArea()) for (const kind of kinds) if (!has(resources[code], ["refusal", area, kind])) missing.push(`${area}.${kind}`);
    expect(missing).toEqual([]);
  });

  it("says the server's refusal by its kind, with the server's words where only it knows them", () => {
    const server = (kind: string, message: string): Refusal => ({ message, fields: [], remedy: null, reason: { area: "server", refusal: kind } }) as unknown as Refusal;
    setLanguage("pl");
    expect(refusalWords(server("bad-code", "This code is not right"))).toBe("Ten kod jest błędny, został już użyty lub wygasł. Sprawdź go albo poproś o nowy.");
    expect(refusalWords(server("bad-guest", "The name is empty."))).toBe("Dane gościa zostały odrzucone: The name is empty.");
    setLanguage("en");
    // In English the server's own words are the whole sentence.
    expect(refusalWords(server("channel-not-set-up", "This site has no Slack webhook."))).toBe("This site has no Slack webhook.");
  });

  it("says a refusal in the screen's language, with its values", () => {
    const r = refusal("visit", "card-not-for-guests", { card: 705, card_type: "Admin" });
    expect(refusalWords(r)).toBe("Card 705 is of the type “Admin”, which guests do not get. Take a guest card.");
    setLanguage("pl");
    const pl = refusalWords(r);
    expect(pl).toContain("705");
    expect(pl).toContain("Admin");
    expect(pl).not.toBe(refusalWords({ ...r, reason: null }));
  });

  it("says a time in the site's zone on a 24-hour clock", () => {
    setSiteZone("Europe/Warsaw");
    // 13:05 UTC on 3 December 2026 is 14:05 in Warsaw.
    const since = Date.UTC(2026, 11, 3, 13, 5);
    const said = refusalWords(refusal("presence", "already-in", { name: "Anna Kowalska", since }));
    expect(said).toContain("Anna Kowalska");
    expect(said).toContain("14:05");
    expect(said).not.toMatch(/PM|UTC/);
  });

  it("says an item refused inside a repair as the equipment's refusal", () => {
    const r = refusal("repair", "item", { kind: "asset-number-in-use", values: "P-1" });
    const said = refusalWords(r);
    expect(said).toBe(refusalWords(refusal("equipment", "asset-number-in-use", "P-1")));
    expect(said).toContain("P-1");
  });

  it("says when a running roll call started in the site's zone", () => {
    setSiteZone("Europe/Warsaw");
    const said = refusalWords(refusal("roll-call", "already-running", { roll_call: "x", started_at: Date.UTC(2026, 11, 3, 13, 5) }));
    expect(said).toContain("14:05");
    expect(said).toContain("already running");
  });

  it("says a period of statistics that cannot be counted with its values, in Polish too", () => {
    expect(refusalWords(refusal("statistics", "too-long", { max: 366 }))).toContain("366 days");
    expect(refusalWords(refusal("statistics", "not-a-day", "2026-13-40"))).toContain("“2026-13-40”");
    setLanguage("pl");
    expect(refusalWords(refusal("statistics", "backwards", null))).toBe("Okres kończy się, zanim się zaczyna.");
  });

  it("names a role refused in the screen's language", () => {
    setLanguage("pl");
    const said = refusalWords(refusal("keys", "denied", { role: "kiosk", action: "lend keys" }));
    expect(said).toContain((resources.pl.role as Messages).kiosk as string);
  });

  it("keeps the core's words for a failure with no kind, and for a kind this build does not know", () => {
    expect(refusalWords({ message: "The store failed.", reason: null })).toBe("The store failed.");
    expect(refusalWords(refusal("visit", "a-kind-from-a-newer-core", 1, "Newer words."))).toBe("Newer words.");
  });
});
