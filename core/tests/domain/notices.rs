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
    assert_eq!(jobs.len(), 1, "admitted then released: still one fact, one job");
    assert_eq!((jobs[0].rule, jobs[0].state, jobs[0].subject.clone()), (Rule::HostTold, JobState::Queued, DocId::visit(v)));
    let taken = s.store.take_due_jobs(10).unwrap();
    let message = s.store.message_for(&taken[0]).unwrap().unwrap();
    let lodge_core::notice::Message::HostTold(m) = message else { panic!("a host-told job says host-told: {message:?}") };
    assert_eq!((m.to.as_str(), m.guest.as_str(), m.host.as_str(), m.site.as_str()), ("anna@lodge.test", "Jan Guest", "Anna Kowalska", "Lodge House"));
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
        let taken = s.store.take_due_jobs(10).unwrap();
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
    assert_eq!(taken.len(), 1);
    // Killed here: never finished. At the next start:
    assert_eq!(s.store.resume_jobs().unwrap(), 1);
    let again = s.store.take_due_jobs(10).unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 2));
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
