//! The rules that run by the clock, through a real `lodge-sync` whose clock
//! starts just before the moment under test (`serve --clock-start`), a real
//! SMTP server (aiosmtpd) and a local HTTP endpoint standing in for the SMS
//! API at its protocol boundary (Twilio's form post).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use lodge_core::key_loan::CheckoutRequest;
use lodge_core::person::{ContactChannel, PersonForm};
use lodge_core::{DepartmentId, Email, KeyTypeId, Role};
use lodge_tests::mailbox::Mailbox;
use lodge_tests::site::{LIMIT, TestSite, settled};
use lodge_tests::sms::sms_api;
use lodge_tests::{Server, admin, eventually};


/// `lodge-sync serve` arguments for mail to `mailbox`, texts to `sms`, and
/// the clock starting at `start`.
fn serve_args(mailbox: &Mailbox, sms: &str, start: &str) -> Vec<String> {
    [
        "--smtp-url",
        &mailbox.url(),
        "--mail-from",
        "Lodge <lodge@lodge.test>",
        "--sms-url",
        sms,
        "--sms-account",
        "AC0123",
        "--sms-token",
        "secret-token",
        "--sms-from",
        "+48100200300",
        "--first-retry-secs",
        "0.2",
        "--clock-start",
        start,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn start(data: &std::path::Path, args: &[String]) -> anyhow::Result<Server> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start_with(data, &args)
}

/// `lodge-sync jobs list` lines of one rule.
fn jobs_of(s: &TestSite, rule: &str) -> Vec<String> {
    admin(&s.server.data, &["jobs", "list"]).unwrap().lines().filter(|l| l.split_whitespace().nth(2) == Some(rule)).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_end_of_day_reminder_goes_at_five_in_warsaw_on_the_day_the_clocks_change_once_and_by_each_ones_channel() {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let (sms, texts, tries) = sms_api(1).await;
    // 16:00 in Warsaw on 28 March 2027, the first day of summer time, for
    // setting up; then 16:59:58 (below). 17:00 there is 15:00 UTC (it would
    // be 16:00 UTC the day before).
    let args = serve_args(&mailbox, &sms, "2027-03-28T14:00:00Z");
    let mut s = TestSite::start_in("Europe/Warsaw", |data| start(data, &args)).await;
    let founder = s.founder();
    s.admin.act(|st| st.set_reminder_time(&founder, "17:00")).unwrap();
    let person = |name: &str, email: Option<&str>, phone: Option<&str>| PersonForm {
        name: name.into(),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        roles: vec![Role::Staff],
        ..Default::default()
    };
    let (ewa, jan, piotr) = s
        .admin
        .act(|st| -> Result<_, lodge_core::person::Error> {
            let ewa = st.create_person(&founder, person("Ewa Lis", Some("ewa@lodge.test"), None))?;
            let jan = st.create_person(&founder, person("Jan Nowak", Some("jan@lodge.test"), Some("+48600700800")))?;
            let piotr = st.create_person(&founder, person("Piotr Wójcik", Some("piotr@lodge.test"), None))?;
            // Jan would rather have a text.
            st.set_preferred_contact(&founder, jan, Some(ContactChannel::Sms))?;
            Ok((ewa, jan, piotr))
        })
        .unwrap();
    let refused = s.admin.act(|st| st.set_preferred_contact(&founder, ewa, Some(ContactChannel::Sms))).unwrap_err();
    assert!(matches!(refused, lodge_core::person::Error::NoAddressFor { channel: ContactChannel::Sms }), "{refused}");
    // Ewa and Jan are in; Piotr came and went.
    s.admin
        .act(|st| -> Result<(), lodge_core::presence::Error> {
            st.sign_in(&founder, ewa)?;
            st.sign_in(&founder, jan)?;
            st.sign_in(&founder, piotr)?;
            st.sign_out(&founder, piotr)?;
            Ok(())
        })
        .unwrap();
    settled(&s.admin).await;
    assert!(jobs_of(&s, "sign-out-reminder").is_empty(), "nothing at 16:00");
    s.server.kill();
    let args = serve_args(&mailbox, &sms, "2027-03-28T14:59:58Z");
    s.server = start(&s.server.data, &args).unwrap();
    assert!(mailbox.mails().is_empty() && texts.lock().unwrap().is_empty(), "nothing before 17:00");

    eventually("Ewa's reminder arrives by e-mail", LIMIT, || !mailbox.mails().is_empty()).await.unwrap();
    eventually("Jan's reminder arrives by text, after one refused try", LIMIT, || !texts.lock().unwrap().is_empty()).await.unwrap();
    let mail = &mailbox.mails()[0];
    assert!(mail.header("To").unwrap().contains("ewa@lodge.test"));
    assert!(mail.header("Subject").unwrap().starts_with("Ewa Lis, you are still signed in at Lodge House (since "), "{:?}", mail.header("Subject"));
    let text = texts.lock().unwrap()[0].clone();
    assert_eq!((text.to.as_str(), text.from.as_str(), text.account.as_str()), ("+48600700800", "+48100200300", "AC0123"));
    assert!(text.body.starts_with("Jan Nowak, you are still signed in at Lodge House"), "{}", text.body);
    assert_eq!(tries.load(Ordering::SeqCst), 2, "one 503, then taken");
    // The day's run, and one reminder each for the two still in.
    eventually("the reminders are sent", LIMIT, || jobs_of(&s, "sign-out-reminder").iter().filter(|j| j.contains(" sent ")).count() == 3)
        .await
        .unwrap();
    let day_run = jobs_of(&s, "sign-out-reminder").into_iter().last().unwrap();
    // The day's run counts from 17:00 Warsaw summer time, 15:00 UTC.
    assert!(day_run.contains("fact 2027-03-28 15:00 UTC"), "{day_run}");

    // A restart ten minutes later queues no second reminder; a run by
    // hand for the same day reminds no one twice either.
    s.server.kill();
    let later = serve_args(&mailbox, &sms, "2027-03-28T15:10:00Z");
    s.server = start(&s.server.data, &later).unwrap();
    let site = s.site.to_string();
    admin(&s.server.data, &["jobs", "run", "sign-out-reminder", "--site", &site, "--now", "2027-03-28T17:20:00+02:00"]).unwrap();
    eventually("the run by hand is done", LIMIT, || jobs_of(&s, "sign-out-reminder").iter().filter(|j| j.contains(" sent ")).count() == 4)
        .await
        .unwrap();
    assert_eq!(jobs_of(&s, "sign-out-reminder").len(), 4, "two runs and two reminders: {:?}", jobs_of(&s, "sign-out-reminder"));
    assert_eq!(mailbox.mails().len(), 1, "Ewa was reminded once");
    assert_eq!(texts.lock().unwrap().len(), 1, "Jan was reminded once");
    let refused = admin(&s.server.data, &["jobs", "run", "host-told", "--site", &site]).unwrap_err().to_string();
    assert!(refused.contains("runs when its fact happens"), "{refused}");

    // "Send a test" for the SMS account.
    let test = [
        "sms-test", "--site", &site, "--to", "+48500600700", "--sms-url", &sms, "--sms-account", "AC0123", "--sms-token", "secret-token", "--sms-from", "+48100200300",
    ];
    assert_eq!(admin(&s.server.data, &test).unwrap(), "the SMS API took the test message for +48500600700");
    assert_eq!(texts.lock().unwrap()[1].body, format!("A test message from Lodge for {site}."));
    let mut wrong = test;
    wrong[10] = "wrong-token";
    let refused = admin(&s.server.data, &wrong).unwrap_err().to_string();
    assert!(refused.contains("the SMS API refused the message: 401"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_sites_store_is_closed_and_opened_again_for_its_reminder_a_run_by_hand_and_a_device() {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let (sms, _, _) = sms_api(0).await;
    let args = serve_args(&mailbox, &sms, "2027-03-28T14:00:00Z");
    let mut s = TestSite::start_in("Europe/Warsaw", |data| start(data, &args)).await;
    let founder = s.founder();
    s.admin.act(|st| st.set_reminder_time(&founder, "17:00")).unwrap();
    let ewa = PersonForm { name: "Ewa Lis".into(), email: Some("ewa@lodge.test".into()), roles: vec![Role::Staff], ..Default::default() };
    let ewa = s.admin.act(|st| st.create_person(&founder, ewa)).unwrap();
    s.admin.act(|st| st.sign_in(&founder, ewa)).unwrap();
    settled(&s.admin).await;
    // Killed, the server leaves the store's log behind. The next one reads
    // each site at its start and closes it again until its next job is
    // due; the log goes with the store's last connection. It closes a site
    // it opened after a second with no device and no work. 16:59:50 in
    // Warsaw.
    s.server.kill();
    let mut args = serve_args(&mailbox, &sms, "2027-03-28T14:59:50Z");
    args.extend(["--quiet-site-secs", "1", "--metrics-token", "s3cret"].map(str::to_owned));
    s.server = start(&s.server.data, &args).unwrap();
    let log = s.server.data.join("sites").join(format!("{}.sqlite-wal", s.site));
    eventually("the quiet site's store is closed", LIMIT, || !log.exists()).await.unwrap();
    assert!(mailbox.mails().is_empty(), "nothing before 17:00");
    eventually("Ewa's reminder goes at 17:00 from the closed site", LIMIT, || !mailbox.mails().is_empty()).await.unwrap();
    let sent = |s: &TestSite| jobs_of(s, "sign-out-reminder").iter().filter(|j| j.contains(" sent ")).count();
    eventually("the day's run and the reminder are sent", LIMIT, || sent(&s) == 2).await.unwrap();
    eventually("the site is closed again", LIMIT, || !log.exists()).await.unwrap();
    // The closed site's jobs are still counted for monitoring.
    let metrics = reqwest::Client::new().get(format!("{}/metrics", s.server.http_url())).bearer_auth("s3cret").send().await.unwrap().text().await.unwrap();
    let all_sent = admin(&s.server.data, &["jobs", "list"]).unwrap().lines().filter(|l| l.contains(" sent ")).count();
    let sent_jobs = format!("lodge_jobs{{site=\"{}\",state=\"sent\"}} {all_sent}", s.site);
    assert!(all_sent >= 2 && metrics.lines().any(|l| l == sent_jobs), "{sent_jobs} in {metrics}");
    // A run by hand writes to the closed site's file from another process.
    let site = s.site.to_string();
    admin(&s.server.data, &["jobs", "run", "sign-out-reminder", "--site", &site, "--now", "2027-03-28T17:20:00+02:00"]).unwrap();
    eventually("the run by hand is done", LIMIT, || sent(&s) == 3).await.unwrap();
    eventually("the site is closed again", LIMIT, || !log.exists()).await.unwrap();
    // A device opens it by connecting.
    let desk = s.device("desk", "reception", None).await;
    eventually("the new desk sees Ewa in", LIMIT, || desk.read(|st| st.people_in().is_ok_and(|p| p.len() == 1))).await.unwrap();
    assert_eq!(mailbox.mails().len(), 1, "Ewa was reminded once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_key_is_told_to_its_borrower_each_day_and_to_the_department_after_three_days_until_it_is_back() {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let (sms, _texts, _) = sms_api(0).await;
    // The devices' clocks are today's; the server's starts far past the
    // loans' due dates, after 09:00 in Warsaw: the morning's run is due.
    let args = serve_args(&mailbox, &sms, "2027-03-28T10:00:00Z");
    let s = TestSite::start_in("Europe/Warsaw", |data| start(data, &args)).await;
    let founder = s.founder();
    let lab = DepartmentId::parse("lab").unwrap();
    let master = KeyTypeId::parse("master").unwrap();
    let (m1, m2) = s
        .admin
        .act(|st| -> anyhow::Result<_> {
            st.set_department(&founder, lab.clone(), "Laboratory")?;
            st.set_department_contact(&founder, lab.clone(), Some("lab-office@lodge.test"))?;
            st.set_key_type(&founder, master.clone(), "Master", 14)?;
            let m1 = st.add_key(&founder, master.clone(), "M-1")?;
            let m2 = st.add_key(&founder, master.clone(), "M-2")?;
            let form = |name: &str, email: &str| PersonForm {
                name: name.into(),
                email: Some(email.into()),
                department: Some(lab.clone()),
                roles: vec![Role::Worker],
                ..Default::default()
            };
            st.create_person(&founder, form("Ewa Lis", "ewa@lodge.test"))?;
            st.create_person(&founder, form("Jan Nowak", "jan@lodge.test"))?;
            Ok((m1, m2))
        })
        .unwrap();
    let bad = s.admin.act(|st| st.set_department_contact(&founder, DepartmentId::parse("nowhere").unwrap(), Some("x@lodge.test"))).unwrap_err();
    assert!(matches!(bad, lodge_core::site::Error::UnknownDepartment(_)), "{bad}");
    let lend = |key, to: &str| CheckoutRequest { key, customer: Email::parse(to).unwrap(), due_at: None };
    s.admin.act(|st| st.checkout_key(&founder, lend(m1, "ewa@lodge.test"))).unwrap();
    s.admin.act(|st| st.checkout_key(&founder, lend(m2, "jan@lodge.test"))).unwrap();
    settled(&s.admin).await;
    let site = s.site.to_string();
    // The morning's run found no loans yet: the key desk asks again.
    admin(&s.server.data, &["jobs", "run", "loan-overdue", "--site", &site, "--now", "2027-03-28T12:00:00+02:00"]).unwrap();

    // Each borrower, and the laboratory's office for each key.
    eventually("four overdue notices arrive", LIMIT, || mailbox.mails().len() == 4).await.unwrap();
    let to = |m: &lodge_tests::mailbox::Mail| m.header("To").unwrap();
    let mails = mailbox.mails();
    let ewas: Vec<_> = mails.iter().filter(|m| to(m).contains("ewa@lodge.test")).collect();
    assert_eq!(ewas.len(), 1);
    assert!(ewas[0].header("Subject").unwrap().starts_with("Key M-1 was due back on "), "{:?}", ewas[0].header("Subject"));
    let office: Vec<_> = mails.iter().filter(|m| to(m).contains("lab-office@lodge.test")).collect();
    assert_eq!(office.len(), 2);
    assert!(office.iter().any(|m| m.header("Subject").unwrap().starts_with("Ewa Lis (Laboratory) has had key M-1 for ")));
    // The scheduled morning run and the run by hand queued each notice once.
    eventually("all sent", LIMIT, || jobs_of(&s, "loan-overdue").iter().all(|j| j.contains(" sent "))).await.unwrap();
    assert_eq!(jobs_of(&s, "loan-overdue").len(), 4, "the day's run, the run by hand, and one per loan: {:?}", jobs_of(&s, "loan-overdue"));

    // M-1 comes back; the next morning only Jan and the office hear of M-2.
    s.admin.act(|st| st.return_key(&founder, m1)).unwrap();
    settled(&s.admin).await;
    eventually("the server has the return", LIMIT, || {
        lodge_core::Store::open(s.server.data.join("sites").join(format!("{site}.sqlite")), Arc::new(lodge_core::SystemClock))
            .and_then(|st| Ok(st.loans(lodge_core::key_loan::LoanFilter::Out)?.len()))
            .is_ok_and(|n| n == 1)
    })
    .await
    .unwrap();
    admin(&s.server.data, &["jobs", "run", "loan-overdue", "--site", &site, "--now", "2027-03-29T09:00:00+02:00"]).unwrap();
    eventually("two more notices", LIMIT, || mailbox.mails().len() == 6).await.unwrap();
    let next: Vec<String> = mailbox.mails()[4..].iter().map(to).collect();
    assert!(next.iter().any(|t| t.contains("jan@lodge.test")) && next.iter().any(|t| t.contains("lab-office@lodge.test")), "{next:?}");
    assert!(!next.iter().any(|t| t.contains("ewa@lodge.test")), "M-1 is back: {next:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_lists_runs_and_retries_jobs_for_its_own_site_only() {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let (sms, _, _) = sms_api(0).await;
    let args = serve_args(&mailbox, &sms, "2027-03-28T10:00:00Z");
    let s = TestSite::start_in("Europe/Warsaw", |data| start(data, &args)).await;
    let token = s.admin.token.clone();
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", s.server.http_url());
    let run: lodge_core::notice::Job = http
        .post(url(lodge_core::sync::api::ADMIN_JOBS_RUN_PATH))
        .bearer_auth(&token)
        .json(&lodge_core::sync::api::RunRequest { rule: lodge_core::notice::Rule::SignOutReminder, now: None })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(run.rule, lodge_core::notice::Rule::SignOutReminder);
    // Polled as `eventually` does, over HTTP.
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let jobs: Vec<lodge_core::notice::Job> =
            http.get(url(lodge_core::sync::api::ADMIN_JOBS_PATH)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        if jobs.iter().any(|j| j.id == run.id && j.state == lodge_core::notice::JobState::Sent) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the run is not listed as sent: {jobs:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let failed: Vec<lodge_core::notice::Job> =
        http.get(url(&format!("{}?state=failed", lodge_core::sync::api::ADMIN_JOBS_PATH))).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    // A sent job is not retried; a rule that runs on its fact is not run.
    let answer = http.post(url(&lodge_core::sync::api::retry_job_path(run.id))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(answer.status(), 409);
    let body: lodge_core::sync::api::ErrorBody = answer.json().await.unwrap();
    assert_eq!(body.kind, lodge_core::sync::api::ApiErrorKind::JobNotRetryable);
    let answer = http
        .post(url(lodge_core::sync::api::ADMIN_JOBS_RUN_PATH))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "rule": "host-told" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert_eq!(answer.json::<lodge_core::sync::api::ErrorBody>().await.unwrap().kind, lodge_core::sync::api::ApiErrorKind::RuleNotRunByClock);
    // A reception desk may not read the queue.
    let desk = s.device("reception", "reception", None).await;
    let answer = http.get(url(lodge_core::sync::api::ADMIN_JOBS_PATH)).bearer_auth(&desk.token).send().await.unwrap();
    assert_eq!(answer.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nights_erasure_runs_at_three_in_the_sites_time_and_leaves_its_report() {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let (sms, _, _) = sms_api(0).await;
    // 03:00:00.5 in Warsaw on the night the clocks go forward (02:00 was
    // skipped): 01:00 UTC.
    let args = serve_args(&mailbox, &sms, "2027-03-28T00:59:58Z");
    let s = TestSite::start_in("Europe/Warsaw", |data| start(data, &args)).await;
    let site = s.site.to_string();
    eventually("the night's erasure is done", LIMIT, || jobs_of(&s, "retention").iter().any(|j| j.contains(" sent ")))
        .await
        .unwrap();
    let run = jobs_of(&s, "retention");
    assert_eq!(run.len(), 1, "{run:?}");
    assert!(run[0].contains("fact 2027-03-28 01:00 UTC"), "{run:?}");
    let reports = admin(&s.server.data, &["retention", "report", "--site", &site]).unwrap();
    assert_eq!(reports.lines().filter(|l| !l.trim().is_empty() && !l.starts_with(' ')).count(), 1, "one sweep: {reports}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_reaches_everyone_in_the_building_by_email_or_text_once() {
    use lodge_core::announcement::{Audience, Kind, NewAnnouncement};
    let folder = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::start(folder.path()).unwrap();
    let (sms, texts, _) = sms_api(0).await;
    // The site's clock is the machine's: the emergency is fresh.
    let s = TestSite::start_in("Europe/Warsaw", |data| {
        let mut args = serve_args(&mailbox, &sms, "2000-01-01T00:00:00Z");
        args.truncate(args.len() - 2);
        start(data, &args)
    })
    .await;
    let founder = s.founder();
    let staff = |name: &str, email: Option<&str>, phone: Option<&str>| PersonForm {
        name: name.into(),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        roles: vec![Role::Staff],
        ..Default::default()
    };
    let (ewa, _jan, _piotr) = s
        .admin
        .act(|st| -> anyhow::Result<_> {
            let ewa = st.create_person(&founder, staff("Ewa Lis", Some("ewa@lodge.test"), None))?;
            let jan = st.create_person(&founder, staff("Jan Nowak", None, Some("+48600700800")))?;
            // Olga is in, with no address and no phone: she cannot be told.
            let olga = st.create_person(&founder, staff("Olga Bez", None, None))?;
            st.sign_in(&founder, olga)?;
            // Piotr is not in the building: "everyone" is those inside.
            let piotr = st.create_person(&founder, staff("Piotr Wójcik", Some("piotr@lodge.test"), None))?;
            st.sign_in(&founder, ewa)?;
            st.sign_in(&founder, jan)?;
            // The site writes its messages in Polish.
            st.set_site_language(&founder, "pl")?;
            Ok((ewa, jan, piotr))
        })
        .unwrap();
    let desk = s.device("reception", "reception", None).await;
    let at_desk = lodge_core::Actor { person: None, device: Some(desk.id), name: "Reception".into(), role: Role::Reception };
    eventually("the desk knows who is in", LIMIT, || desk.read(|st| st.people_in().unwrap().len() == 3)).await.unwrap();
    let sent = desk
        .act(|st| {
            st.announce(&at_desk, NewAnnouncement { kind: Kind::Emergency, audience: Audience::Everyone, title: "Fire alarm".into(), text: "Leave by the nearest exit.".into() })
        })
        .unwrap();
    eventually("Ewa's mail arrives", LIMIT, || mailbox.count() == 1).await.unwrap();
    eventually("Jan's text arrives", LIMIT, || texts.lock().unwrap().len() == 1).await.unwrap();
    let mail = &mailbox.mails()[0];
    assert!(mail.header("To").unwrap().contains("ewa@lodge.test"));
    assert_eq!(mail.subject().unwrap(), "ALARM · Lodge House: Fire alarm. Leave by the nearest exit.");
    let text = texts.lock().unwrap()[0].clone();
    assert_eq!((text.to.as_str(), text.body.as_str()), ("+48600700800", "ALARM · Lodge House: Fire alarm. Leave by the nearest exit."));
    let refused = s.admin.act(|st| st.set_site_language(&founder, "de")).unwrap_err();
    assert!(matches!(refused, lodge_core::site::Error::UnknownLanguage(_)), "{refused}");
    // Reading it (a change to the same document) tells no one again.
    s.admin.act(|st| st.acknowledge(&founder, sent)).unwrap();
    settled(&s.admin).await;
    eventually("both sent", LIMIT, || jobs_of(&s, "announcement").iter().filter(|j| j.contains(" sent ")).count() == 2).await.unwrap();
    assert_eq!(jobs_of(&s, "announcement").len(), 3, "one per person inside: {:?}", jobs_of(&s, "announcement"));
    assert_eq!((mailbox.count(), texts.lock().unwrap().len()), (1, 1));

    // The desk that sent it asks who was reached, and how.
    use lodge_core::notice::DeliveryState;
    use lodge_core::person::ContactChannel;
    use lodge_core::sync::admin::{AdminError, announcement_deliveries};
    use lodge_core::sync::api::ApiErrorKind;
    let base = s.server.http_url();
    let told = announcement_deliveries(&base, &desk.token, sent).await.unwrap();
    let seen: Vec<(&str, Option<ContactChannel>, &str)> = told
        .iter()
        .map(|d| {
            let state = match &d.outcome {
                DeliveryState::Sent { .. } => "sent",
                DeliveryState::Waiting { .. } => "waiting",
                DeliveryState::NotReached { .. } => "not reached",
            };
            (d.name.as_str(), d.by, state)
        })
        .collect();
    assert_eq!(
        seen,
        vec![("Ewa Lis", Some(ContactChannel::Email), "sent"), ("Jan Nowak", Some(ContactChannel::Sms), "sent"), ("Olga Bez", None, "not reached")]
    );
    assert!(matches!(&told[2].outcome, DeliveryState::NotReached { reason } if reason.contains("Olga Bez has no e-mail address or phone number")), "{told:?}");
    assert_eq!(announcement_deliveries(&base, &s.admin.token, sent).await.unwrap(), told, "the admin sees the same");
    let phone = s.device("ewa-phone", "staff", Some(ewa)).await;
    let refused = announcement_deliveries(&base, &phone.token, sent).await.unwrap_err();
    assert!(matches!(refused, AdminError::Refused { kind: ApiErrorKind::Forbidden, .. }), "{refused}");
    let unknown = announcement_deliveries(&base, &desk.token, lodge_core::AnnouncementId::new()).await.unwrap_err();
    assert!(matches!(unknown, AdminError::Refused { kind: ApiErrorKind::NotFound, .. }), "{unknown}");
}
