//! The job queue of the server's store: a fact queues its message once, in
//! its own transaction; a late fact is not told; a failing channel is
//! retried with backoff and then failed for a person; a server killed
//! mid-send sends again.

use lodge_core::notice::{Attempt, JobError, JobFilter, JobState, RETRY_LIMIT, Rule};
use lodge_core::visit::{AdmitRequest, GuestForm};
use lodge_core::{Actor, DeviceId, DocId, VisitId};

use super::fixture::{HOUR, Site, card, site};

fn acting_site() -> Site {
    let mut s = site();
    s.store.act_on_facts();
    s
}

fn guest(s: &mut Site, name: &str) -> VisitId {
    let form = GuestForm { name: name.into(), company: "Acme".into(), host: Some(s.anna), consent: true, ..Default::default() };
    s.store.register_guest(&Actor::kiosk(DeviceId::new()), form).unwrap()
}

fn admit(s: &mut Site, visit: VisitId, n: u32) {
    let desk = s.desk.clone();
    s.store.admit(&desk, AdmitRequest { visit, card: card(n), take_over: false }).unwrap();
}

#[test]
fn an_admission_queues_one_host_told_job_and_a_device_store_queues_none() {
    let mut device = site();
    let v = guest(&mut device, "Jan Guest");
    admit(&mut device, v, 105);
    assert!(device.store.jobs(JobFilter::All).unwrap().is_empty(), "only the server's store acts");

    let mut s = acting_site();
    let v = guest(&mut s, "Jan Guest");
    assert!(s.store.jobs(JobFilter::All).unwrap().is_empty(), "waiting: nobody is told yet");
    admit(&mut s, v, 105);
    let desk = s.desk.clone();
    s.store.release(&desk, v).unwrap();
    let jobs = s.store.jobs(JobFilter::All).unwrap();
    assert_eq!(jobs.len(), 2, "admitted then released: still one fact, a job per channel: {jobs:?}");
    let mut rules: Vec<_> = jobs.iter().map(|j| (j.rule, j.state, j.subject.clone())).collect();
    rules.sort_by_key(|(rule, ..)| rule.as_str());
    assert_eq!(rules, vec![(Rule::HostTold, JobState::Queued, DocId::visit(v)), (Rule::HostToldInApp, JobState::Queued, DocId::visit(v))]);
    let taken = s.store.take_due_jobs(10).unwrap();
    for job in &taken {
        match s.store.message_for(job).unwrap().unwrap() {
            lodge_core::notice::Message::HostTold(m) => {
                assert_eq!((m.to.as_str(), m.guest.as_str(), m.host.as_str(), m.site.as_str()), ("anna@lodge.test", "Jan Guest", "Anna Kowalska", "Lodge House"));
            }
            lodge_core::notice::Message::HostNotice(m) => {
                assert_eq!((m.visit, m.host_id, m.told.guest.as_str()), (v, s.anna, "Jan Guest"));
            }
            other => panic!("a host-told job says host-told: {other:?}"),
        }
    }
}

/// The due jobs of the e-mail rule only (each admission also has its
/// in-app job, which these tests leave taken).
fn due_mail(s: &mut Site) -> Vec<lodge_core::notice::Job> {
    s.store.take_due_jobs(10).unwrap().into_iter().filter(|j| j.rule == Rule::HostTold).collect()
}

#[test]
fn a_fact_that_reaches_the_server_too_late_is_not_told() {
    let mut s = acting_site();
    let v = guest(&mut s, "Jan Guest");
    admit(&mut s, v, 105);
    // Five hours before it could be sent (a desk offline all morning).
    s.clock.advance(5 * HOUR);
    assert!(s.store.take_due_jobs(10).unwrap().is_empty());
    let jobs = s.store.jobs(JobFilter::All).unwrap();
    assert_eq!(jobs[0].state, JobState::Expired);
    assert!(matches!(s.store.retry_job(jobs[0].id), Err(JobError::NotRetryable { state: JobState::Expired, .. })));
}

#[test]
fn a_failing_channel_is_retried_with_backoff_then_failed_for_a_person_who_may_retry() {
    let mut s = acting_site();
    let v = guest(&mut s, "Jan Guest");
    admit(&mut s, v, 105);
    for attempt in 1..=RETRY_LIMIT {
        let taken = due_mail(&mut s);
        assert_eq!(taken.len(), 1, "try {attempt} is due");
        assert_eq!(taken[0].attempts, attempt);
        assert!(s.store.take_due_jobs(10).unwrap().is_empty(), "a job being sent is not taken twice");
        s.store.finish_job(taken[0].id, &Attempt::Failed("connection refused".into())).unwrap();
        let job = s.store.job(taken[0].id).unwrap().unwrap();
        if attempt < RETRY_LIMIT {
            assert_eq!(job.state, JobState::Queued);
            assert!(s.store.take_due_jobs(10).unwrap().is_empty(), "not before its backoff");
            // Jump past the backoff (at most an hour and a fifth).
            s.clock.set(job.next_at);
        } else {
            assert_eq!((job.state, job.last_error.as_deref()), (JobState::Failed, Some("connection refused")));
        }
    }
    let failed = s.store.jobs(JobFilter::State(JobState::Failed)).unwrap();
    assert_eq!(failed.len(), 1);
    // Within the four hours a host still wants to know: a retry by hand.
    let retried = s.store.retry_job(failed[0].id).unwrap();
    assert_eq!((retried.state, retried.attempts), (JobState::Queued, 0));
    let taken = s.store.take_due_jobs(10).unwrap();
    s.store.finish_job(taken[0].id, &Attempt::Sent).unwrap();
    assert_eq!(s.store.job(taken[0].id).unwrap().unwrap().state, JobState::Sent);
    assert!(matches!(s.store.retry_job(taken[0].id), Err(JobError::NotRetryable { state: JobState::Sent, .. })));
}

#[test]
fn a_job_taken_by_a_server_that_was_killed_is_due_again_at_the_next_start() {
    let mut s = acting_site();
    let v = guest(&mut s, "Jan Guest");
    admit(&mut s, v, 105);
    let taken = s.store.take_due_jobs(10).unwrap();
    assert_eq!(taken.len(), 2, "by e-mail and in the app");
    // Killed here: never finished. At the next start:
    assert_eq!(s.store.resume_jobs().unwrap(), 2);
    let again = s.store.take_due_jobs(10).unwrap();
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|j| j.attempts == 2), "{again:?}");
}

#[test]
fn an_erased_visit_takes_its_unsent_message_with_it() {
    let mut s = acting_site();
    let v = guest(&mut s, "Jan Guest");
    admit(&mut s, v, 105);
    s.store.apply_tombstone(&DocId::visit(v)).unwrap();
    let jobs = s.store.jobs(JobFilter::All).unwrap();
    assert_eq!(jobs[0].state, JobState::Cancelled);
    assert!(s.store.take_due_jobs(10).unwrap().is_empty());
}

fn at(text: &str) -> lodge_core::Timestamp {
    lodge_core::Timestamp::from(chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&chrono::Utc))
}

/// Take what is due and play each job's part as the server does: a day's
/// run queues its messages; a message is kept, or its outcome recorded.
fn take(s: &mut Site) -> Vec<Result<lodge_core::notice::Message, Attempt>> {
    let mut out = Vec::new();
    for job in s.store.take_due_jobs(50).unwrap() {
        let message = s.store.message_for(&job).unwrap();
        match &message {
            Err(outcome) => s.store.finish_job(job.id, outcome).unwrap(),
            // The night's erasure is the server's own work (tests/retention).
            Ok(lodge_core::notice::Message::RetentionSweep { .. }) => {
                s.store.finish_job(job.id, &Attempt::Sent).unwrap();
                continue;
            }
            Ok(_) => {}
        }
        out.push(message);
    }
    out
}

#[test]
fn the_end_of_day_run_is_queued_once_at_the_sites_reminder_time_and_reminds_whoever_is_still_in() {
    let mut s = acting_site();
    let desk = s.desk.clone();
    s.store.sign_in(&desk, s.anna).unwrap();
    s.store.sign_in(&desk, s.jan).unwrap();
    // The morning's overdue-keys run first (09:00), then 17:59 in Warsaw
    // in winter (UTC+1); the reminder is at 18:00.
    s.clock.set(at("2027-01-11T08:00:00Z"));
    assert_eq!(s.store.schedule_daily_jobs().unwrap(), vec![Rule::LoanOverdue, Rule::Retention]);
    assert_eq!(take(&mut s), vec![Err(Attempt::Sent)], "no key is out");
    s.clock.set(at("2027-01-11T16:59:00Z"));
    assert_eq!(s.store.site_settings().unwrap().unwrap().reminder_time, "18:00");
    assert!(s.store.schedule_daily_jobs().unwrap().is_empty(), "not yet");
    s.clock.set(at("2027-01-11T17:00:00Z"));
    assert_eq!(s.store.schedule_daily_jobs().unwrap(), vec![Rule::SignOutReminder]);
    assert!(s.store.schedule_daily_jobs().unwrap().is_empty(), "once a day");
    // Jan leaves before the run is taken: he is not reminded.
    s.store.sign_out(&desk, s.jan).unwrap();
    assert_eq!(take(&mut s), vec![Err(Attempt::Sent)], "the day's run queues its messages");
    let messages = take(&mut s);
    assert_eq!(messages.len(), 1, "only Anna is still in: {messages:?}");
    let Ok(lodge_core::notice::Message::SignOutReminder(m)) = &messages[0] else { panic!("{messages:?}") };
    assert_eq!((m.to.address.as_str(), m.name.as_str()), ("anna@lodge.test", "Anna Kowalska"));
    assert_eq!(m.to.channel, lodge_core::person::ContactChannel::Email);
    // The next day runs again; a run of a rule on its fact is refused.
    s.clock.set(at("2027-01-12T17:00:01Z"));
    assert_eq!(s.store.schedule_daily_jobs().unwrap(), vec![Rule::SignOutReminder, Rule::LoanOverdue, Rule::Retention]);
    assert!(matches!(s.store.run_daily_job(Rule::HostTold, at("2027-01-12T17:00:00Z")), Err(JobError::NotDaily(Rule::HostTold))));
}

#[test]
fn a_server_back_hours_after_the_reminder_time_lets_the_reminders_expire() {
    let mut s = acting_site();
    let desk = s.desk.clone();
    s.store.sign_in(&desk, s.anna).unwrap();
    // Down at 18:00; back at 20:30 (Warsaw, winter): the run is queued
    // and taken, and its reminder, counted from 18:00, is too old.
    s.clock.set(at("2027-01-11T19:30:00Z"));
    assert_eq!(s.store.schedule_daily_jobs().unwrap(), vec![Rule::SignOutReminder, Rule::LoanOverdue, Rule::Retention]);
    assert_eq!(take(&mut s), vec![Err(Attempt::Sent), Err(Attempt::Sent)]);
    assert!(take(&mut s).is_empty());
    let jobs = s.store.jobs(JobFilter::All).unwrap();
    let reminder = jobs.iter().find(|j| j.rule == Rule::SignOutReminder && j.subject == DocId::person(s.anna)).unwrap();
    assert_eq!(reminder.state, JobState::Expired, "{jobs:?}");
    // Within two hours it would have gone.
    let mut s = acting_site();
    let desk = s.desk.clone();
    s.store.sign_in(&desk, s.anna).unwrap();
    s.clock.set(at("2027-01-11T18:30:00Z"));
    s.store.schedule_daily_jobs().unwrap();
    take(&mut s);
    assert!(matches!(take(&mut s).as_slice(), [Ok(lodge_core::notice::Message::SignOutReminder(_))]));
}

#[test]
fn an_expected_guest_with_an_address_gets_one_invitation_unless_they_came_first() {
    let mut s = acting_site();
    let day = s.store.now().to_utc().with_timezone(&chrono_tz::Europe::Warsaw).format("%Y-%m-%d").to_string();
    let anna = s.anna_staff();
    let expected = |name: &str, email: Option<&str>| lodge_core::visit::ExpectedGuest {
        name: name.into(),
        company: "Acme".into(),
        email: email.map(str::to_owned),
        host: None,
        day: day.clone(),
        purpose: None,
    };
    let marta = s.store.expect_guest(&anna, expected("Marta Wiśniewska", Some("marta@acme.test"))).unwrap();
    s.store.expect_guest(&anna, expected("No Address", None)).unwrap();
    let tom = s.store.expect_guest(&anna, expected("Tom Becker", Some("tom@northwind.test"))).unwrap();
    let invitations = |s: &Site| s.store.jobs(JobFilter::All).unwrap().into_iter().filter(|j| j.rule == Rule::Invitation).count();
    assert_eq!(invitations(&s), 2, "one for each guest with an address");
    // Tom comes to the desk before his invitation goes out.
    let desk = s.desk.clone();
    s.store.guest_arrived(&desk, tom.visit).unwrap();
    assert_eq!(invitations(&s), 2, "an arrival queues nothing more");
    let mut said = Vec::new();
    for job in s.store.take_due_jobs(10).unwrap().into_iter().filter(|j| j.rule == Rule::Invitation) {
        said.push(s.store.message_for(&job).unwrap());
    }
    assert!(said.iter().any(|m| matches!(m, Err(Attempt::Cancelled(why)) if why == "Tom Becker has come already")), "{said:?}");
    let sent: Vec<_> = said.into_iter().filter_map(Result::ok).collect();
    let [lodge_core::notice::Message::Invitation(m)] = sent.as_slice() else { panic!("one invitation to send: {sent:?}") };
    assert_eq!((m.to.as_str(), m.guest.as_str(), m.host.as_str(), m.day.as_str(), m.code.as_str()), ("marta@acme.test", "Marta Wiśniewska", "Anna Kowalska", day.as_str(), marta.code.as_str()));
    assert_eq!(m.qr_text(), format!("LODGE-INVITE-{}", marta.code));
}

#[test]
fn a_quiet_site_next_needs_the_server_at_its_next_daily_run_or_job() {
    let mut s = acting_site();
    // 02:00 in Warsaw (winter, UTC+1): the night's erasure is next, at 03:00.
    s.clock.set(at("2027-01-11T01:00:00Z"));
    assert_eq!(s.store.next_wake().unwrap(), Some(at("2027-01-11T02:00:00Z")));
    s.clock.set(at("2027-01-11T02:00:00Z"));
    assert_eq!(s.store.schedule_daily_jobs().unwrap(), vec![Rule::Retention]);
    assert_eq!(s.store.next_wake().unwrap(), Some(at("2027-01-11T02:00:00Z")), "the run queued is due now");
    take(&mut s);
    assert_eq!(s.store.next_wake().unwrap(), Some(at("2027-01-11T08:00:00Z")), "then the overdue keys at 09:00");
    // A fact's message is due at once; a failed try at its retry.
    let v = guest(&mut s, "Jan Guest");
    admit(&mut s, v, 105);
    assert_eq!(s.store.next_wake().unwrap(), Some(at("2027-01-11T02:00:00Z")));
    for job in s.store.take_due_jobs(10).unwrap() {
        s.store.finish_job(job.id, &Attempt::Failed("connection refused".into())).unwrap();
    }
    let retry = s.store.jobs(JobFilter::State(JobState::Queued)).unwrap().iter().map(|j| j.next_at).min().unwrap();
    assert!(retry > at("2027-01-11T02:00:00Z") && retry < at("2027-01-11T08:00:00Z"), "{retry}");
    assert_eq!(s.store.next_wake().unwrap(), Some(retry));
    // The day's last run done, the next is tomorrow's erasure.
    s.clock.set(at("2027-01-11T17:00:00Z"));
    assert_eq!(s.store.schedule_daily_jobs().unwrap(), vec![Rule::SignOutReminder, Rule::LoanOverdue]);
    take(&mut s);
    take(&mut s);
    for job in s.store.take_due_jobs(10).unwrap() {
        s.store.finish_job(job.id, &Attempt::Sent).unwrap();
    }
    assert_eq!(s.store.next_wake().unwrap(), Some(at("2027-01-12T02:00:00Z")));
}

#[test]
fn the_write_mark_moves_with_a_write_by_the_store_or_by_another_process_and_not_with_a_read() {
    let mut s = acting_site();
    let mark = s.store.write_mark().unwrap();
    s.store.jobs(JobFilter::All).unwrap();
    s.store.next_wake().unwrap();
    s.store.people("").unwrap();
    assert_eq!(s.store.write_mark().unwrap(), mark, "reads leave it");
    let desk = s.desk.clone();
    s.store.sign_in(&desk, s.anna).unwrap();
    let after = s.store.write_mark().unwrap();
    assert_ne!(after, mark, "the store's own write moves it");
    // As `lodge-sync jobs run` does beside a running server: another
    // connection to the same file.
    let mut other = lodge_core::Store::open(s.store.path(), std::sync::Arc::new(lodge_core::SystemClock)).unwrap();
    other.run_daily_job(Rule::SignOutReminder, at("2027-01-11T17:00:00Z")).unwrap();
    drop(other);
    assert_ne!(s.store.write_mark().unwrap(), after, "another's write moves it");
}

#[test]
fn the_stores_copy_of_the_hooks_queues_a_post_per_hook_and_a_hook_gone_from_the_copy_cancels_its_post() {
    use lodge_core::notice::{Message, SlackHook};
    let mut s = acting_site();
    let now = s.store.now();
    let hook = |id: i64, url: &str| SlackHook { id, url: url.into(), added_at: now };
    // Numbers as the registry gives them, not as the store would.
    let hooks = vec![hook(3, "https://hooks.slack.com/services/A"), hook(7, "https://hooks.slack.com/services/B")];
    assert!(s.store.copy_slack_hooks(&hooks).unwrap());
    assert!(!s.store.copy_slack_hooks(&hooks).unwrap(), "the same copy again changes nothing");
    assert_eq!(s.store.slack_hooks().unwrap(), hooks);

    s.clock.advance(1000);
    let me = s.anna_staff();
    s.store.sign_in(&me, s.anna).unwrap();
    let mut posts: Vec<i64> = s.store.jobs(JobFilter::All).unwrap().iter().filter(|j| j.rule == Rule::SlackPresence).filter_map(|j| j.hook).collect();
    posts.sort();
    assert_eq!(posts, vec![3, 7], "one post per hook, named by the registry's number");

    // Hook 3 removed elsewhere: the copy follows, and its post is cancelled.
    assert!(s.store.copy_slack_hooks(&hooks[1..]).unwrap());
    let taken = take(&mut s);
    let urls: Vec<&str> = taken.iter().filter_map(|m| match m {
        Ok(Message::SlackPresence(p)) => Some(p.url.as_str()),
        _ => None,
    }).collect();
    assert_eq!(urls, vec!["https://hooks.slack.com/services/B"]);
    let cancelled = s.store.jobs(JobFilter::All).unwrap().into_iter().filter(|j| j.hook == Some(3)).map(|j| j.state).collect::<Vec<_>>();
    assert_eq!(cancelled, vec![JobState::Cancelled]);
}
