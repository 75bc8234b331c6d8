// The focus when a reload takes what held it off the screen: to the button
// that replaced it, the next row's, or the screen's `main`; never taken
// from a field, nor from nothing when a person clicked away on purpose.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keepFocusOnScreen } from "./focus";

let stop: () => void;

/** Every continuation queued so far (the observer's included) has run. */
const settled = () => new Promise((r) => setTimeout(r, 0));

const focusedText = () => (document.activeElement === document.body ? "BODY" : document.activeElement?.textContent);

beforeEach(() => {
  document.body.innerHTML = `<main>
    <section><h2>Inside</h2><ul id="rows">
      <li><span>Marta</span><button>Release Marta</button></li>
      <li><span>Piotr</span><button>Release Piotr</button></li>
    </ul></section>
    <section id="me"><div class="actions"><button>Sign in</button></div><input aria-label="Note" /></section>
  </main>`;
  stop = keepFocusOnScreen();
});

afterEach(() => stop());

const button = (text: string) => [...document.querySelectorAll("button")].find((b) => b.textContent === text)!;

describe("focus kept on the screen", () => {
  it("goes to the button that replaced the one pressed", async () => {
    button("Sign in").focus();
    document.querySelector("#me .actions")!.innerHTML = "<button>Sign out</button>";
    await settled();
    expect(focusedText()).toBe("Sign out");
  });

  it("goes to the next row's button when a row leaves the list, and to the screen when the list is empty", async () => {
    button("Release Marta").focus();
    document.querySelector("#rows li")!.remove();
    await settled();
    expect(focusedText()).toBe("Release Piotr");
    document.querySelector("#rows li")!.remove();
    await settled();
    expect(document.activeElement?.tagName).toBe("MAIN");
  });

  it("comes back to a button disabled while its command ran", async () => {
    button("Sign in").focus();
    // As a browser does it: disabled, the button loses the focus.
    button("Sign in").blur();
    button("Sign in").setAttribute("disabled", "");
    await settled();
    expect(focusedText()).toBe("BODY");
    button("Sign in").removeAttribute("disabled");
    await settled();
    expect(focusedText()).toBe("Sign in");
  });

  it("leaves a field alone, and nothing alone after a click on nothing", async () => {
    const note = document.querySelector<HTMLInputElement>("input")!;
    note.focus();
    document.querySelector("#rows li")!.remove();
    await settled();
    expect(document.activeElement).toBe(note);
    button("Release Piotr").focus();
    button("Release Piotr").blur();
    await settled();
    document.querySelector("#rows li")!.remove();
    await settled();
    expect(focusedText()).toBe("BODY");
  });
});
