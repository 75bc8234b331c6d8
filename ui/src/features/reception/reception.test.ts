// The reception screen in a DOM, with the shell replaced by Tauri's IPC
// mock: a card admits the chosen guest, and the confirmation names her even
// when the change the admission made reloads the board (without her among
// the waiting) before the command's own answer comes, as the real shell can
// do it. The real shell is driven end to end in tests/tests/app_front_desk.rs.
import { fireEvent, render, screen } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Reception from "./Reception.svelte";
import type { CardRead, DeskBoard, DeviceInfo, Visit } from "../../bindings";
import { changedBeforeAnswer, mockShell, unmockShell } from "../../../tests/shell";

const marta: Visit = {
  id: "v-marta",
  state: { state: "waiting" },
  guest_name: "Marta Wiśniewska",
  company: "Acme",
  email: null,
  phone: null,
  host: "p-anna",
  host_name: "Anna Kowalska",
  purpose: "",
  registered_at: 0,
  expected_on: null,
  invitation: null,
};

const device: DeviceInfo = { role: "reception", device_name: "Desk", person: null, person_name: null, site_name: "Lodge House", time_zone: "UTC", server: null, marshal: false, site: null };

let board: DeskBoard;

beforeEach(() => {
  board = { expected: [], waiting: [marta], guests_in: [], staff_in: [], conflicts: 0, long_waits: [] };
  mockShell(async (cmd, args) => {
    switch (cmd) {
      case "desk_board":
        return board;
      case "guest_cards":
        return [];
      case "admit": {
        const { card } = (args as { request: { card: number } }).request;
        board = { ...board, waiting: [], guests_in: [{ ...marta, state: { state: "admitted", card, since: 1 } }] };
        await changedBeforeAnswer(["visits"]);
        return null;
      }
      default:
        return null;
    }
  });
});

afterEach(unmockShell);

describe("reception", () => {
  it("names the guest a card admitted, whichever comes first: the board's reload or the answer", async () => {
    render(Reception, { props: { device } });
    await fireEvent.click(await screen.findByText("Marta Wiśniewska"));
    const read: CardRead = { source: "pcsc", uid: "04a1b2c3", card: { number: 110, card_type: "guest", uid: null, status: { status: "free" } }, problem: null };
    await emit("card-read", read);
    expect(await screen.findByText("Marta Wiśniewska is in with card 110.")).toBeTruthy();
  });
});
