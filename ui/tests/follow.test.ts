// `follow`: a screen's first read comes after it listens, so a change that
// lands in between (a phone's whole first sync can) is not missed.
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { follow } from "../src/lib/api";

beforeEach(() => {
  mockIPC(() => null, { shouldMockEvents: true });
});

afterEach(() => clearMocks());

describe("follow", () => {
  it("listens before the first read and reloads on changes in its areas only", async () => {
    const reads: string[] = [];
    let first = true;
    const off = follow(async () => {
      reads.push("read");
      if (first) {
        first = false;
        // A change landing during the first read is heard.
        await emit("store-changed", { areas: ["equipment"], remote: true });
      }
    }, ["equipment"]);
    const stop = await off;
    await new Promise((r) => setTimeout(r, 10));
    expect(reads.length).toBe(2);
    await emit("store-changed", { areas: ["visits"], remote: true });
    await new Promise((r) => setTimeout(r, 10));
    expect(reads.length).toBe(2);
    stop();
    await emit("store-changed", { areas: ["equipment"], remote: true });
    await new Promise((r) => setTimeout(r, 10));
    expect(reads.length).toBe(2);
  });
});
