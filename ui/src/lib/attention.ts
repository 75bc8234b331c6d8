// "Needs attention": the words for a change the server refused, made here
// and only here, from the refusal's rule and values (never from the
// server's English). The tables are typed against the generated bindings,
// so a rule, kind or count added in Rust fails the type check until it has
// words in every language.
import type { Counted, DocChange, DocKind, Measured, RefusedChange, SyncRefusal } from "../bindings";
import { t } from "./i18n.svelte";

type Rule = SyncRefusal["rule"];

const RULE_TABLE: Record<Rule, null> = {
  "foreign-actor": null,
  "role-may-not-write": null,
  "not-visible": null,
  "fields-not-allowed": null,
  "kiosk-creates-only": null,
  "key-desk-adds-customers-only": null,
  "kiosk-visit-not-waiting": null,
  "header-changed": null,
  "other-site": null,
  "id-mismatch": null,
  "owner-mismatch": null,
  "history-rewritten": null,
  "other-persons-entry": null,
  "ticket-moved-by-worker": null,
  "announcement-from-desk-only": null,
  "purged-changes": null,
  "may-not-purge": null,
  malformed: null,
  "bloom-filter": null,
  "chunk-type": null,
  "too-many": null,
  "too-large": null,
  unreadable: null,
};
const KIND_TABLE: Record<DocKind, null> = {
  site: null,
  directory: null,
  person: null,
  visit: null,
  presence: null,
  key: null,
  "loan-book": null,
  "loan-exception": null,
  equipment: null,
  repair: null,
  announcement: null,
  "roll-call": null,
};
const COUNTED_TABLE: Record<Counted, null> = {
  hashes: null,
  haves: null,
  "bloom-entries": null,
  chunks: null,
  columns: null,
  documents: null,
  "list-items": null,
};
const MEASURED_TABLE: Record<Measured, null> = { "inflated-message": null, "inflated-frame": null, field: null };

export const RULES = Object.keys(RULE_TABLE) as Rule[];
export const KINDS = Object.keys(KIND_TABLE) as DocKind[];
export const COUNTED = Object.keys(COUNTED_TABLE) as Counted[];
export const MEASURED = Object.keys(MEASURED_TABLE) as Measured[];

/** The commands whose changes have words; others show their own name. */
export const COMMANDS = [
  "acknowledge", "activate_equipment", "add_item", "add_key", "add_repair_note", "admit", "announce", "checkout_key", "create_person", "create_site",
  "end_roll_call", "mark_roll_call", "report_fault_on_new_item", "start_roll_call",
  "deactivate_equipment", "deactivate_person", "grant_exception", "mark_lost", "mark_paid", "open_ticket", "purge",
  "register_card", "register_guest", "reissue_card", "reject", "release", "release_card", "renew_key",
  "resolve_card_conflict", "resolve_key_conflict", "resolve_presence_conflict", "retire_item", "retire_key", "return_key",
  "revoke_exception", "set_affiliation", "set_card_active", "set_card_type", "set_consent_text", "set_department", "set_guest_policy",
  "set_key_type", "set_reminder_time", "set_repair_category", "set_repair_state", "set_retention_days", "sign_in",
  "sign_out", "sign_out_everyone", "update_contact", "update_person",
] as const;

/** A kind of document as people call it. */
export function kindName(kind: DocKind): string {
  return t(`attention.kind.${kind}`);
}

/** Why the server refused a change, in the current language. */
export function refusalText(r: SyncRefusal): string {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(r)) {
    if (key === "rule") continue;
    if (key === "role") values.role = t(`role.${String(value)}`);
    else if (key === "kind") values.kind = kindName(value as DocKind);
    else if (key === "what") values.what = t(`attention.${r.rule === "too-many" ? "counted" : "measured"}.${String(value)}`);
    else values[key] = value;
  }
  return t(`attention.rule.${r.rule}`, values);
}

/** What the refused change was: its kind of record and the commands. */
export function changeText(c: RefusedChange): string {
  const known: readonly string[] = COMMANDS;
  const commands = c.commands.length === 0 ? [t("attention.deletion")] : c.commands.map((name) => (known.includes(name) ? t(`attention.command.${name}`) : name));
  return t("attention.what", { kind: kindName(c.kind), commands: commands.join(", ") });
}

/** What one change of a record did, in the current language (its command's
 *  words; a command without words is shown by its name). */
export function changeWords(c: DocChange): string {
  const known: readonly string[] = COMMANDS;
  return known.includes(c.command) ? t(`attention.command.${c.command}`) : c.command || c.message;
}
