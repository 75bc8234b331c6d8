// For component tests: the Tauri shell replaced by its IPC mock (events
// included), and put back after each test; and the order the real shell
// may give a command's effects, its change event before its answer.
import { cleanup, fireEvent, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import type { Area } from "../src/bindings";

/** Answer the screens' commands with `handler`, events included. */
export function mockShell(handler: (cmd: string, args: unknown) => unknown): void {
  mockIPC((cmd, args) => handler(cmd, args), { shouldMockEvents: true });
}

/** Answer each command from `table`: a value, or a function of the
 * command's arguments (async or not); any other command answers null. */
export function mockAnswers(table: Record<string, unknown>): void {
  mockShell((cmd, args) => {
    const answer = table[cmd];
    return typeof answer === "function" ? answer(args) : (answer ?? null);
  });
}

/** Unmount what was rendered and put the shell back. */
export async function unmockShell(): Promise<void> {
  cleanup();
  // The screens stop listening asynchronously; let them before unmocking.
  await new Promise((r) => setTimeout(r, 10));
  clearMocks();
}

/** Inside a mocked command: say the store changed in `areas` now, and let
 * the command's answer come a little later. */
export async function changedBeforeAnswer(areas: Area[]): Promise<void> {
  await emit("store-changed", { areas, remote: false });
  await new Promise((r) => setTimeout(r, 30));
}

/** Type `value` into the field labelled `label` and submit its form (a
 * look-up by e-mail or code); the field, for typing into again. */
export async function typeAndSubmit(label: string, value: string): Promise<HTMLInputElement> {
  const field = (await screen.findByLabelText(label)) as HTMLInputElement;
  await fireEvent.input(field, { target: { value } });
  await fireEvent.submit(field.form!);
  return field;
}
