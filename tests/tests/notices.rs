//! The server acts when nobody is looking: a host is told by e-mail that
//! their guest is here, through a real SMTP server (aiosmtpd), once —
//! however many desks' copies of the admission reach the server, and when
//! the server is killed in the middle of sending it.

use lodge_core::visit::{AdmitRequest, GuestForm};
use lodge_core::{Actor, CardNumber, PersonId, Role, VisitId};
use lodge_tests::mailbox::Mailbox;
use lodge_tests::site::{LIMIT, TestSite, settled};
use lodge_tests::{Device, Server, admin, eventually};

/// A site whose server sends mail to `mailbox`.
async fn site_with(mailbox: &Mailbox) -> TestSite {
    let url = mailbox.url();
    TestSite::start_with(|data| Server::start_with(data, &["--smtp-url", &url, "--mail-from", "Lodge <lodge@lodge.test>"])).await
}

fn desk(d: &Device) -> Actor {
    Actor { person: None, device: Some(d.id), name: "Reception".into(), role: Role::Reception }
}

fn register(kiosk: &Device, host: PersonId, name: &str) -> VisitId {
    let form = GuestForm { name: name.into(), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() };
    kiosk.act(|st| st.register_guest(&kiosk.kiosk(), form)).unwrap()
}

fn admit(d: &Device, visit: VisitId, card: u32) {
    d.act(|st| st.admit(&desk(d), AdmitRequest { visit, card: CardNumber::new(card).unwrap(), take_over: false })).unwrap();
}

/// `lodge-sync jobs list`, a line per job of the rules that act on facts
/// (the rules that run by the clock have their day's runs too).
fn jobs(s: &TestSite) -> Vec<String> {
    let on_facts = |l: &&str| matches!(l.split_whitespace().nth(2), Some("host-told" | "slack-presence"));
    admin(&s.server.data, &["jobs", "list"]).unwrap().lines().filter(on_facts).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_is_told_by_email_once_when_two_desks_admit_their_guest() {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let s = site_with(&mailbox).await;
    let kiosk = s.device("kiosk", "kiosk", None).await;
    let first = s.device("reception-1", "reception", None).await;
    let mut second = s.device("reception-2", "reception", None).await;
    let visit = register(&kiosk, s.host, "Jan Guest");
    eventually("both desks have the guest", LIMIT, || [&first, &second].iter().all(|d| d.read(|st| st.visit(visit).unwrap().is_some())))
        .await
        .unwrap();

    // The second desk is offline and admits the guest too, with its own card.
    second.go_offline();
    admit(&first, visit, 105);
    eventually("the host's mail arrives", LIMIT, || !mailbox.mails().is_empty()).await.unwrap();
    admit(&second, visit, 106);
    second.go_online(&s.server);
    settled(&second).await;
    eventually("the server has both admissions", LIMIT, || {
        first.read(|st| st.conflicts().unwrap().iter().any(|c| c.kind == lodge_core::ConflictKind::VisitAdmittedTwice))
    })
    .await
    .unwrap();

    // One fact, one job, sent; and so one mail. (With several instances,
    // the one asked may learn that another sent it a moment later.)
    eventually("the job is recorded as sent", LIMIT, || jobs(&s).iter().any(|j| j.contains(" sent "))).await.unwrap();
    let listed = jobs(&s);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].contains("host-told") && listed[0].contains(" sent "), "{listed:?}");
    let mails = mailbox.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert!(mail.header("To").unwrap().contains("anna@lodge.test"), "{mail:?}");
    assert!(mail.header("From").unwrap().contains("lodge@lodge.test"), "{mail:?}");
    assert_eq!(mail.header("Subject").as_deref(), Some("Jan Guest is here to see you"));
    assert!(mail.body().contains("Jan Guest from Acme arrived at Lodge House at "), "{}", mail.body());
    assert!(mail.body().starts_with("Anna Kowalska,"), "{}", mail.body());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_cut_off_by_a_killed_server_goes_out_once_after_the_restart() {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let mut s = site_with(&mailbox).await;
    let kiosk = s.device("kiosk", "kiosk", None).await;
    let reception = s.device("reception", "reception", None).await;
    let visit = register(&kiosk, s.host, "Ola Guest");
    eventually("the desk has the guest", LIMIT, || reception.read(|st| st.visit(visit).unwrap().is_some())).await.unwrap();

    // The SMTP server takes the message's envelope and then never answers
    // its end: the server is killed right there.
    mailbox.stall();
    admit(&reception, visit, 105);
    eventually("the mail is being sent", LIMIT, || mailbox.stalled()).await.unwrap();
    s.server.kill();
    mailbox.flow();
    assert!(mailbox.mails().is_empty(), "nothing was accepted before the kill");
    let url = mailbox.url();
    s.server = Server::start_with(&s.server.data.clone(), &["--smtp-url", &url]).unwrap();

    eventually("the mail goes out after the restart", LIMIT, || mailbox.mails().len() == 1).await.unwrap();
    eventually("the job is recorded as sent", LIMIT, || jobs(&s).iter().any(|j| j.contains(" sent "))).await.unwrap();
    let listed = jobs(&s);
    assert_eq!(listed.len(), 1, "{listed:?}");
    // One server counts both tries; of two instances, the other may have
    // made the second (each counts its own).
    if lodge_tests::postgres::database_for(&s.server.data).unwrap().is_none() {
        assert!(listed[0].contains("tries 2"), "the cut try counts: {listed:?}");
    }
    assert_eq!(mailbox.mails().len(), 1, "sent once");
    assert_eq!(mailbox.mails()[0].header("Subject").as_deref(), Some("Ola Guest is here to see you"));
    // Named by the job: a second copy would carry the same id.
    let id = mailbox.mails()[0].header("Message-ID").unwrap();
    assert_eq!(id, format!("<host-told.{visit}@lodge>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_without_an_email_address_is_a_failed_job_to_see_and_retry() {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let s = site_with(&mailbox).await;
    let founder = s.founder();
    let bez = s
        .admin
        .act(|st| {
            let form = lodge_core::person::PersonForm { name: "Bez Adresu".into(), hosts_guests: true, roles: vec![Role::Staff], ..Default::default() };
            st.create_person(&founder, form)
        })
        .unwrap();
    settled(&s.admin).await;
    let kiosk = s.device("kiosk", "kiosk", None).await;
    let reception = s.device("reception", "reception", None).await;
    let visit = register(&kiosk, bez, "Ewa Guest");
    eventually("the desk has the guest", LIMIT, || reception.read(|st| st.visit(visit).unwrap().is_some())).await.unwrap();
    admit(&reception, visit, 105);
    eventually("the job fails", LIMIT, || !admin(&s.server.data, &["jobs", "failed"]).unwrap().is_empty()).await.unwrap();
    let failed = admin(&s.server.data, &["jobs", "failed"]).unwrap();
    assert!(failed.contains("Bez Adresu has no e-mail address"), "{failed}");

    // The admin adds her address; the job is retried by hand and goes.
    let id = failed.split_whitespace().nth(1).unwrap().to_owned();
    s.admin
        .act(|st| {
            let form = lodge_core::person::PersonForm {
                name: "Bez Adresu".into(),
                email: Some("bez@lodge.test".into()),
                hosts_guests: true,
                roles: vec![Role::Staff],
                ..Default::default()
            };
            st.update_person(&founder, bez, form)
        })
        .unwrap();
    settled(&s.admin).await;
    let retried = admin(&s.server.data, &["jobs", "retry", &id, "--site", &s.site.to_string()]).unwrap();
    assert!(retried.contains("queued"), "{retried}");
    eventually("the mail goes out", LIMIT, || mailbox.mails().len() == 1).await.unwrap();
    assert!(mailbox.mails()[0].header("To").unwrap().contains("bez@lodge.test"));
    let unknown = admin(&s.server.data, &["jobs", "retry", "999", "--site", &s.site.to_string()]).unwrap_err().to_string();
    assert!(unknown.contains("there is no job 999"), "{unknown}");
}

/// Slack's stand-in: its URL, the bodies it took, every try.
async fn slack_receiver(failures: usize) -> (String, std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let slack = lodge_tests::slack::SlackStandIn::start(failures).await.unwrap();
    (slack.url, slack.posts, slack.tries)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sign_in_and_out_reaches_slack_once_with_the_count_after_failed_tries() {
    let (url, posts, tries) = slack_receiver(2).await;
    let s = TestSite::start_with(|data| Server::start_with(data, &["--first-retry-secs", "0.2"])).await;
    let site = s.site.to_string();
    let hook = admin(&s.server.data, &["slack", "add", "--site", &site, &url]).unwrap();
    assert_eq!(admin(&s.server.data, &["slack", "list", "--site", &site]).unwrap(), format!("{hook}  {url}"));
    let refused = admin(&s.server.data, &["slack", "add", "--site", &site, "http://hooks.example.org/x"]).unwrap_err().to_string();
    assert!(refused.contains("A Slack webhook must be an https:// address"), "{refused}");

    let founder = s.founder();
    let ewa = s
        .admin
        .act(|st| st.create_person(&founder, lodge_core::person::PersonForm { name: "Ewa Lis".into(), roles: vec![Role::Staff], ..Default::default() }))
        .unwrap();
    settled(&s.admin).await;
    let phone = s.device("ewa-phone", "staff", Some(ewa)).await;
    let me = Actor::person(ewa, "Ewa Lis", Role::Staff);
    phone.act(|st| st.sign_in(&me, s.host).map(|_| ())).unwrap_err();
    phone.act(|st| st.sign_in(&me, ewa)).unwrap();
    // The first two posts fail (503): the job is tried again, after 0.2 s
    // and 0.4 s, and the third is taken.
    eventually("Slack gets the sign-in", LIMIT, || posts.lock().unwrap().len() == 1).await.unwrap();
    assert_eq!(tries.load(std::sync::atomic::Ordering::SeqCst), 3);
    let text = posts.lock().unwrap()[0]["text"].as_str().unwrap().to_owned();
    assert!(text.starts_with("Ewa Lis signed in at ") && text.ends_with(" · 1 in the building"), "{text}");

    // The admin signs Anna in at the desk; then Ewa leaves.
    s.admin.act(|st| st.sign_in(&founder, s.host)).unwrap();
    eventually("Slack gets Anna", LIMIT, || posts.lock().unwrap().len() == 2).await.unwrap();
    phone.act(|st| st.sign_out(&me, ewa)).unwrap();
    eventually("Slack gets the sign-out", LIMIT, || posts.lock().unwrap().len() == 3).await.unwrap();
    let texts: Vec<String> = posts.lock().unwrap().iter().map(|p| p["text"].as_str().unwrap().to_owned()).collect();
    assert!(texts[1].starts_with("Anna Kowalska signed in") && texts[1].ends_with("· 2 in the building"), "{texts:?}");
    assert!(texts[2].starts_with("Ewa Lis signed out") && texts[2].ends_with("· 1 in the building"), "{texts:?}");
    eventually("every job is sent", LIMIT, || jobs(&s).iter().filter(|j| j.contains(" sent ")).count() == 3).await.unwrap();
    assert_eq!(jobs(&s).len(), 3, "one job per sign-in or sign-out: {:?}", jobs(&s));
    assert_eq!(posts.lock().unwrap().len(), 3, "each posted once");

    // "Send a test" for the webhook.
    assert_eq!(admin(&s.server.data, &["slack", "test", "--site", &site, &hook]).unwrap(), "Slack took the test message");
    assert_eq!(posts.lock().unwrap()[3]["text"].as_str().unwrap(), format!("A test message from Lodge for {site}."));
    let unknown = admin(&s.server.data, &["slack", "test", "--site", &site, "99"]).unwrap_err().to_string();
    assert!(unknown.contains("has no Slack webhook 99"), "{unknown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_with_its_own_relay_sends_through_it_and_a_test_message_says_the_relay_works() {
    let folder = tempfile::tempdir().unwrap();
    let (servers, own) = (folder.path().join("server-relay"), folder.path().join("site-relay"));
    std::fs::create_dir_all(&servers).unwrap();
    std::fs::create_dir_all(&own).unwrap();
    let server_relay = Mailbox::start(&servers).unwrap();
    let site_relay = Mailbox::start(&own).unwrap();
    let s = site_with(&server_relay).await;
    let site = s.site.to_string();
    let data = &s.server.data;
    let refused = admin(data, &["mail", "set", "--site", &site, "--smtp-url", "ftp://nowhere", "--mail-from", "x@lodge.test"]).unwrap_err().to_string();
    assert!(refused.contains("is not usable"), "{refused}");
    assert_eq!(admin(data, &["mail", "show", "--site", &site]).unwrap(), "the server's relay");
    let with_password = site_relay.url().replace("smtp://", "smtp://lodge:s3cret@");
    admin(data, &["mail", "set", "--site", &site, "--smtp-url", &with_password, "--mail-from", "Front desk <desk@site.test>"]).unwrap();
    let shown = admin(data, &["mail", "show", "--site", &site]).unwrap();
    assert!(!shown.contains("s3cret") && shown.contains("desk@site.test"), "{shown}");
    // aiosmtpd offers no login: set it without the password to send.
    admin(data, &["mail", "set", "--site", &site, "--smtp-url", &site_relay.url(), "--mail-from", "Front desk <desk@site.test>"]).unwrap();

    let out = admin(data, &["mail", "test", "--site", &site, "--to", "admin@site.test"]).unwrap();
    assert_eq!(out, "the relay took the test message for admin@site.test");
    assert_eq!(site_relay.count(), 1);
    assert!(site_relay.mails()[0].header("Subject").unwrap().starts_with("Lodge test message for "));

    let kiosk = s.device("kiosk", "kiosk", None).await;
    let desk = s.device("reception", "reception", None).await;
    let visit = register(&kiosk, s.host, "Jan Guest");
    eventually("the desk has the guest", LIMIT, || desk.read(|st| st.visit(visit).unwrap().is_some())).await.unwrap();
    admit(&desk, visit, 105);
    eventually("the host's mail goes through the site's relay", LIMIT, || site_relay.count() == 2).await.unwrap();
    assert!(site_relay.mails()[1].header("From").unwrap().contains("desk@site.test"));
    assert_eq!(server_relay.count(), 0, "not through the server's");

    admin(data, &["mail", "clear", "--site", &site]).unwrap();
    let second = register(&kiosk, s.host, "Ola Guest");
    eventually("the desk has the second guest", LIMIT, || desk.read(|st| st.visit(second).unwrap().is_some())).await.unwrap();
    admit(&desk, second, 106);
    eventually("the next goes through the server's relay again", LIMIT, || server_relay.count() == 1).await.unwrap();
    assert_eq!(site_relay.count(), 2);
}

/// A certificate authority of the company's own and a relay certificate
/// it signed for 127.0.0.1, as PEM files in `dir`: (ca, cert, key).
fn company_ca(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap().signed_by(&key, &ca).unwrap();
    let paths = (dir.join("ca.pem"), dir.join("relay.pem"), dir.join("relay.key"));
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

/// The relays of a company: STARTTLS on one, TLS from the first byte on the
/// other, both with a certificate of the company's own CA and a login.
/// Mail goes only when the CA is trusted (`--smtp-ca`) and the login is
/// right, each refusal saying why; the host's mail goes through the
/// site's STARTTLS relay with the login from its URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_goes_over_starttls_and_implicit_tls_with_a_login_and_the_companys_own_ca() {
    use lodge_tests::mailbox::{MailTls, Secure};
    let folder = tempfile::tempdir().unwrap();
    let (ca, cert, key) = company_ca(folder.path());
    let (starttls_dir, implicit_dir) = (folder.path().join("starttls"), folder.path().join("implicit"));
    let login = Some(("lodge", "s3cret"));
    let starttls = Mailbox::start_secure(&starttls_dir, &Secure { cert: &cert, key: &key, mode: MailTls::StartTls, login }).unwrap();
    let implicit = Mailbox::start_secure(&implicit_dir, &Secure { cert: &cert, key: &key, mode: MailTls::Implicit, login }).unwrap();
    let submission = format!("smtp://lodge:s3cret@127.0.0.1:{}?tls=required", starttls.port);
    let wrapped = format!("smtps://lodge:s3cret@127.0.0.1:{}", implicit.port);
    let ca = ca.to_str().unwrap();

    let s = TestSite::start_with(|data| Server::start_with(data, &["--smtp-ca", ca])).await;
    let site = s.site.to_string();
    let data = &s.server.data;
    let test = |url: &str, trust: Option<&str>| {
        let mut args = vec!["mail", "test", "--site", &site, "--to", "admin@site.test", "--smtp-url", url];
        args.extend(trust.map(|ca| ["--smtp-ca", ca]).into_iter().flatten());
        admin(data, &args)
    };

    // The company's CA not trusted: refused for the certificate.
    let untrusted = test(&submission, None).unwrap_err().to_string();
    assert!(untrusted.to_lowercase().contains("certificate"), "{untrusted}");
    let untrusted = test(&wrapped, None).unwrap_err().to_string();
    assert!(untrusted.to_lowercase().contains("certificate"), "{untrusted}");
    // Trusted, but a wrong password or none: refused by the relay.
    let wrong = test(&submission.replace("s3cret", "guess"), Some(ca)).unwrap_err().to_string();
    assert!(wrong.contains("535") || wrong.to_lowercase().contains("authentication"), "{wrong}");
    let anonymous = test(&submission.replace("lodge:s3cret@", ""), Some(ca)).unwrap_err().to_string();
    assert!(anonymous.contains("530") || anonymous.to_lowercase().contains("authentication"), "{anonymous}");
    assert_eq!((starttls.count(), implicit.count()), (0, 0), "nothing got through");

    // Trusted and logged in: taken, over each.
    assert_eq!(test(&submission, Some(ca)).unwrap(), "the relay took the test message for admin@site.test");
    assert_eq!(test(&wrapped, Some(ca)).unwrap(), "the relay took the test message for admin@site.test");
    assert_eq!((starttls.count(), implicit.count()), (1, 1));

    // The server, trusting the CA, sends a host's mail through the site's
    // STARTTLS relay.
    admin(data, &["mail", "set", "--site", &site, "--smtp-url", &submission, "--mail-from", "Front desk <desk@site.test>"]).unwrap();
    let kiosk = s.device("kiosk", "kiosk", None).await;
    let desk = s.device("reception", "reception", None).await;
    let visit = register(&kiosk, s.host, "Jan Guest");
    eventually("the desk has the guest", LIMIT, || desk.read(|st| st.visit(visit).unwrap().is_some())).await.unwrap();
    admit(&desk, visit, 105);
    eventually("the host's mail goes through the STARTTLS relay", LIMIT, || starttls.count() == 2).await.unwrap();
    assert!(starttls.mails()[1].body().contains("Jan Guest"), "{}", starttls.mails()[1].raw);
}

/// "Send a test" from an admin device, through the admin API: a test
/// e-mail through the server's relay, a post to each Slack webhook (the
/// first refused by Slack, and said so), and a clear refusal for a channel
/// the server has not got (no SMS account). Only an admin device may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_device_sends_a_test_through_each_channel_and_sees_what_became_of_it() {
    use lodge_core::sync::admin::{AdminError, test_channel};
    use lodge_core::sync::api::{ApiErrorKind, ChannelTest, ChannelTried};
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let s = site_with(&mailbox).await;
    let base = s.server.http_url();
    let token = s.admin.token.clone();

    let mail = ChannelTest::Mail { to: "ops@lodge.test".into() };
    let tried = test_channel(&base, &token, &mail).await.unwrap();
    assert_eq!(tried, vec![ChannelTried::Sent { to: "ops@lodge.test".into() }]);
    let mails = mailbox.mails();
    assert_eq!(mails.len(), 1, "sent at once, not queued: {mails:?}");
    assert!(mails[0].header("To").unwrap().contains("ops@lodge.test"));
    assert_eq!(mails[0].header("Subject").as_deref(), Some("Lodge test message for Lodge House"));

    // A bad address is said to be one, by the relay's side of Lodge.
    let tried = test_channel(&base, &token, &ChannelTest::Mail { to: "not an address".into() }).await.unwrap();
    assert!(matches!(&tried[..], [ChannelTried::Failed { reason, .. }] if reason.contains("is not an e-mail address")), "{tried:?}");

    // No webhook yet; then one that Slack refuses once.
    let none = test_channel(&base, &token, &ChannelTest::Slack).await.unwrap_err();
    assert!(matches!(&none, AdminError::Refused { kind: ApiErrorKind::ChannelNotSetUp, message } if message.contains("no Slack webhook")), "{none}");
    let (url, posts, _) = slack_receiver(1).await;
    let hook = admin(&s.server.data, &["slack", "add", "--site", &s.site.to_string(), &url]).unwrap();
    let tried = test_channel(&base, &token, &ChannelTest::Slack).await.unwrap();
    let name = format!("Slack webhook {hook}");
    assert!(matches!(&tried[..], [ChannelTried::Failed { to, reason }] if *to == name && reason.contains("503")), "{tried:?}");
    assert!(!format!("{tried:?}").contains("secret"), "the webhook's URL is a secret: {tried:?}");
    let tried = test_channel(&base, &token, &ChannelTest::Slack).await.unwrap();
    assert_eq!(tried, vec![ChannelTried::Sent { to: name }]);
    assert_eq!(posts.lock().unwrap()[0]["text"].as_str().unwrap(), "A test message from Lodge for Lodge House.");

    let sms = test_channel(&base, &token, &ChannelTest::Sms { to: "+48600100200".into() }).await.unwrap_err();
    assert!(matches!(&sms, AdminError::Refused { kind: ApiErrorKind::ChannelNotSetUp, message } if message.contains("No SMS account")), "{sms}");

    // Frames made by hand: an unknown channel and an address of a megabyte
    // are refused before anything is sent.
    let http = reqwest::Client::new();
    let url = format!("{base}{}", lodge_core::sync::api::ADMIN_CHANNEL_TEST_PATH);
    let huge = format!("{{\"channel\":\"mail\",\"to\":\"{}@x.test\"}}", "a".repeat(3 << 20));
    for body in [r#"{"channel":"fax","to":"ops@lodge.test"}"#.to_owned(), r#"{"channel":"mail"}"#.to_owned(), huge] {
        let status = http.post(&url).bearer_auth(&token).header("content-type", "application/json").body(body).send().await.unwrap().status();
        assert!(status.is_client_error(), "{status}");
    }

    let desk = s.device("reception", "reception", None).await;
    let refused = test_channel(&base, &desk.token, &mail).await.unwrap_err();
    assert!(matches!(refused, AdminError::Refused { kind: ApiErrorKind::Forbidden, .. }), "{refused}");
    assert_eq!(mailbox.mails().len(), 1, "nothing more was sent");
}

/// A webhook added at noon is not sent the morning: a sign-in made before
/// it was added is not posted when the person's next change comes (the
/// load generator's run posted each sign-in of its set-up at the first
/// change of its day), while the sign-out after it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_webhook_gets_the_sign_ins_and_outs_made_after_it_was_added_only() {
    let (url, posts, _) = slack_receiver(0).await;
    let s = TestSite::start_with(|data| Server::start_with(data, &[])).await;
    let founder = s.founder();
    s.admin.act(|st| st.sign_in(&founder, s.host)).unwrap();
    settled(&s.admin).await;
    admin(&s.server.data, &["slack", "add", "--site", &s.site.to_string(), &url]).unwrap();
    s.admin.act(|st| st.sign_out(&founder, s.host)).unwrap();
    settled(&s.admin).await;
    eventually("Slack gets the sign-out", LIMIT, || posts.lock().unwrap().len() == 1).await.unwrap();
    let text = posts.lock().unwrap()[0]["text"].as_str().unwrap().to_owned();
    assert!(text.starts_with("Anna Kowalska signed out at "), "{text}");
    // Jobs are made with their fact: the sign-in before the hook has none.
    assert_eq!(jobs(&s).len(), 1, "{:?}", jobs(&s));
}

/// The site's admin sets its channels from its device: a Slack webhook
/// (https, or plain http to this machine only), the site's own mail relay
/// (refused at once if it could not send). The server keeps them; what
/// comes back never shows a webhook's URL or a relay's password; a desk
/// may do none of it; a hand-made bad request changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sites_admin_sets_its_webhooks_and_mail_relay_and_never_sees_their_secrets_again() {
    use lodge_core::sync::admin::{self as api, AdminError};
    use lodge_core::sync::api::{ApiErrorKind, ChannelTest, ChannelTried, NewMailRelay, NewSlackHook};
    let server_box = tempfile::tempdir().unwrap();
    let server_mail = Mailbox::start(server_box.path()).unwrap();
    let site_box = tempfile::tempdir().unwrap();
    let site_mail = Mailbox::start(site_box.path()).unwrap();
    let s = site_with(&server_mail).await;
    let (base, token) = (s.server.http_url(), s.admin.token.clone());
    let refused_as = |e: AdminError, want: ApiErrorKind| matches!(e, AdminError::Refused { kind, .. } if kind == want);

    // A webhook: plain http to another machine and a non-URL are refused.
    assert!(api::slack_hooks(&base, &token).await.unwrap().is_empty());
    for bad in ["http://hooks.slack.com/services/T0/B0/x", "hooks.slack.com/services/T0"] {
        let e = api::add_slack_hook(&base, &token, &NewSlackHook { url: bad.into() }).await.unwrap_err();
        assert!(refused_as(e, ApiErrorKind::BadChannel), "{bad}");
    }
    assert!(api::slack_hooks(&base, &token).await.unwrap().is_empty(), "nothing was added");
    let (url, posts, _) = slack_receiver(0).await;
    let hooks = api::add_slack_hook(&base, &token, &NewSlackHook { url: url.clone() }).await.unwrap();
    assert_eq!(hooks.len(), 1);
    assert!(!hooks[0].shown.contains("secret") && hooks[0].shown.ends_with("cret"), "{hooks:?}");
    assert!(!serde_json::to_string(&api::slack_hooks(&base, &token).await.unwrap()).unwrap().contains("/services/"));
    // It works: the sign-in made now is posted to it.
    let founder = s.founder();
    s.admin.act(|st| st.sign_in(&founder, s.host)).unwrap();
    settled(&s.admin).await;
    eventually("the webhook set from the device gets the sign-in", LIMIT, || posts.lock().unwrap().len() == 1).await.unwrap();
    // And never in a document the devices hold.
    let on_device = std::fs::read(&s.admin.path).unwrap();
    assert!(!on_device.windows(b"/services/T0".len()).any(|w| w == b"/services/T0"), "the webhook's URL reached a device");

    // The site's relay: a password is never shown back; mail goes through it.
    let with_password = site_mail.url().replacen("smtp://", "smtp://lodge:s3cret@", 1);
    let shown = api::set_mail_relay(&base, &token, &NewMailRelay { smtp_url: with_password, mail_from: "Desk <desk@lodge.test>".into() }).await.unwrap().unwrap();
    assert!(!shown.server.contains("s3cret") && shown.server.contains("lodge:…@"), "{shown:?}");
    assert!(!serde_json::to_string(&api::mail_relay(&base, &token).await.unwrap()).unwrap().contains("s3cret"));
    let e = api::set_mail_relay(&base, &token, &NewMailRelay { smtp_url: "not a relay".into(), mail_from: "Desk <desk@lodge.test>".into() }).await.unwrap_err();
    assert!(refused_as(e, ApiErrorKind::BadChannel));
    assert!(api::mail_relay(&base, &token).await.unwrap().unwrap().server.contains("lodge:…@"), "the refused relay changed nothing");
    api::set_mail_relay(&base, &token, &NewMailRelay { smtp_url: site_mail.url(), mail_from: "Desk <desk@lodge.test>".into() }).await.unwrap();
    let tried = api::test_channel(&base, &token, &ChannelTest::Mail { to: "ops@lodge.test".into() }).await.unwrap();
    assert_eq!(tried, vec![ChannelTried::Sent { to: "ops@lodge.test".into() }]);
    assert_eq!((site_mail.mails().len(), server_mail.mails().len()), (1, 0), "through the site's relay");
    assert_eq!(api::clear_mail_relay(&base, &token).await.unwrap(), None);
    api::test_channel(&base, &token, &ChannelTest::Mail { to: "ops@lodge.test".into() }).await.unwrap();
    assert_eq!((site_mail.mails().len(), server_mail.mails().len()), (1, 1), "back through the server's relay");

    // A desk may not; an unknown webhook is not found; removing one works.
    let desk = s.device("reception", "reception", None).await;
    assert!(refused_as(api::slack_hooks(&base, &desk.token).await.unwrap_err(), ApiErrorKind::Forbidden));
    assert!(refused_as(api::add_slack_hook(&base, &desk.token, &NewSlackHook { url: url.clone() }).await.unwrap_err(), ApiErrorKind::Forbidden));
    assert!(refused_as(api::remove_slack_hook(&base, &desk.token, hooks[0].number).await.unwrap_err(), ApiErrorKind::Forbidden));
    assert!(refused_as(api::clear_mail_relay(&base, &desk.token).await.unwrap_err(), ApiErrorKind::Forbidden));
    assert!(refused_as(api::remove_slack_hook(&base, &token, 999).await.unwrap_err(), ApiErrorKind::NotFound));
    // Hand-made: a body that is not a hook, a number that is not one.
    let http = reqwest::Client::new();
    let hooks_url = format!("{base}{}", lodge_core::sync::api::ADMIN_SLACK_HOOKS_PATH);
    let status = http.post(&hooks_url).bearer_auth(&token).header("content-type", "application/json").body(r#"{"hook":1}"#).send().await.unwrap().status();
    assert!(status.is_client_error(), "{status}");
    let status = http.delete(format!("{hooks_url}/one")).bearer_auth(&token).send().await.unwrap().status();
    assert!(status.is_client_error(), "{status}");
    // Longer than any webhook or relay: refused before it is parsed or kept.
    let long = format!("https://hooks.slack.com/{}", "x".repeat(lodge_core::notice::MAX_CHANNEL_CHARS));
    let e = api::add_slack_hook(&base, &token, &NewSlackHook { url: long }).await.unwrap_err();
    assert!(refused_as(e, ApiErrorKind::BadChannel));
    let e = api::set_mail_relay(&base, &token, &NewMailRelay { smtp_url: site_mail.url(), mail_from: "d".repeat(3000) }).await.unwrap_err();
    assert!(refused_as(e, ApiErrorKind::BadChannel));
    assert_eq!(api::mail_relay(&base, &token).await.unwrap(), None, "the long relay changed nothing");
    assert_eq!(api::slack_hooks(&base, &token).await.unwrap().len(), 1, "nothing changed");
    assert!(api::remove_slack_hook(&base, &token, hooks[0].number).await.unwrap().is_empty());
}

/// A server from before the registry held the sites' channels kept them in
/// each site's store: the first command (or device) that reads them brings
/// them to the registry under their numbers, and the relay's secret is not
/// kept in the store after that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_kept_in_a_sites_store_by_an_older_server_are_brought_to_the_registry_once() {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let s = site_with(&mailbox).await;
    let site = s.site.to_string();
    let store = s.server.data.join("sites").join(format!("{site}.sqlite"));
    // As the older server wrote them, and its registry migrated.
    let forget = "UPDATE sites SET channels_here = FALSE";
    match lodge_tests::postgres::database_for(&s.server.data).unwrap() {
        Some(url) => lodge_tests::postgres::off_runtime(move || Ok(postgres::Client::connect(&url, postgres::NoTls)?.execute(forget, &[])?)).unwrap(),
        None => rusqlite::Connection::open(s.server.data.join("registry.sqlite")).unwrap().execute(forget, []).unwrap() as u64,
    };
    let old = rusqlite::Connection::open(&store).unwrap();
    old.execute("INSERT INTO slack_hooks (hook_id, url, added_at) VALUES (4, 'https://hooks.slack.com/services/OLD', 0)", []).unwrap();
    old.execute("INSERT INTO mail_relay (only_one, smtp_url, mail_from, set_at) VALUES (1, 'smtp://lodge:s3cret@mail.site.test:587', 'desk@site.test', 0)", [])
        .unwrap();

    assert_eq!(admin(&s.server.data, &["slack", "list", "--site", &site]).unwrap(), "4  https://hooks.slack.com/services/OLD");
    assert_eq!(admin(&s.server.data, &["mail", "show", "--site", &site]).unwrap(), "smtp://lodge:…@mail.site.test:587  from desk@site.test");
    let left: i64 = old.query_row("SELECT count(*) FROM mail_relay", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 0, "the relay's secret is the registry's alone now");
    // Numbered after the old ones; and cleared, the relay stays cleared.
    assert_eq!(admin(&s.server.data, &["slack", "add", "--site", &site, "https://hooks.slack.com/services/NEW"]).unwrap(), "5");
    admin(&s.server.data, &["mail", "clear", "--site", &site]).unwrap();
    assert_eq!(admin(&s.server.data, &["mail", "show", "--site", &site]).unwrap(), "the server's relay");
    let copies: Vec<i64> = old.prepare("SELECT hook_id FROM slack_hooks ORDER BY hook_id").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(copies, vec![4, 5], "the store's copy, which its jobs read");
}
