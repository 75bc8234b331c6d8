// "This phone" in a DOM, with the shell replaced by Tauri's IPC mock: a
// change to people anywhere reloads the contact details, and must not put
// back what was there over what the person is typing.
import { fireEvent, render, screen } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import MyPhone from "./MyPhone.svelte";
import type { DeviceInfo, MyContact } from "../../bindings";
import { mockAnswers, unmockShell } from "../../../tests/shell";

const device: DeviceInfo = { role: "staff", device_name: "Phone", person: "p-anna", person_name: "Anna Kowalska", site_name: "Lodge House", time_zone: "UTC", server: null, marshal: false, site: null };

let stored: MyContact;
let loads: number;

beforeEach(() => {
  stored = { email: "anna@lodge.example", phone: null, preferred: "email" };
  loads = 0;
  mockAnswers({
    my_contact: () => {
      loads += 1;
      return stored;
    },
    update_my_contact: (args: unknown) => (stored = { ...(args as { contact: MyContact }).contact }),
  });
});

afterEach(unmockShell);

describe("this phone", () => {
  it("keeps the details being typed when people change elsewhere, and follows the store again once saved", async () => {
    render(MyPhone, { props: { device, onleft: () => {} } });
    const email = (await screen.findByLabelText("E-mail", { selector: "input[type=email]" })) as HTMLInputElement;
    await expect.poll(() => email.value).toBe("anna@lodge.example");
    await fireEvent.input(email, { target: { value: "anna.k@" } });
    await emit("store-changed", { areas: ["people"], remote: true });
    await expect.poll(() => loads).toBe(2);
    // One turn of the event loop: every continuation of the reload's
    // answer, queued by now, has run.
    await new Promise((r) => setTimeout(r, 0));
    expect(email.value).toBe("anna.k@");
    // Saved, the details follow the store again.
    await fireEvent.submit(email.form!);
    expect(await screen.findByText("Saved.", { exact: false })).toBeTruthy();
    stored = { ...stored, phone: "+48 600 100 200" };
    await emit("store-changed", { areas: ["people"], remote: true });
    const phone = screen.getByLabelText("Phone") as HTMLInputElement;
    await expect.poll(() => phone.value).toBe("+48 600 100 200");
  });
});
