// Every language has every string, with the same placeholders, and the
// plural forms its grammar needs; every key the screens use exists.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LANGUAGES, resources, type Messages } from "../src/lib/i18n.svelte";
import { FIELD_PROBLEMS } from "../src/features/kiosk/guest-form";
import { COMMANDS, COUNTED, KINDS, MEASURED, RULES } from "../src/lib/attention";

const PLURAL = /_(zero|one|two|few|many|other)$/;

function flatten(m: Messages, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(m)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "string") out.set(key, v);
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
  }
  return out;
}

const base = (key: string) => key.replace(PLURAL, "");
const placeholders = (s: string) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

const english = flatten(resources.en);
const englishBases = new Set([...english.keys()].map(base));
const pluralBases = new Set([...english.keys()].filter((k) => PLURAL.test(k)).map(base));

describe.each(LANGUAGES.map((l) => l.code))("%s", (code) => {
  const strings = flatten(resources[code]);

  it("has every string, none empty, none extra", () => {
    const bases = new Set([...strings.keys()].map(base));
    const missing = [...englishBases].filter((k) => !bases.has(k));
    const extra = [...bases].filter((k) => !englishBases.has(k));
    expect(missing).toEqual([]);
    expect(extra).toEqual([]);
    for (const [k, v] of strings) expect(v.trim(), k).not.toBe("");
  });

  it("has each plural form its language needs", () => {
    const categories = new Intl.PluralRules(code).resolvedOptions().pluralCategories;
    for (const key of pluralBases) {
      for (const c of categories) expect(strings.has(`${key}_${c}`), `${key}_${c}`).toBe(true);
    }
  });

  it("keeps the placeholders of the English strings", () => {
    for (const [k, v] of strings) {
      const en = english.get(k) ?? english.get(`${base(k)}_other`) ?? "";
      expect(placeholders(v), k).toEqual(placeholders(en));
    }
  });
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f: string) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === "bindings" ? [] : sources(p);
    return /\.(ts|svelte)$/.test(f) ? [p] : [];
  });
}

describe("the screens", () => {
  it("use only keys that exist", () => {
    const used = new Set<string>();
    for (const file of sources(join(process.cwd(), "src"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/\bt\(\s*"([a-z0-9.-]+)"/g)) used.add(m[1]);
    }
    // Keys built from values.
    for (const role of ["kiosk", "reception", "staff", "worker", "key-desk", "admin"]) used.add(`role.${role}`);
    for (const s of ["admin", "reception", "rollcall", "keydesk", "worker", "kiosk", "staff"]) used.add(`screen.${s}`);
    for (const s of ["missing", "safe", "not-here"]) used.add(`rollcall.standing.${s}`);
    for (const s of ["new", "in-progress", "stalled", "resolved"]) used.add(`repair.state.${s}`);
    for (const s of ["returned", "lost", "paid", "voided", "out"]) used.add(`keys.state.${s}`);
    for (const s of ["return", "renew", "lost", "paid"]) used.add(`keys.done-${s}`);
    for (const s of ["dashboard", "equipment", "repairs", "keys", "cards", "settings", "people", "devices"]) used.add(`admin.tab.${s}`);
    for (const c of ["offline", "connecting", "syncing", "online", "revoked"]) used.add(`sync.${c}`);
    for (const r of ["mistake", "duplicate", "abuse", "other"]) used.add(`reception.reason-${r}`);
    for (const k of ["guest", "staff"]) used.add(`evacuation.${k}`);
    for (const k of ["card-on-two-visits", "visit-admitted-twice", "key-lent-twice", "over-key-limit", "signed-in-twice", "taken-in-workshop"]) used.add(`conflicts.kind.${k}`);
    for (const [field, problem] of FIELD_PROBLEMS) used.add(`kiosk.problem.${field}.${problem}`);
    for (const r of RULES) used.add(`attention.rule.${r}`);
    for (const k of KINDS) used.add(`attention.kind.${k}`);
    for (const c of COUNTED) used.add(`attention.counted.${c}`);
    for (const m of MEASURED) used.add(`attention.measured.${m}`);
    for (const c of COMMANDS) used.add(`attention.command.${c}`);
    const missing = [...used].filter((k) => !englishBases.has(k));
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThan(100);
  });
});

describe("counted words", () => {
  it("agree with the number in every language", async () => {
    const { setLanguage, t } = await import("../src/lib/i18n.svelte");
    setLanguage("en");
    expect(t("admin.keys-out", { count: 1 })).toBe("key out");
    expect(t("admin.keys-out", { count: 0 })).toBe("keys out");
    setLanguage("pl");
    expect([1, 2, 5, 22].map((count) => t("admin.keys-out", { count }))).toEqual(["wydany klucz", "wydane klucze", "wydanych kluczy", "wydane klucze"]);
    setLanguage("uk");
    expect([1, 3, 11].map((count) => t("admin.guests-in", { count }))).toEqual(["гість у будівлі", "гості в будівлі", "гостей у будівлі"]);
    setLanguage("ru");
    expect([1, 2, 5].map((count) => t("admin.open-conflicts", { count }))).toEqual(["открытый конфликт", "открытых конфликта", "открытых конфликтов"]);
    setLanguage("en");
  });
});
