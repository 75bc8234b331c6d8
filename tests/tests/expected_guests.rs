//! Expected guests across the real server: a host's phone expects a guest
//! (the phone holds no visits, so the server writes it); the invitation
//! reaches a real SMTP server with the code and its QR as a PNG; a kiosk
//! learns the guest from the code alone and checks them in; reception sees
//! them apart, then waiting. Wrong codes are refused, then limited.

use lodge_core::sync::admin::{AdminError, arrive_with_invitation, expect_guest, invited_guest};
use lodge_core::sync::api::{ApiErrorKind, InvitedArrival};
use lodge_core::visit::{ExpectedGuest, GuestForm, VisitState};
use lodge_tests::mailbox::Mailbox;
use lodge_tests::site::{LIMIT, TestSite};
use lodge_tests::{Server, eventually};

fn kind(e: AdminError) -> ApiErrorKind {
    match e {
        AdminError::Refused { kind, .. } => kind,
        other => panic!("a refusal, not {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosts_phone_expects_a_guest_who_gets_the_code_by_mail_and_checks_in_at_the_kiosk_with_it() {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let url = mailbox.url();
    let s = TestSite::start_in("Europe/Warsaw", |data| Server::start_with(data, &["--smtp-url", &url, "--mail-from", "Lodge <lodge@lodge.test>"])).await;
    let phone = s.device("anna-phone", "staff", Some(s.host)).await;
    let desk = s.device("desk", "reception", None).await;
    let kiosk = s.device("kiosk", "kiosk", None).await;
    let key_desk = s.device("key-desk", "key-desk", None).await;
    let http = s.server.http_url();
    let today = lodge_core::site::local_date("Europe/Warsaw", desk.read(|st| st.now())).unwrap().format("%Y-%m-%d").to_string();
    let marta = ExpectedGuest { name: "Marta Wiśniewska".into(), company: "Acme".into(), email: Some("marta@acme.test".into()), host: None, day: today.clone(), purpose: None };

    // The phone checks with its own copy of the rules first, then asks the server.
    let anna = lodge_core::Actor::person(s.host, "Anna Kowalska", lodge_core::Role::Staff);
    phone.read(|st| st.check_expected_guest(&anna, &marta)).unwrap();
    let invitation = expect_guest(&http, &phone.token, &marta).await.unwrap();
    assert!(phone.read(|st| st.visit(invitation.visit).unwrap().is_none()), "the phone holds no guest");
    // Someone else's guest, and a key desk, are refused.
    let for_other = ExpectedGuest { host: Some(lodge_core::PersonId::new()), ..marta.clone() };
    assert_eq!(kind(expect_guest(&http, &phone.token, &for_other).await.unwrap_err()), ApiErrorKind::Forbidden);
    assert_eq!(kind(expect_guest(&http, &key_desk.token, &marta).await.unwrap_err()), ApiErrorKind::Forbidden);
    let past = ExpectedGuest { day: "2020-01-01".into(), ..marta.clone() };
    assert_eq!(kind(expect_guest(&http, &phone.token, &past).await.unwrap_err()), ApiErrorKind::BadGuest);

    // Reception sees her under "expected today", not waiting.
    eventually("the desk sees her expected", LIMIT, || desk.read(|st| st.expected_today().unwrap().iter().any(|v| v.id == invitation.visit))).await.unwrap();
    assert!(desk.read(|st| st.waiting_guests().unwrap().is_empty()));
    assert!(kiosk.read(|st| st.visit(invitation.visit).unwrap().is_none()), "a kiosk holds no one else's data");

    // Her invitation: the day, the host, the code, and a PNG of its QR.
    eventually("the invitation arrives", LIMIT, || mailbox.mails().iter().any(|m| m.raw.contains("marta@acme.test"))).await.unwrap();
    let mail = mailbox.mails().into_iter().find(|m| m.raw.contains("marta@acme.test")).unwrap();
    assert_eq!(mail.subject().as_deref(), Some(format!("You are expected at Lodge House on {today}").as_str()));
    assert!(mail.raw.contains(&invitation.code), "the code is in the message");
    assert!(mail.raw.contains("Content-Type: image/png") && mail.raw.contains("lodge-invitation.png"), "the QR is attached");

    // At the kiosk: a wrong code is refused, the right one names only her.
    assert_eq!(kind(invited_guest(&http, &kiosk.token, "AAAA-AAAA").await.unwrap_err()), ApiErrorKind::UnknownInvitation);
    assert_eq!(kind(invited_guest(&http, &desk.token, &invitation.code).await.unwrap_err()), ApiErrorKind::Forbidden, "kiosks only");
    let invited = invited_guest(&http, &kiosk.token, &invitation.code.to_lowercase()).await.unwrap();
    assert_eq!((invited.name.as_str(), invited.host_name.as_str()), ("Marta Wiśniewska", "Anna Kowalska"));
    let form = GuestForm { name: invited.name, company: invited.company, email: invited.email, consent: true, language: Some("en".into()), ..Default::default() };
    let visit = arrive_with_invitation(&http, &kiosk.token, &InvitedArrival { code: invitation.code.clone(), form: form.clone() }).await.unwrap();
    assert_eq!(visit, invitation.visit);
    eventually("the desk sees her waiting", LIMIT, || desk.read(|st| st.visit(visit).unwrap().is_some_and(|v| v.state == VisitState::Waiting))).await.unwrap();
    assert!(desk.read(|st| st.expected_today().unwrap().is_empty()));
    // The code is spent.
    let again = arrive_with_invitation(&http, &kiosk.token, &InvitedArrival { code: invitation.code.clone(), form }).await.unwrap_err();
    assert_eq!(kind(again), ApiErrorKind::UnknownInvitation);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_invitation_codes_is_limited_per_address() {
    let s = TestSite::start_with(|data| Server::start_with(data, &["--enrol-burst-per-address", "3", "--enrol-refill-secs", "600"])).await;
    let kiosk = s.device("kiosk", "kiosk", None).await;
    let http = s.server.http_url();
    for guess in ["AAAA-AAAB", "AAAA-AAAC", "AAAA-AAAD"] {
        assert_eq!(kind(invited_guest(&http, &kiosk.token, guess).await.unwrap_err()), ApiErrorKind::UnknownInvitation);
    }
    assert_eq!(kind(invited_guest(&http, &kiosk.token, "AAAA-AAAE").await.unwrap_err()), ApiErrorKind::TooManyAttempts);
}
