// The kiosk form's state: what was typed, which fields the guest has left
// (only those show their errors), and the pauses after which the kiosk
// starts over.
import type { FieldError, GuestField, GuestForm, PersonId } from "../../bindings";

/** Mid-form, a minute with no touch clears the form. */
export const IDLE_RESET_MS = 60_000;
/** The thank-you screen stays this long. */
export const THANKS_MS = 8_000;

export type Draft = {
  name: string;
  company: string;
  email: string;
  phone: string;
  host: PersonId | null;
  hostName: string;
  purpose: string;
  consent: boolean;
};

export function emptyDraft(): Draft {
  return { name: "", company: "", email: "", phone: "", host: null, hostName: "", purpose: "", consent: false };
}

const optional = (s: string): string | null => (s.trim() === "" ? null : s.trim());

/** The form as the core takes it. */
/** The form as the core reads it; `lang` is the language the guest read it in. */
export function toForm(d: Draft, lang: string | null = null): GuestForm {
  return {
    name: d.name,
    company: d.company,
    email: optional(d.email),
    phone: optional(d.phone),
    host: d.host,
    purpose: optional(d.purpose),
    consent: d.consent,
    language: lang,
  };
}

/** The first error of each field the guest has left (or of every field after a send). */
export function visibleErrors(errors: FieldError[], left: Set<GuestField>): Map<GuestField, FieldError> {
  const shown = new Map<GuestField, FieldError>();
  for (const e of errors) {
    if (left.has(e.field) && !shown.has(e.field)) shown.set(e.field, e);
  }
  return shown;
}

/** The i18n key of a field's problem. */
export function problemKey(e: FieldError): string {
  return `kiosk.problem.${e.field}.${e.problem}`;
}

/** Every problem the core can report, for the completeness test. */
export const FIELD_PROBLEMS: Array<[GuestField, FieldError["problem"]]> = [
  ["name", "missing"],
  ["name", "too-long"],
  ["company", "missing"],
  ["company", "too-long"],
  ["email", "malformed"],
  ["email", "no-contact"],
  ["phone", "malformed"],
  ["host", "missing"],
  ["host", "unknown-host"],
  ["purpose", "missing"],
  ["purpose", "too-long"],
  ["consent", "not-accepted"],
];
