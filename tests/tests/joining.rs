//! People join on their own, across the real server: a staff member types
//! their e-mail on a new phone, gets a six-digit code from a real SMTP
//! server, answers it, and the phone is theirs; known and unknown contacts
//! get the same bytes in the same time; the fourth wrong answer is refused
//! even when right; a phone signs itself out; a login link enrols one more
//! phone; an operator's invite creates a site whose first admin is the
//! device that redeemed it, and a support operator gets 403 on every
//! document route; every row of the audit trail carries the address.

use std::time::Instant;

use lodge_core::sync::admin::{AdminError, ask_sign_in_code, audit, join_code, leave, login_link};
use lodge_core::sync::api::{self, ApiErrorKind, AuditQuery};
use lodge_core::{Actor, NewSite, Role, Store, SystemClock};
use lodge_tests::mailbox::Mailbox;
use lodge_tests::site::{LIMIT, TestSite};
use lodge_tests::{Device, Server, admin, eventually};

fn kind(e: AdminError) -> ApiErrorKind {
    match e {
        AdminError::Refused { kind, .. } => kind,
        other => panic!("a refusal, not {other}"),
    }
}

fn enrol_kind(e: lodge_core::sync::EnrolError) -> ApiErrorKind {
    match e {
        lodge_core::sync::EnrolError::Server(e) => kind(e),
        other => panic!("a refusal, not {other}"),
    }
}

/// The six digits of the newest code mailed to `to`.
async fn mailed_code(mailbox: &Mailbox, to: &str, nth: usize) -> String {
    let to_them = || mailbox.mails().into_iter().filter(|m| m.header("To").is_some_and(|h| h.contains(to))).collect::<Vec<_>>();
    eventually("the code arrives", LIMIT, || to_them().len() >= nth).await.unwrap();
    let subject = to_them()[nth - 1].subject().unwrap();
    let code: String = subject.split(": ").nth(1).unwrap().chars().take(6).collect();
    assert!(code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()), "{subject}");
    code
}

async fn mailed_site() -> (TestSite, Mailbox, tempfile::TempDir) {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let url = mailbox.url();
    let s = TestSite::start_with(|data| Server::start_with(data, &["--smtp-url", &url, "--mail-from", "Lodge <lodge@lodge.test>"])).await;
    (s, mailbox, folder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_member_joins_by_a_mailed_code_signs_in_and_reception_sees_them_in() {
    let (s, mailbox, _folder) = mailed_site().await;
    let http = s.server.http_url();
    let desk = s.device("desk", "reception", None).await;
    let site_code = join_code(&http, &s.admin.token).await.unwrap().code;
    assert!(admin(&s.server.data, &["site", "list"]).unwrap().contains(&format!("join code {site_code}")), "the command line shows it too");

    let asked = ask_sign_in_code(&http, &site_code.to_lowercase(), " Anna@Lodge.test ").await.unwrap();
    assert_eq!((asked.site_name.as_str(), asked.minutes), ("Lodge House", 10));
    let code = mailed_code(&mailbox, "anna@lodge.test", 1).await;
    let mail = mailbox.mails().into_iter().find(|m| m.raw.contains("anna@lodge.test")).unwrap();
    assert!(mail.body().contains("Anna Kowalska"), "the mail greets her");

    // An unknown site's code is refused; a wrong contact's answer enrols nobody.
    assert_eq!(kind(ask_sign_in_code(&http, "ZZZZZZ", "anna@lodge.test").await.unwrap_err()), ApiErrorKind::NotFound);
    assert_eq!(kind(ask_sign_in_code(&http, &site_code, "anna").await.unwrap_err()), ApiErrorKind::BadContact);

    let phone = Device::join_by_sign_in_code(&s.server, s.dir.path(), "anna-phone", &site_code, "anna@lodge.test", &code).await.unwrap();
    assert_eq!(phone.role, Role::Staff, "the role her person record says");
    eventually("the phone has the site", LIMIT, || phone.read(|st| st.site_settings().unwrap().is_some())).await.unwrap();
    // The code is spent.
    let dir = tempfile::tempdir().unwrap();
    let again = Device::join_by_sign_in_code(&s.server, dir.path(), "again", &site_code, "anna@lodge.test", &code).await.err().unwrap();
    assert!(again.to_string().contains("ask for a new code"), "{again}");

    // One tap: she is in, and reception sees it.
    let anna = Actor { person: Some(s.host), device: Some(phone.id), name: "Anna Kowalska".into(), role: Role::Staff };
    phone.act(|st| st.sign_in(&anna, s.host)).unwrap();
    eventually("reception sees her in", LIMIT, || desk.read(|st| st.people_in().unwrap().iter().any(|p| p.person == s.host))).await.unwrap();

    // The audit trail has the code asked for and redeemed, from this address,
    // with the contact masked.
    let rows = audit(&http, &s.admin.token, &AuditQuery { action: Some("sign-in-code".into()), ..Default::default() }).await.unwrap();
    let redeemed = rows.iter().find(|r| r.action == "sign-in-code-redeemed" && r.outcome == "ok").expect("the redeemed code");
    assert_eq!((redeemed.address.as_str(), redeemed.device, redeemed.person), ("127.0.0.1", Some(phone.id), Some(s.host)));
    let asked_row = rows.iter().find(|r| r.action == "sign-in-code" && r.outcome == "ok").expect("the code asked for");
    assert_eq!((asked_row.address.as_str(), asked_row.detail.as_str()), ("127.0.0.1", "a…@lodge.test"));
    assert!(rows.iter().all(|r| !r.detail.contains("anna@")), "no whole contact is kept");
    // Admin calls are kept with who made them.
    let calls = audit(&http, &s.admin.token, &AuditQuery { action: Some("/admin/join-code".into()), ..Default::default() }).await.unwrap();
    assert_eq!((calls[0].action.as_str(), calls[0].device, calls[0].address.as_str()), ("GET /admin/join-code", Some(s.admin.id), "127.0.0.1"));
    let printed = admin(&s.server.data, &["audit", "--site", &s.site.to_string(), "--action", "sign-in-code"]).unwrap();
    assert!(printed.contains("127.0.0.1") && printed.contains("sign-in-code-redeemed"), "{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_and_unknown_contacts_get_the_same_bytes_in_the_same_time() {
    let s = TestSite::start_with(|data| {
        Server::start_with(data, &["--codes-per-contact", "1000", "--codes-per-site", "100000", "--enrol-burst-per-address", "100000", "--enrol-burst", "100000"])
    })
    .await;
    let http = s.server.http_url();
    let site_code = join_code(&http, &s.admin.token).await.unwrap().code;
    let client = reqwest::Client::new();
    let url = format!("{http}{}", api::JOIN_CODE_PATH);
    let ask = |contact: &'static str| {
        let (client, url, site_code) = (client.clone(), url.clone(), site_code.clone());
        async move {
            let body = serde_json::json!({ "site_code": site_code, "contact": contact });
            let started = Instant::now();
            let response = client.post(&url).json(&body).send().await.unwrap();
            let status = response.status();
            let mut headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .filter(|(name, _)| *name != "date")
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
                .collect();
            headers.sort();
            let bytes = response.bytes().await.unwrap();
            (started.elapsed(), status, headers, bytes)
        }
    };
    // Warm both paths, then alternate, so drift hits both alike.
    let known = ask("anna@lodge.test").await;
    let unknown = ask("nobody@lodge.test").await;
    assert_eq!((known.1, &known.2, &known.3), (unknown.1, &unknown.2, &unknown.3), "byte-identical answers");
    assert_eq!(known.1, reqwest::StatusCode::OK);
    let (mut k, mut u) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        let a = ask("anna@lodge.test").await;
        let b = ask("nobody@lodge.test").await;
        assert_eq!(a.3, b.3);
        k.push(a.0.as_secs_f64() * 1e3);
        u.push(b.0.as_secs_f64() * 1e3);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mk, mu) = (mean(&k), mean(&u));
    let noise = (k.iter().map(|x| (x - mk).powi(2)).sum::<f64>() / (k.len() - 1) as f64).sqrt();
    let (dk, du) = (median(&mut k), median(&mut u));
    eprintln!("known: mean {mk:.3} ms, median {dk:.3} ms, sd {noise:.3} ms; unknown: mean {mu:.3} ms, median {du:.3} ms");
    assert!((dk - du).abs() < noise, "the medians differ by {:.3} ms, more than the known case's noise ({noise:.3} ms)", (dk - du).abs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fourth_answer_is_refused_even_when_right_and_asking_is_limited_per_contact() {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let url = mailbox.url();
    let s = TestSite::start_with(|data| Server::start_with(data, &["--smtp-url", &url, "--mail-from", "lodge@lodge.test", "--codes-per-contact", "2"])).await;
    let http = s.server.http_url();
    let site_code = join_code(&http, &s.admin.token).await.unwrap().code;
    ask_sign_in_code(&http, &site_code, "anna@lodge.test").await.unwrap();
    let code = mailed_code(&mailbox, "anna@lodge.test", 1).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let dir = tempfile::tempdir().unwrap();
    for n in 0..3 {
        let e = Device::join_by_sign_in_code(&s.server, dir.path(), &format!("try{n}"), &site_code, "anna@lodge.test", wrong).await.err().unwrap();
        assert_eq!(enrol_kind(e.downcast().unwrap()), ApiErrorKind::BadCode);
    }
    let e = Device::join_by_sign_in_code(&s.server, dir.path(), "right", &site_code, "anna@lodge.test", &code).await.err().unwrap();
    assert_eq!(enrol_kind(e.downcast().unwrap()), ApiErrorKind::BadCode, "three wrong answers ended the code");

    // A new code works; a third in the hour is refused, for anyone alike.
    ask_sign_in_code(&http, &site_code, "anna@lodge.test").await.unwrap();
    let second = mailed_code(&mailbox, "anna@lodge.test", 2).await;
    assert_eq!(kind(ask_sign_in_code(&http, &site_code, "anna@lodge.test").await.unwrap_err()), ApiErrorKind::TooManyAttempts);
    ask_sign_in_code(&http, &site_code, "nobody@lodge.test").await.unwrap();
    ask_sign_in_code(&http, &site_code, "nobody@lodge.test").await.unwrap();
    assert_eq!(kind(ask_sign_in_code(&http, &site_code, "nobody@lodge.test").await.unwrap_err()), ApiErrorKind::TooManyAttempts);
    let phone = Device::join_by_sign_in_code(&s.server, dir.path(), "phone", &site_code, "anna@lodge.test", &second).await.unwrap();
    assert_eq!(phone.role, Role::Staff);
    assert_eq!(mailbox.mails().iter().filter(|m| m.raw.contains("nobody@")).count(), 0, "nothing is sent to a contact nobody has");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_link_enrols_one_more_phone_once_and_a_phone_signs_itself_out() {
    let s = TestSite::start().await;
    let http = s.server.http_url();
    let phone = s.device("anna-phone", "staff", Some(s.host)).await;
    let link = login_link(&http, &phone.token, None).await.unwrap();
    assert!(link.link.starts_with("lodge://join?code="), "{}", link.link);
    // Not for someone else, and a kiosk makes none.
    let kiosk = s.device("kiosk", "kiosk", None).await;
    assert_eq!(kind(login_link(&http, &phone.token, Some(lodge_core::PersonId::new())).await.unwrap_err()), ApiErrorKind::Forbidden);
    assert_eq!(kind(login_link(&http, &kiosk.token, None).await.unwrap_err()), ApiErrorKind::Forbidden);
    let tablet = Device::enrol(&s.server, s.dir.path(), "anna-tablet", &link.code).await.unwrap();
    assert_eq!(tablet.role, Role::Staff);
    assert!(Device::enrol(&s.server, s.dir.path(), "third", &link.code).await.is_err(), "once");
    // An admin makes one for anyone with a phone.
    login_link(&http, &s.admin.token, Some(s.host)).await.unwrap();
    assert_eq!(kind(login_link(&http, &s.admin.token, None).await.unwrap_err()), ApiErrorKind::UnknownPerson);

    // "Sign this phone out": its token is refused from then on; the other phone goes on.
    leave(&http, &phone.token).await.unwrap();
    assert_eq!(kind(login_link(&http, &phone.token, None).await.unwrap_err()), ApiErrorKind::Unauthorized);
    login_link(&http, &tablet.token, None).await.unwrap();
    let devices = lodge_core::sync::admin::devices(&http, &s.admin.token).await.unwrap();
    assert!(devices.iter().find(|d| d.device == phone.id).unwrap().revoked_at.is_some());
    // The trail tells a sign-in by link from an enrolment, and keeps the leaving.
    let rows = audit(&http, &s.admin.token, &AuditQuery::default()).await.unwrap();
    assert!(rows.iter().any(|r| r.action == "enrol-by-link" && r.device == Some(tablet.id) && r.person == Some(s.host)));
    assert!(rows.iter().any(|r| r.action == "POST /devices/leave" && r.device == Some(phone.id) && r.outcome == "ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_creates_a_site_and_its_first_admin_and_support_sees_no_document() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    std::fs::create_dir_all(&data).unwrap();
    let root = admin(&data, &["operator", "add", "Ola Root", "--kind", "root"]).unwrap();
    let support = admin(&data, &["operator", "add", "Sam Support"]).unwrap();
    assert!(admin(&data, &["operator", "list"]).unwrap().contains("Sam Support"));
    let server = Server::start(&data, 0).unwrap();
    let http = server.http_url();
    let client = reqwest::Client::new();

    let invite: api::Invite = client
        .post(format!("{http}{}", api::OPERATOR_INVITES_PATH))
        .bearer_auth(&support)
        .json(&api::InviteRequest { company: "Acme".into(), days: None })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(invite.code.starts_with("INV-"));

    // A device starts its site and redeems the invite: the site is the server's now.
    let path = dir.path().join("acme-admin.sqlite");
    let store = std::sync::Arc::new(std::sync::Mutex::new(Store::open(&path, std::sync::Arc::new(SystemClock)).unwrap()));
    let site = store.lock().unwrap().create_site(&Actor::site_founder("Ada"), NewSite { name: "Acme House".into(), time_zone: "UTC".into() }).unwrap();
    let enrolled = lodge_core::sync::enrol_by_invite(&http, &invite.code.to_lowercase(), "Ada's laptop", &store).await.unwrap();
    assert_eq!((enrolled.role, enrolled.site), (Role::Admin, site));
    let sync = lodge_core::sync::spawn(store.clone(), server.ws_url(), enrolled.token.clone());
    sync.changed();
    let sites = || async {
        client.get(format!("{http}{}", api::OPERATOR_SITES_PATH)).bearer_auth(&support).send().await.unwrap().json::<Vec<api::SiteHealth>>().await.unwrap()
    };
    let health = sites().await;
    let acme = health.iter().find(|h| h.site == site).expect("the site is on the server");
    assert_eq!((acme.name.as_str(), acme.devices), ("Acme House", 1));
    // The invite is spent.
    let other = Store::open(&dir.path().join("other.sqlite"), std::sync::Arc::new(SystemClock)).unwrap();
    let other = std::sync::Arc::new(std::sync::Mutex::new(other));
    other.lock().unwrap().create_site(&Actor::site_founder("Eve"), NewSite { name: "Eve".into(), time_zone: "UTC".into() }).unwrap();
    assert_eq!(enrol_kind(lodge_core::sync::enrol_by_invite(&http, &invite.code, "again", &other).await.unwrap_err()), ApiErrorKind::BadCode);
    // The admin's site reaches the server: a code for a desk works.
    eventually("the site reaches the server", LIMIT, || store.lock().unwrap().outbox().unwrap().is_empty()).await.unwrap();
    let desk_code = lodge_core::sync::admin::create_code(&http, &enrolled.token, Role::Reception, None, 10).await.unwrap();
    let desk = Device::enrol(&server, dir.path(), "desk", &desk_code.code).await.unwrap();
    eventually("the desk has the site", LIMIT, || desk.read(|st| st.site_settings().unwrap().is_some_and(|s| s.name == "Acme House"))).await.unwrap();

    // Support: 403 on every document route, and on the root's routes.
    let forbidden = [
        ("GET", api::ADMIN_DEVICES_PATH.to_owned()),
        ("POST", api::revoke_path(desk.id)),
        ("POST", api::ADMIN_CODES_PATH.to_owned()),
        ("GET", api::ADMIN_JOBS_PATH.to_owned()),
        ("POST", api::ADMIN_JOBS_RUN_PATH.to_owned()),
        ("POST", api::ADMIN_RETENTION_RUN_PATH.to_owned()),
        ("GET", api::ADMIN_RETENTION_REPORTS_PATH.to_owned()),
        ("GET", api::ADMIN_PRESENCE_PATH.to_owned()),
        ("GET", api::ADMIN_JOIN_CODE_PATH.to_owned()),
        ("GET", api::ADMIN_AUDIT_PATH.to_owned()),
        ("POST", api::ADMIN_CHANNEL_TEST_PATH.to_owned()),
        ("GET", api::ADMIN_SLACK_HOOKS_PATH.to_owned()),
        ("GET", api::ADMIN_MAIL_RELAY_PATH.to_owned()),
        ("POST", api::EXPECTED_PATH.to_owned()),
        ("POST", api::ROLL_CALLS_PATH.to_owned()),
        ("POST", api::KIOSK_INVITATION_PATH.to_owned()),
        ("POST", api::KIOSK_ARRIVAL_PATH.to_owned()),
        ("POST", api::LOGIN_LINKS_PATH.to_owned()),
        ("GET", api::SYNC_PATH.to_owned()),
        ("GET", api::OPERATOR_OPERATORS_PATH.to_owned()),
        ("GET", api::OPERATOR_AUDIT_PATH.to_owned()),
    ];
    for (method, path) in &forbidden {
        let request = client.request(method.parse().unwrap(), format!("{http}{path}")).bearer_auth(&support);
        // A body where the route reads one, so that only the token decides.
        let request = if *method == "POST" { request.json(&serde_json::json!({})) } else { request };
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN, "{method} {path}");
    }
    // Root may list operators and read the whole trail, with addresses.
    let ops: Vec<api::OperatorShown> =
        client.get(format!("{http}{}", api::OPERATOR_OPERATORS_PATH)).bearer_auth(&root).send().await.unwrap().json().await.unwrap();
    assert_eq!(ops.len(), 2);
    let trail: Vec<api::AuditEntry> =
        client.get(format!("{http}{}", api::OPERATOR_AUDIT_PATH)).bearer_auth(&root).send().await.unwrap().json().await.unwrap();
    let redeemed = trail.iter().find(|r| r.action == "invite-redeemed" && r.outcome == "ok").expect("the invite");
    assert_eq!((redeemed.site, redeemed.address.as_str(), redeemed.detail.as_str()), (Some(site), "127.0.0.1", "Acme"));
    assert!(trail.iter().any(|r| r.action == "POST /operator/invites" && r.operator.is_some() && r.address == "127.0.0.1"));
    assert!(trail.iter().any(|r| r.action == "GET /admin/devices" && r.outcome == "refused 403" && r.operator.is_some()));
    assert!(trail.iter().all(|r| r.address == "127.0.0.1"), "every row has the address");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_worker_asks_to_join_and_the_admin_approves_or_their_company_domain_does() {
    use lodge_core::sync::admin::{decide_join_request, join_domains, join_requests, request_to_join, set_join_domains};
    let (s, mailbox, _folder) = mailed_site().await;
    let http = s.server.http_url();
    let site_code = join_code(&http, &s.admin.token).await.unwrap().code;
    let ask = |name: &str, contact: &str| api::JoinRequest { site_code: site_code.clone(), name: name.into(), contact: contact.into() };

    // Not a person yet: the request waits for the admin; the answer is the
    // one a known person gets.
    let waiting = request_to_join(&http, &ask("Piotr Nowak", "piotr@north.test")).await.unwrap();
    let known = request_to_join(&http, &ask("Anna", "anna@lodge.test")).await.unwrap();
    assert_eq!(waiting, known);
    let list = join_requests(&http, &s.admin.token).await.unwrap();
    assert_eq!(list.iter().map(|r| (r.name.as_str(), r.contact.as_str(), r.address.as_str())).collect::<Vec<_>>(), vec![("Piotr Nowak", "piotr@north.test", "127.0.0.1")]);
    assert!(mailbox.mails().iter().all(|m| !m.raw.contains("piotr@north.test")), "nothing is sent before approval");
    // Anna, who is someone, got a code at once.
    mailed_code(&mailbox, "anna@lodge.test", 1).await;

    // Approved: Piotr is made a worker and his code comes.
    let phone_kiosk = s.device("kiosk", "kiosk", None).await;
    assert!(decide_join_request(&http, &phone_kiosk.token, list[0].id, true).await.is_err(), "an admin's decision");
    assert!(decide_join_request(&http, &s.admin.token, list[0].id, true).await.unwrap().is_empty());
    let code = mailed_code(&mailbox, "piotr@north.test", 1).await;
    let dir = tempfile::tempdir().unwrap();
    let phone = Device::join_by_sign_in_code(&s.server, dir.path(), "piotr-phone", &site_code, "piotr@north.test", &code).await.unwrap();
    assert_eq!(phone.role, Role::Worker);
    eventually("the admin has Piotr", LIMIT, || s.admin.read(|st| st.person_by_email(&lodge_core::Email::parse("piotr@north.test").unwrap()).unwrap().is_some_and(|p| p.roles == vec![Role::Worker]))).await.unwrap();

    // Refused: nothing is made or sent.
    request_to_join(&http, &ask("Eve", "eve@north.test")).await.unwrap();
    let eve = join_requests(&http, &s.admin.token).await.unwrap()[0].id;
    assert!(decide_join_request(&http, &s.admin.token, eve, false).await.unwrap().is_empty());
    assert_eq!(kind(decide_join_request(&http, &s.admin.token, eve, true).await.unwrap_err()), ApiErrorKind::NotFound, "decided once");

    // The company's domain allowed: approved by the code they receive.
    assert_eq!(kind(set_join_domains(&http, &s.admin.token, &["north".into()]).await.unwrap_err()), ApiErrorKind::BadRequest);
    assert_eq!(set_join_domains(&http, &s.admin.token, &["@North.test ".into()]).await.unwrap(), vec!["north.test".to_owned()]);
    assert_eq!(join_domains(&http, &s.admin.token).await.unwrap(), vec!["north.test".to_owned()]);
    request_to_join(&http, &ask("Jan Kowal", "jan@north.test")).await.unwrap();
    assert!(join_requests(&http, &s.admin.token).await.unwrap().is_empty(), "no waiting");
    let code = mailed_code(&mailbox, "jan@north.test", 1).await;
    let jan = Device::join_by_sign_in_code(&s.server, dir.path(), "jan-phone", &site_code, "jan@north.test", &code).await.unwrap();
    assert_eq!(jan.role, Role::Worker);
    let rows = audit(&http, &s.admin.token, &AuditQuery { action: Some("join-request".into()), ..Default::default() }).await.unwrap();
    assert!(rows.iter().any(|r| r.outcome == "approved-by-domain" && r.address == "127.0.0.1"));
    assert!(rows.iter().any(|r| r.outcome == "waiting"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_are_refused_in_the_servers_own_typed_words_and_change_nothing() {
    let s = TestSite::start().await;
    let http = s.server.http_url();
    let client = reqwest::Client::new();
    let devices_before = lodge_core::sync::admin::devices(&http, &s.admin.token).await.unwrap().len();
    let routes = [
        (api::ENROL_PATH, false),
        (api::JOIN_CODE_PATH, false),
        (api::JOIN_ENROL_PATH, false),
        (api::JOIN_REQUEST_PATH, false),
        (api::INVITE_REDEEM_PATH, false),
        (api::ADMIN_CODES_PATH, true),
        (api::EXPECTED_PATH, true),
        (api::LOGIN_LINKS_PATH, true),
        (api::ADMIN_CHANNEL_TEST_PATH, true),
    ];
    for (path, with_token) in routes {
        for (body, json) in [("{", true), ("\"text\"", true), ("7", true), ("\u{0}\u{1}", true), (r#"{"code": "X"}"#, false)] {
            let mut request = client.post(format!("{http}{path}")).body(body);
            if json {
                request = request.header("content-type", "application/json");
            }
            if with_token {
                request = request.bearer_auth(&s.admin.token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST, "{path} {body:?}");
            let refusal: api::ErrorBody = response.json().await.unwrap_or_else(|e| panic!("{path} {body:?}: not our body: {e}"));
            assert_eq!(refusal.kind, ApiErrorKind::BadRequest, "{path} {body:?}");
            assert!(refusal.error.starts_with("The request's body could not be read"), "{}", refusal.error);
        }
    }
    // A device's name longer than any list shows: refused, the code not spent.
    let code = lodge_tests::code(&s.server.data, s.site, "kiosk", None).unwrap();
    let actor = automerge::ActorId::random().to_hex_string();
    let long = serde_json::json!({ "code": code, "actor": actor, "name": "x".repeat(100_000) });
    let response = client.post(format!("{http}{}", api::ENROL_PATH)).json(&long).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<api::ErrorBody>().await.unwrap().kind, ApiErrorKind::BadRequest);
    let dir = tempfile::tempdir().unwrap();
    Device::enrol(&s.server, dir.path(), "lobby", &code).await.unwrap();
    // Fields of the wrong type, where the route reads them.
    let response = client.post(format!("{http}{}", api::JOIN_CODE_PATH)).json(&serde_json::json!({ "site_code": 7, "contact": [] })).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<api::ErrorBody>().await.unwrap().kind, ApiErrorKind::BadRequest);
    assert_eq!(lodge_core::sync::admin::devices(&http, &s.admin.token).await.unwrap().len(), devices_before + 1, "only the kiosk enrolled properly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_joins_by_a_code_texted_to_their_phone_number() {
    let (sms, texts, _) = lodge_tests::sms::sms_api(0).await;
    let s = TestSite::start_with(|data| {
        Server::start_with(data, &["--sms-url", &sms, "--sms-account", "AC0123", "--sms-token", "secret-token", "--sms-from", "+48100200300"])
    })
    .await;
    let http = s.server.http_url();
    let founder = s.founder();
    let form = lodge_core::person::PersonForm { name: "Jan Nowak".into(), phone: Some("+48 600 100 200".into()), roles: vec![Role::Worker], ..Default::default() };
    let jan = s.admin.act(|st| st.create_person(&founder, form)).unwrap();
    lodge_tests::site::settled(&s.admin).await;
    let site_code = join_code(&http, &s.admin.token).await.unwrap().code;

    // Written another way than the record has it: the same number.
    ask_sign_in_code(&http, &site_code, "+48-600-100-200").await.unwrap();
    eventually("the text arrives", LIMIT, || texts.lock().unwrap().iter().any(|t| t.to == "+48 600 100 200")).await.unwrap();
    let body = texts.lock().unwrap().iter().find(|t| t.to == "+48 600 100 200").unwrap().body.clone();
    let code: String = body.split(": ").nth(1).unwrap().chars().take(6).collect();
    assert!(code.chars().all(|c| c.is_ascii_digit()) && code.len() == 6, "{body}");
    assert!(body.contains("Lodge House") && body.contains("10 minutes"), "{body}");
    let dir = tempfile::tempdir().unwrap();
    let phone = Device::join_by_sign_in_code(&s.server, dir.path(), "jan-phone", &site_code, "+48600100200", &code).await.unwrap();
    assert_eq!(phone.role, Role::Worker);
    let devices = lodge_core::sync::admin::devices(&http, &s.admin.token).await.unwrap();
    assert_eq!(devices.iter().find(|d| d.device == phone.id).and_then(|d| d.person), Some(jan));
}
