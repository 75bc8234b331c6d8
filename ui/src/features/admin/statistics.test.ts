import { describe, expect, it } from "vitest";
import type { Statistics } from "../../bindings";
import { DAILY, daily, dayLabel, hourLabels, lastDays } from "./statistics";

const stats: Statistics = {
  from: "2026-12-01",
  to: "2026-12-02",
  days: [
    { day: "2026-12-01", visits_registered: 3, visits_admitted: 2, sign_ins: 5, people_signed_in: 4, keys_lent: 1, items_taken: 0, tickets_opened: 1, tickets_resolved: 0 },
    { day: "2026-12-02", visits_registered: 0, visits_admitted: 0, sign_ins: 7, people_signed_in: 6, keys_lent: 0, items_taken: 2, tickets_opened: 0, tickets_resolved: 1 },
  ],
  in_by_hour: Array(24).fill(0),
  average_visit_minutes: 42,
  keys_out_now: 1,
  items_out_now: 2,
};

describe("statistics", () => {
  it("the last seven days end today on the site's calendar, not the device's", () => {
    // 23:30 UTC on 2 Dec is already 3 Dec in Kyiv.
    const now = Date.UTC(2026, 11, 2, 23, 30);
    expect(lastDays(now, "Europe/Kyiv")).toEqual({ from: "2026-11-27", to: "2026-12-03" });
    expect(lastDays(now, "UTC")).toEqual({ from: "2026-11-26", to: "2026-12-02" });
    expect(lastDays(Date.UTC(2026, 2, 2, 12), "UTC", 3)).toEqual({ from: "2026-02-28", to: "2026-03-02" });
  });

  it("a day is labelled in the screen's language", () => {
    expect(dayLabel("2026-12-03", "en")).toBe("Dec 3");
    expect(dayLabel("2026-12-03", "pl")).toBe("3 gru");
  });

  it("each series has one value per day, in the period's order", () => {
    const series = daily(stats, DAILY, (f) => f);
    expect(series.map((s) => s.name)).toEqual(["visits_registered", "visits_admitted", "sign_ins", "people_signed_in"]);
    expect(series[2].values).toEqual([5, 7]);
    expect(series[0].values).toEqual([3, 0]);
  });

  it("hours are 24-hour labels", () => {
    expect(hourLabels()).toHaveLength(24);
    expect(hourLabels()[0]).toBe("00");
    expect(hourLabels()[23]).toBe("23");
  });
});
