// "Needs attention": every rule the server can refuse a change by has words
// in every language, made from the refusal's values (never the server's
// English), and a refused change says what it was.
import { afterAll, describe, expect, it } from "vitest";
import type { RefusedChange, SyncRefusal } from "../src/bindings";
import { COMMANDS, COUNTED, KINDS, MEASURED, RULES, changeText, refusalText } from "../src/lib/attention";
import { LANGUAGES, resources, setLanguage, t } from "../src/lib/i18n.svelte";

// One of each rule, typed: a rule added in Rust must be added here.
const SAMPLES: { [R in SyncRefusal["rule"]]: Extract<SyncRefusal, { rule: R }> } = {
  "foreign-actor": { rule: "foreign-actor", actor: "ab12cd" },
  "role-may-not-write": { rule: "role-may-not-write", role: "worker", kind: "person" },
  "not-visible": { rule: "not-visible", role: "staff", kind: "presence" },
  "fields-not-allowed": { rule: "fields-not-allowed", role: "worker", kind: "equipment", allowed: "custody", touched: "name" },
  "kiosk-creates-only": { rule: "kiosk-creates-only" },
  "key-desk-adds-customers-only": { rule: "key-desk-adds-customers-only" },
  "kiosk-visit-not-waiting": { rule: "kiosk-visit-not-waiting" },
  "header-changed": { rule: "header-changed" },
  "other-site": { rule: "other-site" },
  "id-mismatch": { rule: "id-mismatch", found: "visit:42" },
  "owner-mismatch": { rule: "owner-mismatch", owner: "person:7" },
  "history-rewritten": { rule: "history-rewritten", kind: "repair", list: "states" },
  "other-persons-entry": { rule: "other-persons-entry" },
  "ticket-moved-by-worker": { rule: "ticket-moved-by-worker" },
  "announcement-from-desk-only": { rule: "announcement-from-desk-only" },
  "purged-changes": { rule: "purged-changes" },
  "may-not-purge": { rule: "may-not-purge", role: "kiosk", kind: "visit" },
  malformed: { rule: "malformed", reason: "bad heads" },
  "bloom-filter": { rule: "bloom-filter", entries: 5, bits_per_entry: 0, probes: 7 },
  "chunk-type": { rule: "chunk-type", chunk_type: 9 },
  "too-many": { rule: "too-many", what: "documents", count: 5000, max: 256 },
  "too-large": { rule: "too-large", what: "field", bytes: 70000, max: 65536 },
  unreadable: { rule: "unreadable" },
};

// The values a refusal's words must carry, as they are shown.
function shownValues(r: SyncRefusal): string[] {
  return Object.entries(r).flatMap(([k, v]) => {
    if (k === "rule") return [];
    if (k === "role") return [t(`role.${String(v)}`)];
    if (k === "kind") return [t(`attention.kind.${String(v)}`)];
    if (k === "what") return [t(`attention.${r.rule === "too-many" ? "counted" : "measured"}.${String(v)}`)];
    return [String(v)];
  });
}

afterAll(() => setLanguage("en"));

describe.each(LANGUAGES.map((l) => l.code))("in %s", (code) => {
  it("every refusal reads as words with all its values", () => {
    setLanguage(code);
    expect([...RULES].sort()).toEqual(Object.keys(SAMPLES).sort());
    for (const r of Object.values(SAMPLES) as SyncRefusal[]) {
      const text = refusalText(r);
      expect(text, r.rule).not.toContain("{{");
      expect(text, r.rule).not.toContain("attention.");
      expect(text.trim().length, r.rule).toBeGreaterThan(10);
      for (const v of shownValues(r)) expect(text, `${r.rule}: ${v}`).toContain(v);
    }
  });

  it("has words for every kind, count, measure and command", () => {
    setLanguage(code);
    const keys = [
      ...KINDS.map((k) => `attention.kind.${k}`),
      ...COUNTED.map((k) => `attention.counted.${k}`),
      ...MEASURED.map((k) => `attention.measured.${k}`),
      ...COMMANDS.map((k) => `attention.command.${k}`),
      ...RULES.map((k) => `attention.rule.${k}`),
    ];
    for (const key of keys) expect(t(key), key).not.toBe(key);
  });
});

describe("the words", () => {
  it("are the language's own, not the English ones", () => {
    setLanguage("en");
    const english = refusalText(SAMPLES["ticket-moved-by-worker"]);
    expect(english).toBe("A worker opens tickets as new and adds notes; moving a ticket is for technicians and the admin.");
    expect(refusalText(SAMPLES["too-many"])).toBe("5000 documents, more than the 256 allowed.");
    expect(refusalText(SAMPLES["role-may-not-write"])).toBe("A worker device may not change people.");
    for (const code of ["pl", "uk", "ru"] as const) {
      setLanguage(code);
      expect(refusalText(SAMPLES["ticket-moved-by-worker"])).not.toBe(english);
    }
  });

  it("say what the refused change was, a command unknown here by its name", () => {
    setLanguage("en");
    const change: RefusedChange = { doc: "equipment:1", kind: "equipment", refusal: SAMPLES["ticket-moved-by-worker"], refused_at: 0, commands: ["activate_equipment", "made_up"] };
    expect(changeText(change)).toBe("equipment: take an item, made_up");
    expect(changeText({ ...change, kind: "visit", commands: [] })).toBe("guest visits: deletion");
    expect(Object.keys(resources.en)).toContain("attention");
  });
});
