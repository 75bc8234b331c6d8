// The key desk in a DOM, with the shell replaced by Tauri's IPC mock: a
// loan made elsewhere reloads the customer shown, and must leave alone the
// e-mail field, where the clerk is typing the next customer's address. The
// real shell is driven end to end in tests/tests/app_things.rs.
import { fireEvent, render, screen } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import KeyDesk from "./KeyDesk.svelte";
import type { Customer, DeviceInfo, KeyShelf, Loan } from "../../bindings";
import { mockAnswers, typeAndSubmit, unmockShell } from "../../../tests/shell";

const device: DeviceInfo = { role: "key-desk", device_name: "Key desk", person: null, person_name: null, site_name: "Lodge House", time_zone: "UTC", server: null, marshal: false, site: null };

const shelf = { keys: [], types: [], affiliations: [], departments: [] } as unknown as KeyShelf;

const loan = (label: string): Loan => ({ id: `l-${label}`, key: `k-${label}`, label, key_type: "office", customer: "p-anna", customer_name: "Anna Kowalska", out_at: 0, due_at: 86_400_000, closed_at: null, state: "out", renewals: 0, overdue: false });

let anna: Customer;

beforeEach(() => {
  anna = { person: { id: "p-anna", name: "Anna Kowalska", email: "anna@lodge.example" } as Customer["person"], loans: [loan("Room 101")], exceptions: [] };
  mockAnswers({ key_shelf: shelf, loans: [], find_customer: () => anna });
});

afterEach(unmockShell);

describe("key desk", () => {
  it("keeps the e-mail being typed when a change reloads the customer shown", async () => {
    render(KeyDesk, { props: { device } });
    const field = await typeAndSubmit("Customer's e-mail", "anna@lodge.example");
    expect(await screen.findByText("Room 101")).toBeTruthy();
    await fireEvent.input(field, { target: { value: "bo" } });
    // A key lent to her at another desk: the reload shows it.
    anna = { ...anna, loans: [loan("Room 101"), loan("Garage")] };
    await emit("store-changed", { areas: ["keys"], remote: true });
    expect(await screen.findByText("Garage")).toBeTruthy();
    expect(field.value).toBe("bo");
  });
});
