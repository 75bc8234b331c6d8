// The kiosk screen in a DOM: its language picker, and field errors that
// appear as the guest leaves a field, not all at once. The shell is
// replaced by Tauri's IPC mock; the real shell is driven end to end in
// tests/tests/app_front_desk.rs.
import { fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Kiosk from "./Kiosk.svelte";
import { setLanguage } from "../../lib/i18n.svelte";
import type { FieldError, GuestForm } from "../../bindings";
import { mockShell, unmockShell } from "../../../tests/shell";

const sent: GuestForm[] = [];

beforeEach(() => {
  sent.length = 0;
  mockShell((cmd, args) => {
    const form = (args as { form?: GuestForm })?.form;
    switch (cmd) {
      case "kiosk_welcome":
        return { site_name: "Lodge House", contact_required: false, purpose_required: false, consent_text: "We keep your name for 30 days.", consent_texts: { pl: "Przechowujemy Twoje imię przez 30 dni." } };
      case "check_guest_form": {
        const errors: FieldError[] = [];
        if (!form?.name.trim()) errors.push({ field: "name", problem: "missing", message: "Please write your name." });
        if (!form?.company.trim()) errors.push({ field: "company", problem: "missing", message: "" });
        return errors;
      }
      case "find_hosts":
        return ((args as { text?: string })?.text?.length ?? 0) >= 2
          ? [
              { id: "a1", name: "Anna Kowalska" },
              { id: "a2", name: "Andrzej Nowak" },
            ]
          : [];
      case "register_guest":
        if (form) sent.push(form);
        return null;
      default:
        return null;
    }
  });
});

afterEach(unmockShell);

describe("the kiosk", () => {
  it("greets in the chosen language", async () => {
    render(Kiosk);
    expect(await screen.findByText("Welcome to Lodge House")).toBeTruthy();
    await fireEvent.click(screen.getByText("Українська"));
    expect(await screen.findByText("Ласкаво просимо до Lodge House")).toBeTruthy();
    await fireEvent.click(screen.getByText("English"));
  });

  it("shows a field's error when the guest leaves it, and only that one", async () => {
    render(Kiosk);
    await fireEvent.click(await screen.findByText("Sign in"));
    const name = await screen.findByLabelText("Your full name");
    await fireEvent.blur(name);
    expect(await screen.findByText("Please write your name.")).toBeTruthy();
    expect(screen.queryByText("Please write your company, or “private”.")).toBeNull();
    expect(name.getAttribute("aria-invalid")).toBe("true");
  });

  it("moves on to the next field on Enter, and never sends a half-filled form", async () => {
    render(Kiosk);
    await fireEvent.click(await screen.findByText("Sign in"));
    const name = await screen.findByLabelText("Your full name");
    name.focus();
    await fireEvent.input(name, { target: { value: "Marta" } });
    await fireEvent.keyDown(name, { key: "Enter" });
    expect(document.activeElement?.id).toBe("g-company");
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toHaveLength(0);
    expect(screen.queryByText("Some answers need attention; they are marked above.")).toBeNull();
  });

  it("picks a host with the arrow keys and Enter, the focus staying in the field", async () => {
    render(Kiosk);
    await fireEvent.click(await screen.findByText("Sign in"));
    const host = (await screen.findByRole("combobox")) as HTMLInputElement;
    host.focus();
    await fireEvent.input(host, { target: { value: "An" } });
    expect(await screen.findByRole("option", { name: "Andrzej Nowak" })).toBeTruthy();
    await fireEvent.keyDown(host, { key: "ArrowDown" });
    await fireEvent.keyDown(host, { key: "ArrowDown" });
    expect(host.getAttribute("aria-activedescendant")).toBe("g-host-option-1");
    expect(screen.getByRole("option", { name: "Andrzej Nowak" }).getAttribute("aria-selected")).toBe("true");
    // No button inside an option (axe: nested-interactive).
    expect(screen.getByRole("listbox").querySelector("button")).toBeNull();
    await fireEvent.keyDown(host, { key: "Enter" });
    expect(host.value).toBe("Andrzej Nowak");
    expect(document.activeElement).toBe(host);
    expect(screen.queryByRole("option")).toBeNull();
    expect(sent).toHaveLength(0);
  });

  it("shows the consent in the guest's language and sends which one was read", async () => {
    render(Kiosk);
    await fireEvent.click(await screen.findByText("Polski"));
    await fireEvent.click(await screen.findByText("Zarejestruj się"));
    expect(await screen.findByText("Przechowujemy Twoje imię przez 30 dni.")).toBeTruthy();
    expect(screen.queryByText("We keep your name for 30 days.")).toBeNull();
    await fireEvent.input(screen.getByLabelText("Imię i nazwisko"), { target: { value: "Marta Wiśniewska" } });
    await fireEvent.input(screen.getByLabelText("Firma (lub „prywatnie”)"), { target: { value: "Acme" } });
    await fireEvent.click(screen.getByRole("checkbox"));
    await fireEvent.click(screen.getByRole("button", { name: "Wyślij" }));
    await new Promise((r) => setTimeout(r, 20));
    expect(sent.map((f) => f.language)).toEqual(["pl"]);
    setLanguage("en");
  });

  it("shows the site's own consent in a language with no translation", async () => {
    render(Kiosk);
    await fireEvent.click(await screen.findByText("Русский"));
    await fireEvent.click(await screen.findByText(/Зарегистр/));
    expect(await screen.findByText("We keep your name for 30 days.")).toBeTruthy();
    setLanguage("en");
  });
});
