// A wedge reader is told apart from a person by speed alone.
import { describe, expect, it } from "vitest";
import { WedgeDetector } from "../src/lib/wedge";

function typeAll(d: WedgeDetector, keys: string[], start: number, gap: number) {
  return keys.map((k, i) => d.feed(k, start + i * gap));
}

describe("WedgeDetector", () => {
  it("reads a UID typed fast and ended with Enter", () => {
    const d = new WedgeDetector();
    const results = typeAll(d, [..."04a224b15c8001", "Enter"], 1000, 8);
    expect(results.at(-1)).toEqual({ kind: "card", uid: "04A224B15C8001" });
    expect(results.slice(0, -1).every((r) => r.kind === "none")).toBe(true);
  });

  it("ignores a person typing the same digits", () => {
    const d = new WedgeDetector();
    expect(typeAll(d, [..."04a224b1", "Enter"], 0, 180).at(-1)).toEqual({ kind: "none" });
  });

  it("ignores fast bursts that are too short, odd or not hex", () => {
    const d = new WedgeDetector();
    expect(typeAll(d, [..."04a2", "Enter"], 0, 5).at(-1)).toEqual({ kind: "none" });
    expect(typeAll(d, [..."04a224b15", "Enter"], 100, 5).at(-1)).toEqual({ kind: "none" });
    expect(typeAll(d, [..."04a2zzb1", "Enter"], 200, 5).at(-1)).toEqual({ kind: "none" });
  });

  it("starts over after a pause, so slow digits before a scan do not stick to it", () => {
    const d = new WedgeDetector();
    typeAll(d, [..."12"], 0, 300);
    expect(typeAll(d, [..."DEADBEEF", "Enter"], 2000, 6).at(-1)).toEqual({ kind: "card", uid: "DEADBEEF" });
  });
});
