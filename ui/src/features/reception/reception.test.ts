// The reception screen in a DOM, with the shell replaced by Tauri's IPC
// mock: a card admits the chosen guest, and the confirmation names her even
// when the change the admission made reloads the board (without her among
// the waiting) before the command's own answer comes, as the real shell can
// do it. The real shell is driven end to end in tests/tests/app_front_desk.rs.
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Reception from "./Reception.svelte";
import type { CardRead, DeskBoard, DeviceInfo, Visit } from "../../bindings";
import { changedBeforeAnswer, mockAnswers, unmockShell } from "../../../tests/shell";

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
  mockAnswers({
    desk_board: () => board,
    guest_cards: [],
    admit: async (args: unknown) => {
      const { card } = (args as { request: { card: number } }).request;
      board = { ...board, waiting: [], guests_in: [{ ...marta, state: { state: "admitted", card, since: 1 } }] };
      await changedBeforeAnswer(["visits"]);
      return null;
    },
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

  it("shows the latest board when an older one is answered late", async () => {
    // The first look at the board answers after the second: it is the
    // board from before Marta was admitted elsewhere.
    let late: (b: DeskBoard) => void = () => {};
    let looks = 0;
    const before = board;
    const after: DeskBoard = { ...board, waiting: [], guests_in: [{ ...marta, state: { state: "admitted", card: 110, since: 1 } }] };
    mockAnswers({
      desk_board: () => (++looks === 1 ? new Promise<DeskBoard>((r) => (late = r)) : after),
      guest_cards: [],
    });
    render(Reception, { props: { device } });
    await expect.poll(() => looks).toBe(1);
    await emit("store-changed", { areas: ["visits"], remote: true });
    expect(await screen.findByText("Release card")).toBeTruthy();
    late(before);
    // One turn of the event loop: the late answer's continuation has run.
    await new Promise((r) => setTimeout(r, 0));
    expect(screen.queryByText("Release card")).toBeTruthy();
    const waiting = screen.getByRole("heading", { name: /Waiting/ }).closest("section")!;
    expect(within(waiting).queryByText("Marta Wiśniewska")).toBeNull();
  });
});
