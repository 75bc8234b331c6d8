//! A roll call started from a fire marshal's phone, across the real
//! server: the phone holds nobody's presence, so the server lists who is in
//! and starts it in the marshal's name, with the emergency to everyone; the
//! phone gets it as any roll call. A phone that is not a marshal's is
//! refused, and so is a second roll call while one runs.

use lodge_core::person::PersonForm;
use lodge_core::roll_call::StartRollCall;
use lodge_core::sync::admin::{AdminError, start_roll_call};
use lodge_core::sync::api::ApiErrorKind;
use lodge_core::{Actor, Role};
use lodge_tests::eventually;
use lodge_tests::site::{LIMIT, TestSite, settled};

fn kind(e: AdminError) -> ApiErrorKind {
    match e {
        AdminError::Refused { kind, .. } => kind,
        other => panic!("a refusal, not {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marshals_phone_starts_a_roll_call_of_everyone_the_server_knows_is_in() {
    let s = TestSite::start().await;
    let founder = s.founder();
    let person = |name: &str, marshal: bool| PersonForm { name: name.into(), roles: vec![Role::Staff], marshal, ..Default::default() };
    let olena = s.admin.act(|st| st.create_person(&founder, person("Olena Shevchenko", true))).unwrap();
    let jan = s.admin.act(|st| st.create_person(&founder, person("Jan Nowak", false))).unwrap();
    s.admin.act(|st| st.sign_in(&founder, s.host)).unwrap();
    settled(&s.admin).await;
    let marshal = s.device("olena-phone", "staff", Some(olena)).await;
    let other = s.device("jan-phone", "staff", Some(jan)).await;
    assert!(marshal.read(|st| st.people_in().unwrap().is_empty()), "a phone does not hold who is in");
    let http = s.server.http_url();

    let start = StartRollCall { emergency: Some("Fire alarm: leave by the east stairs".into()) };
    assert_eq!(kind(start_roll_call(&http, &other.token, &start).await.unwrap_err()), ApiErrorKind::Forbidden, "not a marshal");
    assert_eq!(kind(start_roll_call(&http, &s.admin.token, &start).await.unwrap_err()), ApiErrorKind::Forbidden, "a desk starts its own");

    let id = start_roll_call(&http, &marshal.token, &start).await.unwrap();
    eventually("the roll call reaches the marshal's phone", LIMIT, || marshal.read(|st| st.running_roll_call().unwrap().is_some_and(|r| r.summary.id == id))).await.unwrap();
    let call = marshal.read(|st| st.running_roll_call()).unwrap().unwrap();
    assert_eq!(call.entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["Anna Kowalska"], "everyone the server knows is in");
    assert_eq!(call.summary.started_by, "Olena Shevchenko");
    // The emergency went to every device, in the marshal's name.
    let desk = Actor { person: None, device: Some(s.admin.id), name: "Admin".into(), role: Role::Admin };
    eventually("the emergency reaches the admin", LIMIT, || {
        s.admin.read(|st| st.active_announcements(&desk).unwrap().iter().any(|a| a.text.starts_with("Fire alarm") && a.sender_name == "Olena Shevchenko"))
    })
    .await
    .unwrap();
    assert!(other.read(|st| st.running_roll_call().unwrap().is_none()), "a phone that is not a marshal's gets no roll call");

    assert_eq!(kind(start_roll_call(&http, &marshal.token, &StartRollCall { emergency: None }).await.unwrap_err()), ApiErrorKind::RollCallRunning);
}
