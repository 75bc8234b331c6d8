// The screens' logic: the guest form, a card read at reception, the staff
// history and holdings, the "not yet sent" mark.
import { describe, expect, it } from "vitest";
import type { CardRead, FieldError, Refusal, Visit } from "../src/bindings";
import { emptyDraft, problemKey, toForm, visibleErrors } from "../src/features/kiosk/guest-form";
import { cardAction } from "../src/features/reception/card-action";
import { setLanguage } from "../src/lib/i18n.svelte";
import { historyDays, holdingsList } from "../src/features/staff/presence";
import { notYetSent } from "../src/lib/sync.svelte";

const err = (field: FieldError["field"], problem: FieldError["problem"]): FieldError => ({ field, problem, message: "" });

describe("the guest form", () => {
  it("sends empty optional fields as nothing and keeps what was typed", () => {
    const d = { ...emptyDraft(), name: " Ada ", email: "  ", phone: "+48 600 100 200", purpose: "" };
    const f = toForm(d);
    expect(f.email).toBeNull();
    expect(f.purpose).toBeNull();
    expect(f.phone).toBe("+48 600 100 200");
    expect(f.name).toBe(" Ada ");
    expect(f.consent).toBe(false);
  });

  it("shows only the errors of fields the guest has left, the first of each", () => {
    const errors = [err("name", "missing"), err("email", "malformed"), err("email", "no-contact"), err("consent", "not-accepted")];
    const shown = visibleErrors(errors, new Set(["email", "name"]));
    expect([...shown.keys()]).toEqual(["name", "email"]);
    expect(shown.get("email")?.problem).toBe("malformed");
    expect(visibleErrors(errors, new Set()).size).toBe(0);
    expect(problemKey(errors[0])).toBe("kiosk.problem.name.missing");
  });
});

const visit = (id: string, card: number | null): Visit => ({
  id,
  state: card === null ? { state: "waiting" } : { state: "admitted", card, since: 1 },
  guest_name: `Guest ${id}`,
  company: "Acme",
  email: null,
  phone: null,
  host: "h",
  host_name: "Host",
  purpose: "",
  registered_at: 0,
  expected_on: null,
  invitation: null,
});
const read = (number: number | null, problem: Refusal | null = null): CardRead => ({
  source: "pcsc",
  uid: "04A224B1",
  card: number === null ? null : { number, card_type: "guest", uid: "04A224B1", status: { status: "free" } },
  problem,
});

describe("a card read at reception", () => {
  it("admits the chosen guest", () => {
    expect(cardAction(read(105), "v1", [])).toEqual({ kind: "admit", visit: "v1", card: 105 });
  });
  it("takes the card back from the guest who has it when nobody is chosen", () => {
    const a = cardAction(read(105), null, [visit("v2", 104), visit("v3", 105)]);
    expect(a.kind).toBe("release");
    expect(a.kind === "release" && a.visit.id).toBe("v3");
  });
  it("holds a free card until a guest is picked", () => {
    expect(cardAction(read(106), null, [visit("v2", 104)])).toEqual({ kind: "hold", card: 106 });
  });
  it("says why an unknown card cannot be used, in the screen's language", () => {
    const unknown: Refusal = {
      message: "Card 999 is not one of this site's cards.",
      fields: [],
      remedy: null,
      reason: { area: "visit", refusal: { kind: "unknown-card", values: 999 } },
    };
    expect(cardAction(read(null, unknown), "v1", [])).toEqual({ kind: "problem", message: "Card 999 is not one of this site's cards." });
    setLanguage("pl");
    const said = cardAction(read(null, unknown), "v1", []);
    setLanguage("en");
    expect(said.kind === "problem" && said.message).toContain("999");
    expect(said.kind === "problem" && said.message).not.toBe(unknown.message);
  });
});

describe("the staff screen", () => {
  it("groups history by day, oldest first within a day", () => {
    const day = (ms: number) => (ms < 100 ? "d1" : "d2");
    const days = historyDays(
      [
        { at: 150, signed_in: false },
        { at: 120, signed_in: true },
        { at: 50, signed_in: false },
        { at: 10, signed_in: true },
      ],
      day,
    );
    expect(days.map((d) => d.day)).toEqual(["d2", "d1"]);
    expect(days[0].entries.map((e) => e.at)).toEqual([120, 150]);
  });

  it("lists keys and items held, not the person's own badge", () => {
    const h = { badge_card: 201, keys: [{ label: "M-12" }], items: [{ name: "Drill", asset_number: "D-7" }] } as never;
    expect(holdingsList(h)).toEqual(["M-12", "Drill D-7"]);
  });

  it("marks a record not yet sent while changes wait and it is newer than the last sync", () => {
    expect(notYetSent(200, { connection: "offline", waiting: 1, attention: 0, last_sync: 100, last_error: null })).toBe(true);
    expect(notYetSent(50, { connection: "offline", waiting: 1, attention: 0, last_sync: 100, last_error: null })).toBe(false);
    expect(notYetSent(200, { connection: "online", waiting: 0, attention: 0, last_sync: 100, last_error: null })).toBe(false);
    expect(notYetSent(200, null)).toBe(false);
  });
});

import { fromDateInput, proposedDue, toDateInput } from "../src/features/key-desk/due-date";
import { REPAIR_STATES, nextStates } from "../src/features/admin/repairs";

describe("the key desk", () => {
  it("proposes the due date from the loan term", () => {
    const now = new Date(2026, 10, 22, 10, 0).getTime();
    expect(toDateInput(proposedDue(now, 14))).toBe("2026-12-06");
  });
  it("reads a date field as the end of that day and refuses a malformed one", () => {
    const ms = fromDateInput("2026-12-06");
    expect(ms).not.toBeNull();
    const d = new Date(ms!);
    expect([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours()]).toEqual([2026, 11, 6, 23]);
    expect(fromDateInput("6.12.2026")).toBeNull();
    expect(fromDateInput("")).toBeNull();
  });
  it("takes the day in the site's time zone, whatever the desk's clock says", () => {
    // 23:59 in Warsaw: 22:59 UTC in winter, 21:59 UTC in summer.
    expect(new Date(fromDateInput("2026-12-16", "Europe/Warsaw")!).toISOString()).toBe("2026-12-16T22:59:00.000Z");
    expect(new Date(fromDateInput("2026-07-16", "Europe/Warsaw")!).toISOString()).toBe("2026-07-16T21:59:00.000Z");
    // The day the clocks go forward, and New York, behind UTC.
    expect(new Date(fromDateInput("2027-03-28", "Europe/Warsaw")!).toISOString()).toBe("2027-03-28T21:59:00.000Z");
    expect(new Date(fromDateInput("2026-12-16", "America/New_York")!).toISOString()).toBe("2026-12-17T04:59:00.000Z");
    // And back: 23:30 UTC on the 16th is already the 17th in Warsaw.
    expect(toDateInput(Date.UTC(2026, 11, 16, 23, 30), "Europe/Warsaw")).toBe("2026-12-17");
    expect(toDateInput(Date.UTC(2026, 11, 16, 23, 30), "America/New_York")).toBe("2026-12-16");
  });
});

describe("the repair board", () => {
  it("offers every other state but only reopening from resolved", () => {
    for (const s of REPAIR_STATES) expect(nextStates(s)).not.toContain(s);
    expect(nextStates("resolved")).toEqual(["new", "in-progress"]);
    expect(nextStates("new")).toContain("in-progress");
  });
});
