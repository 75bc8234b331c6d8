// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit.
import { invoke } from "@tauri-apps/api/core";
import type { Accountable, Activation, AdmitRequest, Affiliation, AffiliationId, Announcement, AnnouncementDesk, AnnouncementError, AnnouncementId, AnnouncementKind, ApiErrorKind, Area, Audience, AuditEntry, AuditQuery, AuditRowShown, BadgeWords, CardFix, CardInfo, CardNumber, CardRead, CardSource, CardStatus, CardType, CardTypeId, CardTypeSpec, CardUid, ChannelTest, ChannelTried, CheckoutRequest, Conflict, ConflictChoice, ConflictKind, Connection, ContactChannel, Counted, CustodyOutcome, CustodyPeriod, Customer, CustomerQuery, Dashboard, DayFigures, Delivery, DeliveryState, Denied, Department, DepartmentId, DeskBoard, DeviceId, DeviceInfo, DirectoryPerson, DocChange, DocId, DocKind, Email, EndOfDayReminder, EquipmentError, Evacuation, EvacuationList, EventId, ExceptionId, ExpectedGuest, FieldError, FieldProblem, GuestField, GuestForm, Holdings, Host, InboxEntry, InvalidId, Invitation, InvitationLookup, InviteStart, InvitedGuest, Item, ItemId, ItemView, JoinAttempt, JoinPoster, JoinRequestShown, JoinSite, Key, KeyDeskError, KeyId, KeyShelf, KeyType, KeyTypeId, KioskWelcome, Loan, LoanException, LoanFilter, LoanId, LoginLinkShown, LongWait, MailRelayShown, Measured, MyContact, MyPresence, NewAnnouncement, NewCode, NewItem, NewMailRelay, NewSlackHook, Person, PersonError, PersonForm, PersonHistory, PersonId, PresenceEntry, PresenceError, PresentPerson, Reach, ReadCode, Reader, Reason, Refusal, RefusedChange, RejectReason, Remedy, RepairCategory, RepairCategoryId, RepairError, RepairLogEntry, RepairState, Role, RollCall, RollCallEntry, RollCallError, RollCallId, RollCallSummary, SignInCodeAsked, SignInJoin, SignOutReceipt, SiteDevice, SiteError, SiteId, SiteSettings, SiteSetup, SlackHookShown, Standing, StartRollCall, StartSite, Statistics, StatisticsError, StoreChanged, SyncRefusal, SyncStatus, Ticket, TicketId, Timestamp, Visit, VisitError, VisitId, VisitSearch, VisitState, WalkIn } from "./index";

export function device(): Promise<DeviceInfo | null> {
  return invoke("device", {});
}

export function syncStatus(): Promise<SyncStatus | null> {
  return invoke("sync_status", {});
}

export function startSite(form: StartSite): Promise<DeviceInfo> {
  return invoke("start_site", { form });
}

export function joinSite(form: JoinSite): Promise<DeviceInfo> {
  return invoke("join_site", { form });
}

export function connectSite(form: JoinSite): Promise<DeviceInfo> {
  return invoke("connect_site", { form });
}

export function failedJoin(): Promise<JoinAttempt | null> {
  return invoke("failed_join", {});
}

export function askSignInCode(server: string, site_code: string, contact: string): Promise<SignInCodeAsked> {
  return invoke("ask_sign_in_code", { server, site_code, contact });
}

export function joinBySignInCode(form: SignInJoin): Promise<DeviceInfo> {
  return invoke("join_by_sign_in_code", { form });
}

export function startSiteWithInvite(form: InviteStart): Promise<DeviceInfo> {
  return invoke("start_site_with_invite", { form });
}

export function leaveSite(): Promise<null> {
  return invoke("leave_site", {});
}

export function myLoginLink(): Promise<LoginLinkShown> {
  return invoke("my_login_link", {});
}

export function siteJoinCode(): Promise<JoinPoster> {
  return invoke("site_join_code", {});
}

export function auditTrail(query: AuditQuery): Promise<Array<AuditRowShown>> {
  return invoke("audit_trail", { query });
}

export function requestToJoin(server: string, site_code: string, name: string, contact: string): Promise<SignInCodeAsked> {
  return invoke("request_to_join", { server, site_code, name, contact });
}

export function joinRequests(): Promise<Array<JoinRequestShown>> {
  return invoke("join_requests", {});
}

export function decideJoinRequest(request: number, approve: boolean): Promise<Array<JoinRequestShown>> {
  return invoke("decide_join_request", { request, approve });
}

export function joinDomains(): Promise<Array<string>> {
  return invoke("join_domains", {});
}

export function setJoinDomains(domains: Array<string>): Promise<Array<string>> {
  return invoke("set_join_domains", { domains });
}

export function myContact(): Promise<MyContact> {
  return invoke("my_contact", {});
}

export function updateMyContact(contact: MyContact): Promise<MyContact> {
  return invoke("update_my_contact", { contact });
}

export function activeAnnouncements(): Promise<Array<Announcement>> {
  return invoke("active_announcements", {});
}

export function acknowledgeAnnouncement(id: AnnouncementId): Promise<null> {
  return invoke("acknowledge_announcement", { id });
}

export function announce(form: NewAnnouncement): Promise<AnnouncementId> {
  return invoke("announce", { form });
}

export function announcementDesk(): Promise<AnnouncementDesk> {
  return invoke("announcement_desk", {});
}

export function announcementDeliveries(id: AnnouncementId): Promise<Array<Delivery>> {
  return invoke("announcement_deliveries", { id });
}

export function endOfDayReminder(): Promise<EndOfDayReminder | null> {
  return invoke("end_of_day_reminder", {});
}

export function runningRollCall(): Promise<RollCall | null> {
  return invoke("running_roll_call", {});
}

export function rollCall(id: RollCallId): Promise<RollCall | null> {
  return invoke("roll_call", { id });
}

export function rollCalls(): Promise<Array<RollCallSummary>> {
  return invoke("roll_calls", {});
}

export function startRollCall(start: StartRollCall): Promise<RollCallId> {
  return invoke("start_roll_call", { start });
}

export function startRollCallFromPhone(start: StartRollCall): Promise<RollCallId> {
  return invoke("start_roll_call_from_phone", { start });
}

export function markRollCall(roll_call: RollCallId, who: Accountable, standing: Standing): Promise<null> {
  return invoke("mark_roll_call", { roll_call, who, standing });
}

export function endRollCall(roll_call: RollCallId): Promise<null> {
  return invoke("end_roll_call", { roll_call });
}

export function needsAttention(): Promise<Array<RefusedChange>> {
  return invoke("needs_attention", {});
}

export function discardRefused(doc: DocId): Promise<null> {
  return invoke("discard_refused", { doc });
}

export function retryRefused(doc: DocId): Promise<null> {
  return invoke("retry_refused", { doc });
}

export function kioskWelcome(): Promise<KioskWelcome> {
  return invoke("kiosk_welcome", {});
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
  return invoke("desk_board", {});
}

export function guestCards(): Promise<Array<CardInfo>> {
  return invoke("guest_cards", {});
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

export function expectGuest(guest: ExpectedGuest): Promise<Invitation> {
  return invoke("expect_guest", { guest });
}

export function expectMyGuest(guest: ExpectedGuest): Promise<Invitation> {
  return invoke("expect_my_guest", { guest });
}

export function guestHosts(): Promise<Array<DirectoryPerson>> {
  return invoke("guest_hosts", {});
}

export function guestArrived(visit: VisitId): Promise<null> {
  return invoke("guest_arrived", { visit });
}

export function findInvitation(code: string): Promise<InvitationLookup> {
  return invoke("find_invitation", { code });
}

export function arriveWithInvitation(code: string, form: GuestForm): Promise<null> {
  return invoke("arrive_with_invitation", { code, form });
}

export function guestBadge(visit: VisitId, words: BadgeWords): Promise<string> {
  return invoke("guest_badge", { visit, words });
}

export function releaseCard(card: CardNumber): Promise<Visit> {
  return invoke("release_card", { card });
}

export function visitByCard(card: CardNumber): Promise<Visit | null> {
  return invoke("visit_by_card", { card });
}

export function conflictInbox(): Promise<Array<InboxEntry>> {
  return invoke("conflict_inbox", {});
}

export function resolveKeyConflict(key: KeyId, keep: LoanId): Promise<null> {
  return invoke("resolve_key_conflict", { key, keep });
}

export function resolvePresenceConflict(person: PersonId, keep: EventId): Promise<null> {
  return invoke("resolve_presence_conflict", { person, keep });
}

export function resolveCardConflict(card: CardNumber, keep: VisitId, fixes: Array<[VisitId, CardFix]>): Promise<null> {
  return invoke("resolve_card_conflict", { card, keep, fixes });
}

export function evacuation(): Promise<Evacuation> {
  return invoke("evacuation", {});
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
  return invoke("staff_people", {});
}

export function cardTyped(number: string): Promise<CardRead> {
  return invoke("card_typed", { number });
}

export function cardTapped(uid: string, source: CardSource): Promise<CardRead> {
  return invoke("card_tapped", { uid, source });
}

export function badgeReaders(): Promise<Array<string>> {
  return invoke("badge_readers", {});
}

export function itemByCode(code: string): Promise<ItemView> {
  return invoke("item_by_code", { code });
}

export function takeItem(code: string): Promise<Activation> {
  return invoke("take_item", { code });
}

export function returnItem(code: string): Promise<ItemId> {
  return invoke("return_item", { code });
}

export function myItems(): Promise<Array<Item>> {
  return invoke("my_items", {});
}

export function freeItems(): Promise<Array<Item>> {
  return invoke("free_items", {});
}

export function repairCategories(): Promise<Array<RepairCategory>> {
  return invoke("repair_categories", {});
}

export function reportFault(item: ItemId, category: RepairCategoryId, note: string): Promise<TicketId> {
  return invoke("report_fault", { item, category, note });
}

export function myTickets(): Promise<Array<Ticket>> {
  return invoke("my_tickets", {});
}

export function readCode(image: string): Promise<ReadCode | null> {
  return invoke("read_code", { image });
}

export function findCustomer(query: CustomerQuery): Promise<Customer> {
  return invoke("find_customer", { query });
}

export function keyShelf(): Promise<KeyShelf> {
  return invoke("key_shelf", {});
}

export function loans(filter: LoanFilter): Promise<Array<Loan>> {
  return invoke("loans", { filter });
}

export function checkoutKey(request: CheckoutRequest): Promise<LoanId> {
  return invoke("checkout_key", { request });
}

export function checkoutWalkIn(request: CheckoutRequest, walk_in: WalkIn): Promise<LoanId> {
  return invoke("checkout_walk_in", { request, walk_in });
}

export function returnKey(key: KeyId): Promise<null> {
  return invoke("return_key", { key });
}

export function renewKey(key: KeyId, due_at: Timestamp | null): Promise<Timestamp> {
  return invoke("renew_key", { key, due_at });
}

export function markLost(key: KeyId): Promise<null> {
  return invoke("mark_lost", { key });
}

export function markPaid(key: KeyId): Promise<null> {
  return invoke("mark_paid", { key });
}

export function grantException(customer: PersonId, key_type: KeyTypeId, max_keys: number, expires_at: Timestamp): Promise<ExceptionId> {
  return invoke("grant_exception", { customer, key_type, max_keys, expires_at });
}

export function revokeException(id: ExceptionId): Promise<null> {
  return invoke("revoke_exception", { id });
}

export function dashboard(): Promise<Dashboard> {
  return invoke("dashboard", {});
}

export function visitHistory(search: VisitSearch): Promise<Array<Visit>> {
  return invoke("visit_history", { search });
}

export function visitTimeline(visit: VisitId): Promise<Array<DocChange>> {
  return invoke("visit_timeline", { visit });
}

export function changeHistory(doc: DocId): Promise<Array<DocChange>> {
  return invoke("change_history", { doc });
}

export function exportVisits(search: VisitSearch): Promise<string> {
  return invoke("export_visits", { search });
}

export function statistics(from: string, to: string): Promise<Statistics> {
  return invoke("statistics", { from, to });
}

export function exportStatistics(from: string, to: string): Promise<string> {
  return invoke("export_statistics", { from, to });
}

export function equipment(): Promise<Array<Item>> {
  return invoke("equipment", {});
}

export function reportFaultOnNewItem(item: NewItem, category: RepairCategoryId, note: string): Promise<[ItemId, TicketId]> {
  return invoke("report_fault_on_new_item", { item, category, note });
}

export function retireItem(item: ItemId): Promise<null> {
  return invoke("retire_item", { item });
}

export function itemHistory(item: ItemId): Promise<Array<CustodyPeriod>> {
  return invoke("item_history", { item });
}

export function keyHistory(key: KeyId): Promise<Array<Loan>> {
  return invoke("key_history", { key });
}

export function addItem(item: NewItem): Promise<ItemId> {
  return invoke("add_item", { item });
}

export function itemLabels(items: Array<ItemId>): Promise<Array<string>> {
  return invoke("item_labels", { items });
}

export function repairBoard(): Promise<Array<Ticket>> {
  return invoke("repair_board", {});
}

export function setRepairState(ticket: TicketId, state: RepairState): Promise<null> {
  return invoke("set_repair_state", { ticket, state });
}

export function addRepairNote(ticket: TicketId, note: string): Promise<null> {
  return invoke("add_repair_note", { ticket, note });
}

export function repairLog(ticket: TicketId): Promise<Array<RepairLogEntry>> {
  return invoke("repair_log", { ticket });
}

export function addKey(key_type: KeyTypeId, label: string): Promise<KeyId> {
  return invoke("add_key", { key_type, label });
}

export function retireKey(key: KeyId): Promise<null> {
  return invoke("retire_key", { key });
}

export function registerCard(number: CardNumber, uid: CardUid): Promise<CardInfo> {
  return invoke("register_card", { number, uid });
}

export function siteDevices(): Promise<Array<SiteDevice>> {
  return invoke("site_devices", {});
}

export function revokeDevice(device: DeviceId): Promise<SiteDevice> {
  return invoke("revoke_device", { device });
}

export function createCode(role: Role, person: PersonId | null): Promise<NewCode> {
  return invoke("create_code", { role, person });
}

export function testChannel(test: ChannelTest): Promise<Array<ChannelTried>> {
  return invoke("test_channel", { test });
}

export function slackHooks(): Promise<Array<SlackHookShown>> {
  return invoke("slack_hooks", {});
}

export function addSlackHook(hook: NewSlackHook): Promise<Array<SlackHookShown>> {
  return invoke("add_slack_hook", { hook });
}

export function removeSlackHook(number: number): Promise<Array<SlackHookShown>> {
  return invoke("remove_slack_hook", { number });
}

export function mailRelay(): Promise<MailRelayShown | null> {
  return invoke("mail_relay", {});
}

export function setMailRelay(relay: NewMailRelay): Promise<MailRelayShown | null> {
  return invoke("set_mail_relay", { relay });
}

export function clearMailRelay(): Promise<MailRelayShown | null> {
  return invoke("clear_mail_relay", {});
}

export function siteSetup(): Promise<SiteSetup> {
  return invoke("site_setup", {});
}

export function setCardType(spec: CardTypeSpec): Promise<null> {
  return invoke("set_card_type", { spec });
}

export function setDepartment(id: DepartmentId, name: string): Promise<null> {
  return invoke("set_department", { id, name });
}

export function setAffiliation(id: AffiliationId, name: string, requires_user_id: boolean): Promise<null> {
  return invoke("set_affiliation", { id, name, requires_user_id });
}

export function setKeyType(id: KeyTypeId, name: string, loan_days: number): Promise<null> {
  return invoke("set_key_type", { id, name, loan_days });
}

export function setRepairCategory(id: RepairCategoryId, name: string): Promise<null> {
  return invoke("set_repair_category", { id, name });
}

export function setDepartmentContact(id: DepartmentId, contact: string | null): Promise<null> {
  return invoke("set_department_contact", { id, contact });
}

export function setReminderTime(time: string): Promise<null> {
  return invoke("set_reminder_time", { time });
}

export function setRetentionDays(days: number): Promise<null> {
  return invoke("set_retention_days", { days });
}

export function setPresenceRetentionDays(days: number): Promise<null> {
  return invoke("set_presence_retention_days", { days });
}

export function setSiteLanguage(language: string): Promise<null> {
  return invoke("set_site_language", { language });
}

export function setOverdueContactAfterDays(days: number): Promise<null> {
  return invoke("set_overdue_contact_after_days", { days });
}

export function setGuestPolicy(contact_required: boolean, purpose_required: boolean, consent_text: string): Promise<null> {
  return invoke("set_guest_policy", { contact_required, purpose_required, consent_text });
}

export function setConsentText(language: string, text: string): Promise<null> {
  return invoke("set_consent_text", { language, text });
}

export function peopleList(search: string): Promise<Array<Person>> {
  return invoke("people_list", { search });
}

export function createPerson(form: PersonForm): Promise<PersonId> {
  return invoke("create_person", { form });
}

export function updatePerson(id: PersonId, form: PersonForm): Promise<null> {
  return invoke("update_person", { id, form });
}

export function personHistory(id: PersonId): Promise<PersonHistory> {
  return invoke("person_history", { id });
}

export function deactivatePerson(id: PersonId): Promise<null> {
  return invoke("deactivate_person", { id });
}
