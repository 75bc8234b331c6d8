// Calling the shell: the generated command functions, with refusals turned
// into values a screen can show next to what caused them.
import type { Area, Refusal } from "../bindings";
import { refusalWords } from "./refusal";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { Events } from "../bindings/events";

export * as commands from "../bindings/commands";

export type Outcome<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

/** A refusal from the shell, its message said in the screen's language. */
export function refusalOf(e: unknown): Refusal {
  if (e && typeof e === "object" && "message" in e && typeof (e as Refusal).message === "string") {
    const r = e as Refusal;
    const reason = r.reason ?? null;
    return { message: refusalWords({ message: r.message, reason }), fields: r.fields ?? [], remedy: r.remedy ?? null, reason };
  }
  return { message: String(e), fields: [], remedy: null, reason: null };
}

export async function attempt<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call };
  } catch (e) {
    return { ok: false, refusal: refusalOf(e) };
  }
}

/** Listen to a shell event with its typed payload. */
export function on<K extends keyof Events>(name: K, handler: (payload: Events[K]) => void): Promise<UnlistenFn> {
  return listen<Events[K]>(name, (e) => handler(e.payload));
}

/**
 * Call `load` now and again whenever the store changes in one of `areas`
 * (on every change when there are none). Listening starts first and the
 * first read after it, so that a change landing in between is not missed:
 * a phone's whole first sync can arrive in that moment. Resolves to the
 * function that stops it.
 */
export function follow(load: () => unknown, areas: Area[] = []): Promise<UnlistenFn> {
  const off = on("store-changed", (c) => (areas.length === 0 || c.areas.some((a) => areas.includes(a))) && void load());
  void off.then(() => load());
  return off;
}
