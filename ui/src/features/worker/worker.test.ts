// The worker's screen in a DOM, with the shell replaced by Tauri's IPC
// mock: a change reloads the item shown, and must leave alone the code
// field, where the worker is typing the next item's code. The real shell
// is driven end to end in tests/tests/app_things.rs.
import { fireEvent, render, screen } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Worker from "./Worker.svelte";
import type { DeviceInfo, ItemView } from "../../bindings";
import { mockAnswers, typeAndSubmit, unmockShell } from "../../../tests/shell";

const device: DeviceInfo = { role: "worker", device_name: "Phone", person: "p-olek", person_name: "Olek Nowak", site_name: "Lodge House", time_zone: "UTC", server: null, marshal: false, site: null };

let drill: ItemView;

beforeEach(() => {
  drill = { item: { id: "i-drill", name: "Cordless drill", asset_number: "EQ-0042", activation_code: "DRILL42", holder: null, holder_name: null }, history: [] } as unknown as ItemView;
  mockAnswers({ my_items: [], my_tickets: [], repair_categories: [], free_items: [], item_by_code: () => drill });
});

afterEach(unmockShell);

describe("worker", () => {
  it("keeps the code being typed when a change reloads the item shown", async () => {
    render(Worker, { props: { device } });
    const field = await typeAndSubmit("Or type the code", "DRILL42");
    expect(await screen.findByText("Cordless drill", { exact: false })).toBeTruthy();
    await fireEvent.input(field, { target: { value: "SAW" } });
    // Renamed at the workshop: the reload shows it.
    drill = { ...drill, item: { ...drill.item, name: "Cordless drill 18 V" } } as ItemView;
    await emit("store-changed", { areas: ["equipment"], remote: true });
    expect(await screen.findByText("Cordless drill 18 V", { exact: false })).toBeTruthy();
    expect(field.value).toBe("SAW");
  });
});
