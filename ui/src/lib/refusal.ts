// A refused command in the screen's language: the core sends its reason as a
// kind with values (`refusal.<area>.<kind>`), which is said here with names,
// cards and times filled in, times in the site's zone. What has no kind (the
// device's own failure) keeps the core's words.
import type { Reason, Refusal } from "../bindings";
import { language, t } from "./i18n.svelte";
import { formatDateTime, siteZone } from "./time";

/** Values that are instants: said as a date and time in the site's zone. */
const INSTANTS = new Set(["since", "left_at", "started_at"]);
/** Kinds whose single value is an instant. */
const INSTANT_KINDS = new Set(["keys.due-in-past"]);

type Values = Record<string, unknown>;

function valuesOf(area: string, kind: string, raw: unknown): Values {
  const values: Values = raw !== null && typeof raw === "object" && !Array.isArray(raw) ? { ...(raw as Values) } : { value: raw };
  const when = (ms: unknown) => (typeof ms === "number" ? formatDateTime(ms, language(), siteZone()) : ms);
  for (const key of Object.keys(values)) if (INSTANTS.has(key)) values[key] = when(values[key]);
  if (INSTANT_KINDS.has(`${area}.${kind}`)) values.value = when(values.value);
  if (typeof values.role === "string") values.role = t(`role.${values.role}`);
  if (typeof values.channel === "string") values.channel = t(`refusal.channel.${values.channel}`);
  if (typeof values.field === "string") values.field = t(`refusal.field.${values.field}`, { defaultValue: values.field });
  if (area === "equipment" && kind === "empty") values.value = t(`refusal.field.${String(values.value)}`, { defaultValue: values.value });
  if (typeof values.state === "string") values.state = t(`repair.state.${values.state}`).toLocaleLowerCase(language());
  if (area === "repair" && kind === "same-state") values.value = t(`repair.state.${String(values.value)}`).toLocaleLowerCase(language());
  return values;
}

/** What the refusal says, in the current language. */
export function refusalWords(r: Pick<Refusal, "message" | "reason">): string {
  const reason: Reason | null = r.reason;
  if (!reason) return r.message;
  // The server's refusals come as a kind alone; where only the server
  // knows the details, its words are part of the sentence.
  if (reason.area === "server") {
    const key = `refusal.server.${reason.refusal}`;
    const said = t(key, { message: r.message });
    return said === key ? r.message : said;
  }
  if (reason.area === "denied") return t("refusal.denied", { role: t(`role.${reason.refusal.role}`) });
  if (reason.area === "invalid") return t("refusal.invalid", { value: reason.refusal.value });
  const { kind, values } = reason.refusal as { kind: string; values?: unknown };
  // An item refused inside a repair command: said as the equipment's own refusal.
  if (reason.area === "repair" && kind === "item" && values && typeof values === "object")
    return refusalWords({ message: r.message, reason: { area: "equipment", refusal: values } as Reason });
  // A role refused inside an area, or a malformed id: said the same everywhere.
  if (kind === "denied") return t("refusal.denied", valuesOf(reason.area, kind, values));
  if (kind === "invalid") return t("refusal.invalid", valuesOf(reason.area, kind, values));
  const key = `refusal.${reason.area}.${kind}`;
  const said = t(key, valuesOf(reason.area, kind, values));
  // A kind this build has no words for yet: the core's own.
  return said === key ? r.message : said;
}
