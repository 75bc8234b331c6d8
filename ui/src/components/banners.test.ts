// The banners in a DOM, with the shell replaced by Tauri's IPC mock: where
// the focus goes after "I have seen this". The change the command makes
// reloads the list before the command's own answer arrives (as the real
// shell can do it), which once left the focus on the page's body for a
// moment. The real shell is driven end to end in
// tests/tests/app_announcements.rs.
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Banners from "./Banners.svelte";
import type { Announcement, DeviceInfo } from "../bindings";
import { changedBeforeAnswer, mockShell, unmockShell } from "../../tests/shell";

const announcement = (id: string, title: string): Announcement => ({
  id,
  kind: "emergency",
  audience: { to: "everyone" },
  department_name: null,
  title,
  text: `${title}: leave by the nearest exit.`,
  sent_at: 0,
  sender_name: "Front desk",
});

const device: DeviceInfo = { role: "reception", device_name: "Desk", person: null, person_name: null, site_name: "Lodge House", time_zone: "UTC", server: null, marshal: false, site: null };

let active: Announcement[] = [];

beforeEach(() => {
  active = [announcement("a1", "Fire drill"), announcement("a2", "Gas leak")];
  mockShell(async (cmd, args) => {
    switch (cmd) {
      case "active_announcements":
        return active;
      case "acknowledge_announcement": {
        const id = (args as { id: string }).id;
        active = active.filter((a) => a.id !== id);
        await changedBeforeAnswer(["announcements"]);
        return null;
      }
      default:
        return null;
    }
  });
  document.body.innerHTML = "<main><p>The screen</p></main>";
});

afterEach(async () => {
  await unmockShell();
  document.body.innerHTML = "";
});

/** Resolves at the first moment `gone` is no longer on the page, with what had the focus then. */
function focusWhenGone(gone: string): Promise<string> {
  return new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (!document.body.textContent?.includes(gone)) {
        observer.disconnect();
        // What a WebDriver script would see: it runs as a task of its own.
        setTimeout(() => resolve(document.activeElement?.tagName ?? "none"), 0);
      }
    });
    observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  });
}

describe("the banners", () => {
  it("moves the focus to the next banner, then to the screen, the moment each is acknowledged", async () => {
    render(Banners, { target: document.querySelector("main")!.parentElement!, props: { device, onopen: () => {} } });
    await screen.findByText("Fire drill: leave by the nearest exit.");
    const first = screen.getAllByRole("button", { name: "I have seen this" })[0];
    first.focus();
    let focused = focusWhenGone("Fire drill: leave by");
    await fireEvent.click(first);
    expect(await focused).toBe("BUTTON");
    expect(document.activeElement?.closest("[data-announcement]")?.getAttribute("data-announcement")).toBe("a2");

    focused = focusWhenGone("Gas leak: leave by");
    await fireEvent.click(document.activeElement as HTMLElement);
    expect(await focused).toBe("MAIN");
    // And it stays there once the command's own answer has come.
    await waitFor(() => expect(screen.queryAllByRole("button", { name: "I have seen this" })).toHaveLength(0));
    await new Promise((r) => setTimeout(r, 60));
    expect(document.activeElement?.tagName).toBe("MAIN");
  });

  it("moves the focus to the next banner when the press did not focus the button (WebKit on a Mac)", async () => {
    render(Banners, { target: document.querySelector("main")!.parentElement!, props: { device, onopen: () => {} } });
    await screen.findByText("Fire drill: leave by the nearest exit.");
    (document.activeElement as HTMLElement | null)?.blur();
    expect(document.activeElement).toBe(document.body);
    const focused = focusWhenGone("Fire drill: leave by");
    await fireEvent.click(screen.getAllByRole("button", { name: "I have seen this" })[0]);
    expect(await focused).toBe("BUTTON");
  });

  it("leaves the focus where it is when a banner arrives or goes while someone types", async () => {
    document.body.insertAdjacentHTML("beforeend", "<input id='name' />");
    render(Banners, { target: document.body, props: { device, onopen: () => {} } });
    const input = document.getElementById("name") as HTMLInputElement;
    input.focus();
    await screen.findByText("Fire drill: leave by the nearest exit.");
    active = [];
    await emit("store-changed", { areas: ["announcements"], remote: false });
    await waitFor(() => expect(screen.queryByText("Fire drill: leave by the nearest exit.")).toBeNull());
    expect(document.activeElement).toBe(input);
  });
});
