// Where the focus goes when what held it is taken off the screen. A screen
// reloads after every change (often before the command's own answer), and
// the reload may replace the very row or button a person just pressed:
// Release on the board, Sign in turning into Sign out, a returned key's row.
// The browser then leaves the focus on nothing (the page's body), where a
// keyboard or screen-reader user is lost. It goes instead to the nearest
// button still there around where it was (the Sign out that replaced Sign
// in, the next row's button), or else to the screen's `main`; never to a
// text field, where someone's next keys would land unasked. Focus that is
// somewhere, or that the person moved away on purpose, is left alone.

const BUTTONS = "button:not([disabled]), a[href], [role='button']:not([aria-disabled='true'])";

/** Keep the focus on the screen under `root`; returns the way to stop. */
export function keepFocusOnScreen(root: HTMLElement = document.body): () => void {
  // What held the focus last, and what it sat in, innermost first.
  let last: Element | null = null;
  let around: Element[] = [];
  const onFocusIn = (e: FocusEvent) => {
    last = e.target instanceof Element ? e.target : null;
    around = [];
    for (let a = last?.parentElement ?? null; a && a !== document.body; a = a.parentElement) around.push(a);
  };
  const onFocusOut = (e: FocusEvent) => {
    const left = e.target;
    // Still on the screen, and the focus on nothing: a click on nothing,
    // on purpose. (Taken off the screen, it is the observer's.)
    // (A button disabled while its command runs is not left on purpose:
    // it comes back, or its replacement does.)
    queueMicrotask(() => {
      if (left === last && last?.isConnected && !last.matches(":disabled") && onNothing()) last = null;
    });
  };
  const observer = new MutationObserver(() => {
    if (!last || !onNothing()) return;
    if (!last.isConnected) {
      last = null;
      focusNear(around);
    } else if (last instanceof HTMLElement && !last.matches(":disabled")) {
      // Enabled again (a refused command): back where it was.
      last.focus();
    }
  });
  document.addEventListener("focusin", onFocusIn);
  document.addEventListener("focusout", onFocusOut);
  observer.observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["disabled"] });
  return () => {
    document.removeEventListener("focusin", onFocusIn);
    document.removeEventListener("focusout", onFocusOut);
    observer.disconnect();
  };
}

function onNothing(): boolean {
  return !document.activeElement || document.activeElement === document.body;
}

/** The first button in the innermost of `around` still on the screen that
 * has one (within the screen's `main`), else `main` itself. */
export function focusNear(around: Element[]): void {
  for (const a of around) {
    if (!a.isConnected) continue;
    // Within the screen: not the header's tabs, nor the banners above it.
    if (a.tagName === "MAIN" || !a.closest("main")) break;
    const button = a.querySelector<HTMLElement>(BUTTONS);
    if (button) {
      button.focus();
      return;
    }
  }
  const main = document.querySelector<HTMLElement>("main");
  if (!main) return;
  if (!main.hasAttribute("tabindex")) main.setAttribute("tabindex", "-1");
  main.focus();
}
