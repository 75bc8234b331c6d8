//! Every command the UI may call, in one table. The table registers the
//! handlers with Tauri, checks at compile time that each entry matches its
//! function, and gives [`crate::bindings`] the names and types from which
//! the TypeScript `commands.ts` is generated.

pub mod admin;
pub mod announcements;
pub mod attention;
pub mod badge;
pub mod expected;
pub mod history;
pub mod joining;
pub mod keydesk;
pub mod kiosk;
pub mod reception;
pub mod roll_call;
pub mod setup;
pub mod site;
pub mod staff;
pub mod worker;

use crate::bindings::{Arg, Signature};

/// `module::command(arg: Type, …) -> Answer;` for each command. Sync
/// commands are checked against their function's type; `async` ones (that
/// wait on the network) are not, since an `async fn` has no nameable type.
macro_rules! command_table {
    ($( $(#[$async:ident])? $module:ident :: $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty ; )*) => {
        /// The invoke handler for every command.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($module::$name),*]
        }

        /// The commands' names and types, for the TypeScript bindings.
        pub fn signatures() -> Vec<Signature> {
            vec![$(Signature::new::<$ret>(stringify!($name), vec![$(Arg::new::<$ty>(stringify!($arg))),*])),*]
        }

        #[allow(dead_code)]
        fn entries_match_functions() {
            $( command_table!(@check $($async)? $module::$name ($($ty),*) -> $ret); )*
        }
    };
    (@check async $module:ident :: $name:ident ($($ty:ty),*) -> $ret:ty) => {};
    (@check $module:ident :: $name:ident ($($ty:ty),*) -> $ret:ty) => {
        let _: fn(tauri::State<'static, crate::desk::Desk>, $($ty),*) -> crate::error::Answer<$ret> = $module::$name;
    };
}

command_table! {
    setup::device() -> Option<setup::DeviceInfo>;
    setup::sync_status() -> Option<lodge_core::sync::SyncStatus>;
    setup::start_site(form: setup::StartSite) -> setup::DeviceInfo;
    #[async] setup::join_site(form: setup::JoinSite) -> setup::DeviceInfo;
    #[async] setup::connect_site(form: setup::JoinSite) -> setup::DeviceInfo;
    setup::failed_join() -> Option<setup::JoinAttempt>;
    #[async] joining::ask_sign_in_code(server: String, site_code: String, contact: String) -> lodge_core::sync::api::SignInCodeAsked;
    #[async] joining::join_by_sign_in_code(form: joining::SignInJoin) -> setup::DeviceInfo;
    #[async] joining::start_site_with_invite(form: joining::InviteStart) -> setup::DeviceInfo;
    #[async] joining::leave_site() -> ();
    #[async] joining::my_login_link() -> joining::LoginLinkShown;
    #[async] joining::site_join_code() -> joining::JoinPoster;
    #[async] joining::audit_trail(query: lodge_core::sync::api::AuditQuery) -> Vec<joining::AuditRowShown>;
    #[async] joining::request_to_join(server: String, site_code: String, name: String, contact: String) -> lodge_core::sync::api::SignInCodeAsked;
    #[async] joining::join_requests() -> Vec<lodge_core::sync::api::JoinRequestShown>;
    #[async] joining::decide_join_request(request: i64, approve: bool) -> Vec<lodge_core::sync::api::JoinRequestShown>;
    #[async] joining::join_domains() -> Vec<String>;
    #[async] joining::set_join_domains(domains: Vec<String>) -> Vec<String>;
    joining::my_contact() -> joining::MyContact;
    joining::update_my_contact(contact: joining::MyContact) -> joining::MyContact;

    announcements::active_announcements() -> Vec<lodge_core::announcement::Announcement>;
    announcements::acknowledge_announcement(id: lodge_core::AnnouncementId) -> ();
    announcements::announce(form: lodge_core::announcement::NewAnnouncement) -> lodge_core::AnnouncementId;
    announcements::announcement_desk() -> announcements::AnnouncementDesk;
    #[async] announcements::announcement_deliveries(id: lodge_core::AnnouncementId) -> Vec<lodge_core::notice::Delivery>;
    announcements::end_of_day_reminder() -> Option<announcements::EndOfDayReminder>;

    roll_call::running_roll_call() -> Option<lodge_core::roll_call::RollCall>;
    roll_call::roll_call(id: lodge_core::RollCallId) -> Option<lodge_core::roll_call::RollCall>;
    roll_call::roll_calls() -> Vec<lodge_core::roll_call::RollCallSummary>;
    roll_call::start_roll_call(start: lodge_core::roll_call::StartRollCall) -> lodge_core::RollCallId;
    #[async] roll_call::start_roll_call_from_phone(start: lodge_core::roll_call::StartRollCall) -> lodge_core::RollCallId;
    roll_call::mark_roll_call(roll_call: lodge_core::RollCallId, who: lodge_core::roll_call::Accountable, standing: lodge_core::roll_call::Standing) -> ();
    roll_call::end_roll_call(roll_call: lodge_core::RollCallId) -> ();

    attention::needs_attention() -> Vec<lodge_core::RefusedChange>;
    attention::discard_refused(doc: lodge_core::DocId) -> ();
    attention::retry_refused(doc: lodge_core::DocId) -> ();

    kiosk::kiosk_welcome() -> kiosk::KioskWelcome;
    kiosk::find_hosts(text: String) -> Vec<kiosk::Host>;
    kiosk::check_guest_form(form: lodge_core::visit::GuestForm) -> Vec<lodge_core::visit::FieldError>;
    kiosk::register_guest(form: lodge_core::visit::GuestForm) -> ();

    reception::desk_board() -> reception::DeskBoard;
    reception::guest_cards() -> Vec<lodge_core::site::CardInfo>;
    reception::admit(request: lodge_core::visit::AdmitRequest) -> ();
    reception::reject(visit: lodge_core::VisitId, reason: lodge_core::visit::RejectReason) -> ();
    reception::release(visit: lodge_core::VisitId) -> ();
    expected::expect_guest(guest: lodge_core::visit::ExpectedGuest) -> lodge_core::visit::Invitation;
    #[async] expected::expect_my_guest(guest: lodge_core::visit::ExpectedGuest) -> lodge_core::visit::Invitation;
    expected::guest_hosts() -> Vec<lodge_core::person::DirectoryPerson>;
    expected::guest_arrived(visit: lodge_core::VisitId) -> ();
    #[async] expected::find_invitation(code: String) -> expected::InvitationLookup;
    #[async] expected::arrive_with_invitation(code: String, form: lodge_core::visit::GuestForm) -> ();
    reception::guest_badge(visit: lodge_core::VisitId, words: crate::codes::guest_badge::BadgeWords) -> String;
    reception::release_card(card: lodge_core::CardNumber) -> lodge_core::visit::Visit;
    reception::visit_by_card(card: lodge_core::CardNumber) -> Option<lodge_core::visit::Visit>;
    reception::conflict_inbox() -> Vec<reception::InboxEntry>;
    reception::resolve_key_conflict(key: lodge_core::KeyId, keep: lodge_core::LoanId) -> ();
    reception::resolve_presence_conflict(person: lodge_core::PersonId, keep: lodge_core::EventId) -> ();
    reception::resolve_card_conflict(card: lodge_core::CardNumber, keep: lodge_core::VisitId, fixes: Vec<(lodge_core::VisitId, lodge_core::visit::CardFix)>) -> ();
    reception::evacuation() -> reception::Evacuation;

    staff::my_presence(person: Option<lodge_core::PersonId>) -> staff::MyPresence;
    staff::sign_in(person: Option<lodge_core::PersonId>) -> lodge_core::Timestamp;
    staff::sign_out(person: Option<lodge_core::PersonId>) -> lodge_core::presence::SignOutReceipt;
    staff::staff_people() -> Vec<lodge_core::person::DirectoryPerson>;

    badge::card_typed(number: String) -> crate::events::CardRead;
    badge::card_tapped(uid: String, source: crate::events::CardSource) -> crate::events::CardRead;
    badge::badge_readers() -> Vec<String>;

    worker::item_by_code(code: String) -> worker::ItemView;
    worker::take_item(code: String) -> lodge_core::equipment::Activation;
    worker::return_item(code: String) -> lodge_core::ItemId;
    worker::my_items() -> Vec<lodge_core::equipment::Item>;
    worker::free_items() -> Vec<lodge_core::equipment::Item>;
    worker::repair_categories() -> Vec<lodge_core::site::RepairCategory>;
    worker::report_fault(item: lodge_core::ItemId, category: lodge_core::RepairCategoryId, note: String) -> lodge_core::TicketId;
    worker::my_tickets() -> Vec<lodge_core::repair::Ticket>;
    worker::read_code(image: String) -> Option<worker::ReadCode>;

    keydesk::find_customer(query: keydesk::CustomerQuery) -> keydesk::Customer;
    keydesk::key_shelf() -> keydesk::KeyShelf;
    keydesk::loans(filter: lodge_core::key_loan::LoanFilter) -> Vec<lodge_core::key_loan::Loan>;
    keydesk::checkout_key(request: lodge_core::key_loan::CheckoutRequest) -> lodge_core::LoanId;
    keydesk::checkout_walk_in(request: lodge_core::key_loan::CheckoutRequest, walk_in: lodge_core::key_loan::WalkIn) -> lodge_core::LoanId;
    keydesk::return_key(key: lodge_core::KeyId) -> ();
    keydesk::renew_key(key: lodge_core::KeyId, due_at: Option<lodge_core::Timestamp>) -> lodge_core::Timestamp;
    keydesk::mark_lost(key: lodge_core::KeyId) -> ();
    keydesk::mark_paid(key: lodge_core::KeyId) -> ();
    keydesk::grant_exception(customer: lodge_core::PersonId, key_type: lodge_core::KeyTypeId, max_keys: u32, expires_at: lodge_core::Timestamp) -> lodge_core::ExceptionId;
    keydesk::revoke_exception(id: lodge_core::ExceptionId) -> ();

    admin::dashboard() -> admin::Dashboard;
    history::visit_history(search: lodge_core::visit::VisitSearch) -> Vec<lodge_core::visit::Visit>;
    history::visit_timeline(visit: lodge_core::VisitId) -> Vec<lodge_core::DocChange>;
    history::change_history(doc: lodge_core::DocId) -> Vec<lodge_core::DocChange>;
    history::export_visits(search: lodge_core::visit::VisitSearch) -> String;
    history::statistics(from: String, to: String) -> lodge_core::statistics::Statistics;
    history::export_statistics(from: String, to: String) -> String;
    admin::equipment() -> Vec<lodge_core::equipment::Item>;
    admin::report_fault_on_new_item(item: lodge_core::equipment::NewItem, category: lodge_core::RepairCategoryId, note: String) -> (lodge_core::ItemId, lodge_core::TicketId);
    admin::retire_item(item: lodge_core::ItemId) -> ();
    admin::item_history(item: lodge_core::ItemId) -> Vec<lodge_core::equipment::CustodyPeriod>;
    admin::key_history(key: lodge_core::KeyId) -> Vec<lodge_core::key_loan::Loan>;
    admin::add_item(item: lodge_core::equipment::NewItem) -> lodge_core::ItemId;
    admin::item_labels(items: Vec<lodge_core::ItemId>) -> Vec<String>;
    admin::repair_board() -> Vec<lodge_core::repair::Ticket>;
    admin::set_repair_state(ticket: lodge_core::TicketId, state: lodge_core::repair::RepairState) -> ();
    admin::add_repair_note(ticket: lodge_core::TicketId, note: String) -> ();
    admin::repair_log(ticket: lodge_core::TicketId) -> Vec<lodge_core::repair::RepairLogEntry>;
    admin::add_key(key_type: lodge_core::KeyTypeId, label: String) -> lodge_core::KeyId;
    admin::retire_key(key: lodge_core::KeyId) -> ();
    admin::register_card(number: lodge_core::CardNumber, uid: lodge_core::CardUid) -> lodge_core::site::CardInfo;
    #[async] admin::site_devices() -> Vec<lodge_core::sync::SiteDevice>;
    #[async] admin::revoke_device(device: lodge_core::DeviceId) -> lodge_core::sync::SiteDevice;
    #[async] admin::create_code(role: lodge_core::Role, person: Option<lodge_core::PersonId>) -> admin::NewCode;
    #[async] admin::test_channel(test: lodge_core::sync::api::ChannelTest) -> Vec<lodge_core::sync::api::ChannelTried>;
    #[async] admin::slack_hooks() -> Vec<lodge_core::sync::api::SlackHookShown>;
    #[async] admin::add_slack_hook(hook: lodge_core::sync::api::NewSlackHook) -> Vec<lodge_core::sync::api::SlackHookShown>;
    #[async] admin::remove_slack_hook(number: i64) -> Vec<lodge_core::sync::api::SlackHookShown>;
    #[async] admin::mail_relay() -> Option<lodge_core::sync::api::MailRelayShown>;
    #[async] admin::set_mail_relay(relay: lodge_core::sync::api::NewMailRelay) -> Option<lodge_core::sync::api::MailRelayShown>;
    #[async] admin::clear_mail_relay() -> Option<lodge_core::sync::api::MailRelayShown>;

    site::site_setup() -> site::SiteSetup;
    site::set_card_type(spec: lodge_core::site::CardTypeSpec) -> ();
    site::set_department(id: lodge_core::DepartmentId, name: String) -> ();
    site::set_affiliation(id: lodge_core::AffiliationId, name: String, requires_user_id: bool) -> ();
    site::set_key_type(id: lodge_core::KeyTypeId, name: String, loan_days: u32) -> ();
    site::set_repair_category(id: lodge_core::RepairCategoryId, name: String) -> ();
    site::set_department_contact(id: lodge_core::DepartmentId, contact: Option<String>) -> ();
    site::set_reminder_time(time: String) -> ();
    site::set_retention_days(days: u32) -> ();
    site::set_presence_retention_days(days: u32) -> ();
    site::set_site_language(language: String) -> ();
    site::set_overdue_contact_after_days(days: u32) -> ();
    site::set_guest_policy(contact_required: bool, purpose_required: bool, consent_text: String) -> ();
    site::set_consent_text(language: String, text: String) -> ();
    site::people_list(search: String) -> Vec<lodge_core::person::Person>;
    site::create_person(form: lodge_core::person::PersonForm) -> lodge_core::PersonId;
    site::update_person(id: lodge_core::PersonId, form: lodge_core::person::PersonForm) -> ();
    site::person_history(id: lodge_core::PersonId) -> lodge_core::person::PersonHistory;
    site::deactivate_person(id: lodge_core::PersonId) -> ();
}
