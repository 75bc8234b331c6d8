// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit.
import { invoke } from "@tauri-apps/api/core";
import type { AdmitRequest, Area, CardFix, CardInfo, CardNumber, CardRead, CardSource, CardStatus, CardTypeId, CardUid, Conflict, ConflictKind, Connection, DeskBoard, DeviceInfo, DirectoryPerson, Evacuation, EvacuationList, FieldError, FieldProblem, GuestField, GuestForm, Holdings, Host, Item, ItemId, JoinSite, KeyId, KeyTypeId, KioskWelcome, Loan, LoanId, MyPresence, PersonId, PresenceEntry, PresentPerson, Refusal, RejectReason, Role, SignOutReceipt, StartSite, StoreChanged, SyncStatus, Timestamp, Visit, VisitId, VisitState } from "./index";

export function device(): Promise<DeviceInfo | null> {
  return invoke("device", {  });
}

export function syncStatus(): Promise<SyncStatus | null> {
  return invoke("sync_status", {  });
}

export function startSite(form: StartSite): Promise<DeviceInfo> {
  return invoke("start_site", { form });
}

export function joinSite(form: JoinSite): Promise<DeviceInfo> {
  return invoke("join_site", { form });
}

export function kioskWelcome(): Promise<KioskWelcome> {
  return invoke("kiosk_welcome", {  });
}

export function findHosts(text: string): Promise<Array<Host>> {
  return invoke("find_hosts", { text });
}

export function checkGuestForm(form: GuestForm): Promise<Array<FieldError>> {
  return invoke("check_guest_form", { form });
}

export function registerGuest(form: GuestForm): Promise<null> {
  return invoke("register_guest", { form });
}

export function deskBoard(): Promise<DeskBoard> {
  return invoke("desk_board", {  });
}

export function guestCards(): Promise<Array<CardInfo>> {
  return invoke("guest_cards", {  });
}

export function admit(request: AdmitRequest): Promise<null> {
  return invoke("admit", { request });
}

export function reject(visit: VisitId, reason: RejectReason): Promise<null> {
  return invoke("reject", { visit, reason });
}

export function release(visit: VisitId): Promise<null> {
  return invoke("release", { visit });
}

export function releaseCard(card: CardNumber): Promise<Visit> {
  return invoke("release_card", { card });
}

export function visitByCard(card: CardNumber): Promise<Visit | null> {
  return invoke("visit_by_card", { card });
}

export function conflicts(): Promise<Array<Conflict>> {
  return invoke("conflicts", {  });
}

export function resolveCardConflict(card: CardNumber, keep: VisitId, fixes: Array<[VisitId, CardFix]>): Promise<null> {
  return invoke("resolve_card_conflict", { card, keep, fixes });
}

export function evacuation(): Promise<Evacuation> {
  return invoke("evacuation", {  });
}

export function myPresence(person: PersonId | null): Promise<MyPresence> {
  return invoke("my_presence", { person });
}

export function signIn(person: PersonId | null): Promise<Timestamp> {
  return invoke("sign_in", { person });
}

export function signOut(person: PersonId | null): Promise<SignOutReceipt> {
  return invoke("sign_out", { person });
}

export function staffPeople(): Promise<Array<DirectoryPerson>> {
  return invoke("staff_people", {  });
}

export function cardTyped(number: string): Promise<CardRead> {
  return invoke("card_typed", { number });
}

export function cardTapped(uid: string, source: CardSource): Promise<CardRead> {
  return invoke("card_tapped", { uid, source });
}

export function badgeReaders(): Promise<Array<string>> {
  return invoke("badge_readers", {  });
}
