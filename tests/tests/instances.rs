//! Several `lodge-sync` instances on one PostgreSQL database (the tests'
//! PostgreSQL, `LODGE_TEST_POSTGRES`), each with a data directory of its
//! own: a change made through one reaches devices of the others at once, a
//! new instance serves a site it never saw, a killed instance's devices go
//! on through another with nothing lost, and a job runs once.

use std::path::PathBuf;
use std::time::Duration;

use lodge_core::person::PersonForm;
use lodge_core::visit::{AdmitRequest, GuestForm};
use lodge_core::{Actor, CardNumber, PersonId, Role, SiteId};
use lodge_tests::site::settled;
use lodge_tests::{Device, Server, eventually};

const LIMIT: Duration = Duration::from_secs(30);

/// One database and the data directories of its instances.
struct Cluster {
    database: String,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn new() -> Self {
        Self { database: lodge_tests::postgres::fresh_database().expect("a database"), dir: tempfile::tempdir().expect("a folder") }
    }

    fn data(&self, instance: &str) -> PathBuf {
        self.dir.path().join(instance)
    }

    /// `lodge-sync --data DIR --database URL ARGS…` for the instance.
    fn cli(&self, instance: &str, args: &[&str]) -> String {
        let mut all = vec!["--database", self.database.as_str()];
        all.extend_from_slice(args);
        lodge_tests::admin(&self.data(instance), &all).expect("the command works")
    }

    fn start(&self, instance: &str) -> Server {
        self.start_with(instance, &[])
    }

    fn start_with(&self, instance: &str, args: &[&str]) -> Server {
        let mut all = vec!["--database", self.database.as_str()];
        all.extend_from_slice(args);
        Server::start_with(&self.data(instance), &all).expect("the instance starts")
    }

    fn code(&self, instance: &str, site: SiteId, role: &str, person: Option<PersonId>) -> String {
        let site = site.to_string();
        let person = person.map(|p| p.to_string());
        let mut args = vec!["enrol", "--site", site.as_str(), "--role", role];
        if let Some(p) = &person {
            args.extend(["--person", p.as_str()]);
        }
        self.cli(instance, &args)
    }

    async fn device(&self, server: &Server, instance: &str, site: SiteId, name: &str, role: &str) -> Device {
        let code = self.code(instance, site, role, None);
        let d = Device::enrol(server, self.dir.path(), name, &code).await.expect("the device enrols");
        eventually(&format!("{name} has the site"), LIMIT, || d.read(|s| s.site_settings().unwrap().is_some())).await.unwrap();
        d
    }
}

fn actor(d: &Device, role: Role) -> Actor {
    Actor { person: None, device: Some(d.id), name: format!("{role}"), role }
}

fn guest(host: PersonId, name: &str) -> GuestForm {
    GuestForm { name: name.into(), company: "Acme".into(), host: Some(host), consent: true, ..Default::default() }
}

fn site_in(cluster: &Cluster, instance: &str) -> SiteId {
    cluster.cli(instance, &["site", "create", "--name", "Two Doors House", "--time-zone", "UTC"]).parse().expect("a site id")
}

async fn host(admin: &Device) -> PersonId {
    let anna = PersonForm { name: "Anna Kowalska".into(), email: Some("anna@lodge.test".into()), hosts_guests: true, roles: vec![Role::Staff], ..Default::default() };
    let host = admin.act(|s| s.create_person(&actor(admin, Role::Admin), anna)).expect("the host is added");
    settled(admin).await;
    host
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_at_a_kiosk_of_one_instance_reaches_reception_on_another_and_a_new_instance_serves_the_site() {
    let cluster = Cluster::new();
    let site = site_in(&cluster, "a");
    let a = cluster.start("a");
    let b = cluster.start("b");
    let admin = cluster.device(&a, "a", site, "admin", "admin").await;
    let anna = host(&admin).await;
    // The kiosk is on the other instance, which never had the site's file.
    let kiosk = cluster.device(&b, "b", site, "kiosk", "kiosk").await;
    eventually("the kiosk on b knows the host made on a", LIMIT, || kiosk.read(|s| s.directory("Anna").unwrap().iter().any(|p| p.id == anna))).await.unwrap();
    let reception = cluster.device(&a, "a", site, "reception", "reception").await;

    let visit = kiosk.act(|s| s.register_guest(&kiosk.kiosk(), guest(anna, "Jan Guest"))).unwrap();
    // Nobody asks: instance b numbers it, a hears and pushes it.
    eventually("reception on a sees the guest from b", LIMIT, || reception.read(|s| s.waiting_guests().unwrap().iter().any(|v| v.id == visit))).await.unwrap();
    reception
        .act(|s| s.admit(&actor(&reception, Role::Reception), AdmitRequest { visit, card: CardNumber::new(105).unwrap(), take_over: false }))
        .unwrap();
    eventually("admin on a sees the guest in", LIMIT, || admin.read(|s| s.guests_in().unwrap().len() == 1)).await.unwrap();
    // Admitted on a: the kiosk on b drops the visit, as with one server.
    eventually("the kiosk on b drops the admitted visit", LIMIT, || kiosk.read(|s| s.visit(visit).unwrap().is_none())).await.unwrap();

    // A third instance, started now with an empty directory, serves the
    // whole site to a new desk.
    let c = cluster.start("c");
    let late = cluster.device(&c, "c", site, "late-desk", "reception").await;
    eventually("a desk on c sees the guest in", LIMIT, || late.read(|s| s.guests_in().unwrap().iter().any(|v| v.id == visit))).await.unwrap();
    assert!(late.read(|s| s.person(anna).unwrap().is_some()));
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_mid_run_loses_nothing_and_its_desk_goes_on_through_another() {
    let cluster = Cluster::new();
    let site = site_in(&cluster, "a");
    let b = cluster.start("b");
    // a tells its devices where else the server is.
    let other = format!("ws://{}/sync", b.addr);
    let mut a = cluster.start_with("a", &["--also-at", &other]);
    let admin = cluster.device(&b, "b", site, "admin", "admin").await;
    let anna = host(&admin).await;
    let reception = cluster.device(&a, "a", site, "reception", "reception").await;
    eventually("reception on a knows the host", LIMIT, || reception.read(|s| s.person(anna).unwrap().is_some())).await.unwrap();
    let desk = actor(&reception, Role::Reception);

    let mut visits = Vec::new();
    for i in 0..20 {
        visits.push(reception.act(|s| s.register_guest(&desk, guest(anna, &format!("Guest {i}")))).unwrap());
        if i == 9 {
            // Killed with the desk's work going on: some of it reached a,
            // some may be on the way.
            a.kill();
        }
    }
    // Nobody gives the desk another address: it tries the one a's
    // welcome named.
    settled(&reception).await;
    eventually("admin on b has every guest", LIMIT, || admin.read(|s| s.waiting_guests().unwrap().len() == visits.len())).await.unwrap();
    let waiting: Vec<_> = admin.read(|s| s.waiting_guests().unwrap()).into_iter().map(|v| v.id).collect();
    for v in &visits {
        assert_eq!(waiting.iter().filter(|w| *w == v).count(), 1, "each guest once");
    }
    // a comes back: it merges what b took while it was down.
    let a = cluster.start_with("a", &["--also-at", &other]);
    let again = cluster.device(&a, "a", site, "desk-2", "reception").await;
    eventually("a desk on the restarted a has every guest", LIMIT, || again.read(|s| s.waiting_guests().unwrap().len() == visits.len())).await.unwrap();
}

/// `lodge-sync jobs list` on an instance's own data: its `host-told` jobs.
fn host_told(cluster: &Cluster, instance: &str) -> Vec<String> {
    cluster.cli(instance, &["jobs", "list"]).lines().filter(|l| l.split_whitespace().nth(2) == Some("host-told")).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_instances_queue_the_hosts_mail_and_it_is_sent_once() {
    let folder = tempfile::tempdir().unwrap();
    let mailbox = lodge_tests::mailbox::Mailbox::start(folder.path()).unwrap();
    let cluster = Cluster::new();
    let site = site_in(&cluster, "a");
    let url = mailbox.url();
    let start = |instance: &str| cluster.start_with(instance, &["--smtp-url", &url, "--mail-from", "Lodge <lodge@lodge.test>"]);
    let (a, b) = (start("a"), start("b"));
    let admin = cluster.device(&a, "a", site, "admin", "admin").await;
    let anna = host(&admin).await;
    // A device on each: each instance has the site open, so each merges
    // the guest and queues the host's mail.
    let kiosk = cluster.device(&b, "b", site, "kiosk", "kiosk").await;
    let reception = cluster.device(&a, "a", site, "reception", "reception").await;
    eventually("the kiosk knows the host", LIMIT, || kiosk.read(|s| s.directory("Anna").unwrap().iter().any(|p| p.id == anna))).await.unwrap();
    let visit = kiosk.act(|s| s.register_guest(&kiosk.kiosk(), guest(anna, "Jan Guest"))).unwrap();
    eventually("reception sees the guest", LIMIT, || reception.read(|s| s.visit(visit).unwrap().is_some())).await.unwrap();
    reception
        .act(|s| s.admit(&actor(&reception, Role::Reception), AdmitRequest { visit, card: CardNumber::new(105).unwrap(), take_over: false }))
        .unwrap();
    // Until both instances are done with the job: one sent it, the other
    // found it sent.
    eventually("both instances end the host's job as sent", LIMIT, || {
        ["a", "b"].iter().all(|i| {
            let jobs = host_told(&cluster, i);
            jobs.len() == 1 && jobs[0].contains(" sent ")
        })
    })
    .await
    .unwrap();
    let mails = mailbox.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].header("To").unwrap().contains("anna@lodge.test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_and_a_webhook_set_through_one_instance_are_used_by_another_after_it_is_gone() {
    let folder = tempfile::tempdir().unwrap();
    let (servers, own) = (folder.path().join("server-relay"), folder.path().join("site-relay"));
    std::fs::create_dir_all(&servers).unwrap();
    std::fs::create_dir_all(&own).unwrap();
    let server_relay = lodge_tests::mailbox::Mailbox::start(&servers).unwrap();
    let site_relay = lodge_tests::mailbox::Mailbox::start(&own).unwrap();
    let slack = lodge_tests::slack::SlackStandIn::start(0).await.unwrap();
    let cluster = Cluster::new();
    let site = site_in(&cluster, "a");
    let url = server_relay.url();
    let start = |instance: &str| cluster.start_with(instance, &["--smtp-url", &url, "--mail-from", "Lodge <lodge@lodge.test>"]);
    let (mut a, b) = (start("a"), start("b"));
    let admin = cluster.device(&a, "a", site, "admin", "admin").await;
    let anna = host(&admin).await;
    // Every desk is on b, which has the site open before the channels are set.
    let kiosk = cluster.device(&b, "b", site, "kiosk", "kiosk").await;
    // An admin's desk: it admits, and signs staff in.
    let reception = cluster.device(&b, "b", site, "front-admin", "admin").await;
    eventually("the kiosk knows the host", LIMIT, || kiosk.read(|s| s.directory("Anna").unwrap().iter().any(|p| p.id == anna))).await.unwrap();

    // Set through a, as the site's admin would at a's address.
    let id = site.to_string();
    cluster.cli("a", &["mail", "set", "--site", &id, "--smtp-url", &site_relay.url(), "--mail-from", "Front desk <desk@site.test>"]);
    let hook = cluster.cli("a", &["slack", "add", "--site", &id, &slack.url]);
    assert_eq!(cluster.cli("b", &["slack", "list", "--site", &id]), format!("{hook}  {}", slack.url), "b's command line reads the same");
    a.kill();

    // Only b is left to act: through the site's relay, and to its webhook.
    let visit = kiosk.act(|s| s.register_guest(&kiosk.kiosk(), guest(anna, "Jan Guest"))).unwrap();
    eventually("reception sees the guest", LIMIT, || reception.read(|s| s.visit(visit).unwrap().is_some())).await.unwrap();
    reception
        .act(|s| s.admit(&actor(&reception, Role::Admin), AdmitRequest { visit, card: CardNumber::new(105).unwrap(), take_over: false }))
        .unwrap();
    reception.act(|s| s.sign_in(&actor(&reception, Role::Admin), anna)).unwrap();
    eventually("the host's mail goes through the site's relay", LIMIT, || site_relay.count() == 1).await.unwrap();
    assert!(site_relay.mails()[0].header("From").unwrap().contains("desk@site.test"));
    eventually("Slack gets the sign-in", LIMIT, || slack.posts.lock().unwrap().len() == 1).await.unwrap();
    assert!(slack.posts.lock().unwrap()[0]["text"].as_str().unwrap().starts_with("Anna Kowalska signed in"));
    assert_eq!(server_relay.count(), 0, "not through the server's relay");
}

/// Rows of the database's `changes` for each document, most first.
fn kept_rows(cluster: &Cluster) -> Vec<(String, i64, i64)> {
    let url = cluster.database.clone();
    lodge_tests::postgres::off_runtime(move || {
        let mut db = postgres::Client::connect(&url, postgres::NoTls)?;
        let rows = db.query("SELECT doc_id, count(*), count(bytes) FROM changes GROUP BY doc_id ORDER BY count(*) DESC, doc_id", &[])?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_changes_are_folded_into_the_whole_document_and_a_deleted_guests_leave_the_database() {
    let cluster = Cluster::new();
    let site = site_in(&cluster, "a");
    let often = ["--compact-every-secs", "1"];
    let (a, b) = (cluster.start_with("a", &often), cluster.start_with("b", &often));
    let admin = cluster.device(&a, "a", site, "admin", "admin").await;
    let anna = host(&admin).await;
    let me = actor(&admin, Role::Admin);
    // Anna's presence month takes a change at each sign-in and sign-out,
    // each numbered on its own.
    for _ in 0..40 {
        admin.act(|s| s.sign_in(&me, anna)).unwrap();
        settled(&admin).await;
        admin.act(|s| s.sign_out(&me, anna).map(drop)).unwrap();
        settled(&admin).await;
    }
    // Folded once more than 64 were kept (relay.rs, `CROWDED`): the month's
    // 80 numbers keep at most the whole document and 64 changes after it.
    eventually("the month's changes are folded into the whole document", LIMIT, || kept_rows(&cluster)[0].1 <= 65).await.unwrap();

    // A guest rejected at the desk: nothing of theirs stays but the deletion.
    let kiosk = cluster.device(&b, "b", site, "kiosk", "kiosk").await;
    let visit = kiosk.act(|s| s.register_guest(&kiosk.kiosk(), guest(anna, "Zofia Mistaken"))).unwrap();
    settled(&kiosk).await;
    eventually("the desk sees the entry", LIMIT, || admin.read(|s| s.visit(visit).unwrap().is_some())).await.unwrap();
    admin.act(|s| s.reject(&me, visit, lodge_core::visit::RejectReason::Mistake)).unwrap();
    settled(&admin).await;
    let doc = lodge_core::DocId::visit(visit).to_string();
    eventually("the rejected entry's changes are gone from the database", LIMIT, || {
        kept_rows(&cluster).iter().any(|(d, rows, with_bytes)| *d == doc && *rows == 1 && *with_bytes == 0)
    })
    .await
    .unwrap();

    // A new instance fills its store from what is kept, and has it all.
    let c = cluster.start("c");
    let auditor = cluster.device(&c, "c", site, "auditor", "admin").await;
    let from = lodge_core::Timestamp::from_millis(0);
    eventually("every sign-in and sign-out reaches a desk of the new instance", LIMIT, || {
        auditor.read(|s| s.presence_history(anna, from).unwrap().len()) == 80
    })
    .await
    .unwrap();
    assert!(auditor.read(|s| s.people_in().unwrap().is_empty()), "Anna signed out last");
    assert!(auditor.read(|s| s.visit(visit).unwrap().is_none()), "the rejected entry is nowhere");
    drop((a, b));
}

/// `pg_dump` or `pg_restore` with these arguments.
fn pg(tool: &str, args: &[&str]) {
    let out = std::process::Command::new(tool).args(args).output().expect("the PostgreSQL client tools (Debian's postgresql-client)");
    assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_dumped_while_serving_is_restored_and_the_devices_sync_with_new_instances() {
    let cluster = Cluster::new();
    let site = site_in(&cluster, "a");
    let mut a = cluster.start("a");
    let mut b = cluster.start("b");
    let admin = cluster.device(&a, "a", site, "admin", "admin").await;
    let anna = host(&admin).await;
    let kiosk = cluster.device(&b, "b", site, "kiosk", "kiosk").await;
    let desk = cluster.device(&a, "a", site, "desk", "reception").await;
    let at_desk = actor(&desk, Role::Reception);
    eventually("the kiosk knows the host", LIMIT, || kiosk.read(|s| s.directory("Anna").unwrap().iter().any(|p| p.id == anna))).await.unwrap();
    let visit = kiosk.act(|s| s.register_guest(&kiosk.kiosk(), guest(anna, "Marta Wiśniewska"))).unwrap();
    eventually("the desk has the guest", LIMIT, || desk.read(|s| s.visit(visit).unwrap().is_some())).await.unwrap();
    desk.act(|s| s.admit(&at_desk, AdmitRequest { visit, card: CardNumber::new(105).unwrap(), take_over: false })).unwrap();
    settled(&desk).await;

    // The dump, while both instances serve.
    let dump = cluster.dir.path().join("lodge.dump");
    pg("pg_dump", &["--format=custom", "--file", &dump.display().to_string(), &cluster.database]);

    // After it: changes the dump lacks, numbered past it.
    desk.act(|s| s.release(&at_desk, visit)).unwrap();
    settled(&desk).await;
    let late = kiosk.act(|s| s.register_guest(&kiosk.kiosk(), guest(anna, "Olga Late"))).unwrap();
    eventually("the desk sees the late guest", LIMIT, || desk.read(|s| s.visit(late).unwrap().is_some())).await.unwrap();

    // The database is lost, and the instances' disks with it. A new
    // database from the dump; new instances, with empty directories, on
    // the old addresses.
    let (port_a, port_b) = (a.port(), b.port());
    a.kill();
    b.kill();
    let restored = lodge_tests::postgres::fresh_database().unwrap();
    pg("pg_restore", &["--no-owner", "--dbname", &restored, &dump.display().to_string()]);
    let new_a = cluster.dir.path().join("new-a");
    std::fs::create_dir_all(&new_a).unwrap();
    std::fs::write(new_a.join("left-over"), b"x").unwrap();
    let refused = lodge_tests::admin(&new_a, &["--database", &restored, "restore"]).unwrap_err().to_string();
    assert!(refused.contains("is not empty"), "{refused}");
    std::fs::remove_file(new_a.join("left-over")).unwrap();
    let printed = lodge_tests::admin(&new_a, &["--database", &restored, "restore"]).unwrap();
    assert!(printed.starts_with("moved the change feed of 1 sites"), "{printed}");
    let a = Server::start_at(&new_a, port_a, &["--database", &restored]).unwrap();
    let b = Server::start_at(&cluster.dir.path().join("new-b"), port_b, &["--database", &restored]).unwrap();

    eventually("the desk back online with the restored instance", Duration::from_secs(90), || {
        desk.sync.status().connection == lodge_core::sync::Connection::Online
    })
    .await
    .unwrap();
    // A new device gets everything of before the dump.
    let code = lodge_tests::admin(&new_a, &["--database", &restored, "enrol", "--site", &site.to_string(), "--role", "admin"]).unwrap();
    let office = Device::enrol(&b, cluster.dir.path(), "office", &code).await.unwrap();
    eventually("the new device has the guest", LIMIT, || office.read(|s| s.visit(visit).unwrap().is_some())).await.unwrap();
    assert_eq!(office.read(|s| s.person(anna).unwrap().map(|p| p.name)), Some("Anna Kowalska".into()));
    // The desk had heard of numbers past the dump's: away while the kiosk
    // registers the next guest, back, it catches up on it.
    let mut desk = desk;
    desk.go_offline();
    let next = kiosk.act(|s| s.register_guest(&kiosk.kiosk(), guest(anna, "Tom Becker"))).unwrap();
    settled(&kiosk).await;
    desk.go_online(&a);
    eventually("the desk, back, sees the next guest", LIMIT, || desk.read(|s| s.visit(next).unwrap().is_some())).await.unwrap();
}

/// A PostgreSQL of the test's own (`scripts/postgres`), stopped at the end.
struct OwnPostgres {
    dir: tempfile::TempDir,
    url: String,
}

impl OwnPostgres {
    fn start() -> Self {
        let dir = tempfile::Builder::new().prefix("lodge-pg-own").tempdir_in("/tmp").unwrap();
        let url = Self::script("start", dir.path(), None);
        Self { url, dir }
    }

    /// `scripts/postgres ACTION DIR` (on `port`, if given); what it printed.
    fn script(action: &str, dir: &std::path::Path, port: Option<&str>) -> String {
        let mut command = std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres"));
        command.arg(action).arg(dir);
        if let Some(port) = port {
            command.env("LODGE_PG_PORT", port);
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn stop(&self) {
        Self::script("stop", self.dir.path(), None);
    }

    /// Start it again where it was (its servers find it there).
    fn start_again(&self) {
        let port = self.url.rsplit_once(':').and_then(|(_, rest)| rest.split('/').next()).unwrap();
        assert_eq!(Self::script("start", self.dir.path(), Some(port)), self.url);
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres")).arg("stop").arg(self.dir.path()).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_taken_while_the_database_is_away_reaches_the_other_instances_after_even_across_a_kill() {
    let pg = OwnPostgres::start();
    let cluster = Cluster { database: pg.url.clone(), dir: tempfile::tempdir().unwrap() };
    let site = site_in(&cluster, "a");
    let (mut a, b) = (cluster.start("a"), cluster.start("b"));
    let admin = cluster.device(&b, "b", site, "admin", "admin").await;
    let anna = host(&admin).await;
    let reception = cluster.device(&a, "a", site, "reception", "reception").await;
    eventually("reception on a knows the host", LIMIT, || reception.read(|s| s.person(anna).unwrap().is_some())).await.unwrap();

    // The database goes away; a takes the desk's guest into its store all
    // the same, and owes it a number.
    pg.stop();
    let desk = actor(&reception, Role::Reception);
    let visit = reception.act(|s| s.register_guest(&desk, guest(anna, "Olga Offline"))).unwrap();
    settled(&reception).await;
    // Killed before the database is back: what it owed is in its store.
    a.kill();
    pg.start_again();
    assert!(admin.read(|s| s.visit(visit).unwrap().is_none()), "b cannot have it yet");
    let a = cluster.start("a");
    // A desk that joins b now (the old ones wait out their backoff from
    // while the database was away).
    let later = cluster.device(&b, "b", site, "desk-2", "reception").await;
    eventually("the guest taken while the database was away reaches b's desk", LIMIT, || later.read(|s| s.visit(visit).unwrap().is_some()))
        .await
        .unwrap();
    drop((a, b));
}

#[test]
fn the_database_is_reached_over_tls_and_its_certificate_is_checked_against_the_given_authority() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use std::os::unix::fs::PermissionsExt;
    let pg = OwnPostgres::start();
    // A certificate authority of the database's own, and its certificate.
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap().signed_by(&key, &ca).unwrap();
    let (cert_file, key_file, ca_file) = (pg.dir.path().join("server.crt"), pg.dir.path().join("server.key"), pg.dir.path().join("ca.pem"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    std::fs::write(&ca_file, ca.pem()).unwrap();
    // PostgreSQL reads its key only if it is its own and private.
    let owner = std::fs::metadata(pg.dir.path().join("data")).map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap();
    for f in [&cert_file, &key_file] {
        std::os::unix::fs::chown(f, Some(owner), None).unwrap();
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut admin = postgres::Client::connect(&pg.url, postgres::NoTls).unwrap();
    // One statement at a time: several in one string are one transaction,
    // where ALTER SYSTEM may not run.
    for sql in [
        format!("ALTER SYSTEM SET ssl_cert_file = '{}'", cert_file.display()),
        format!("ALTER SYSTEM SET ssl_key_file = '{}'", key_file.display()),
        "ALTER SYSTEM SET ssl = on".into(),
        "SELECT pg_reload_conf()".into(),
        "CREATE DATABASE lodge_tls".into(),
    ] {
        admin.batch_execute(&sql).unwrap();
    }
    // The reload is the postmaster's, in its own time: until a new session
    // sees it.
    let start = std::time::Instant::now();
    while postgres::Client::connect(&pg.url, postgres::NoTls).unwrap().query_one("SHOW ssl", &[]).unwrap().get::<_, String>(0) != "on" {
        assert!(start.elapsed() < LIMIT, "PostgreSQL never turned TLS on");
        std::thread::yield_now();
    }
    let (base, _) = pg.url.rsplit_once('/').unwrap();
    let url = format!("{base}/lodge_tls?sslmode=require");
    let data = pg.dir.path().join("lodge");

    // The database's certificate is not one of the public roots': refused.
    let refused = lodge_tests::admin(&data, &["--database", &url, "site", "list"]).unwrap_err().to_string();
    assert!(refused.to_lowercase().contains("certificate"), "{refused}");
    // Trusted through --database-ca: a site is made and listed over TLS.
    let ca = ca_file.display().to_string();
    let site = lodge_tests::admin(&data, &["--database", &url, "--database-ca", &ca, "site", "create", "--name", "Vault", "--time-zone", "UTC"]).unwrap();
    let listed = lodge_tests::admin(&data, &["--database", &url, "--database-ca", &ca, "site", "list"]).unwrap();
    assert!(listed.contains(&site) && listed.contains("Vault"), "{listed}");
    // `sslmode=require`: nothing of this went in the clear.
    let made: i64 = admin.query_one("SELECT count(*) FROM pg_database WHERE datname = 'lodge_tls'", &[]).unwrap().get(0);
    assert_eq!(made, 1);
}

#[test]
fn another_instances_address_must_be_a_sync_address_and_needs_the_shared_database() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |args: &[&str]| {
        let out = std::process::Command::new(lodge_tests::lodge_sync_bin())
            .arg("--data")
            .arg(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("LODGE_SYNC_DATABASE")
            .env_remove("LODGE_SYNC_ALSO_AT")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} was taken");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let bad = serve(&["--also-at", "https://b.example/sync"]);
    assert!(bad.contains("a sync address such as wss://b.example/sync"), "{bad}");
    let alone = serve(&["--also-at", "ws://127.0.0.1:9/sync"]);
    assert!(alone.contains("--also-at names other instances of one database: it needs --database"), "{alone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_no_store_can_take_is_set_aside_and_the_site_goes_on_on_every_instance() {
    let cluster = Cluster::new();
    let site = site_in(&cluster, "a");
    let a = cluster.start("a");
    let admin = cluster.device(&a, "a", site, "admin", "admin").await;
    let anna = host(&admin).await;
    // Bytes that are no Automerge change at all, numbered in the site's
    // feed as if another instance had made them.
    let damaged_visit = lodge_core::VisitId::new();
    let damaged = lodge_core::DocId::visit(damaged_visit);
    let (url, site_id, doc_id) = (cluster.database.clone(), site.to_string(), damaged.to_string());
    lodge_tests::postgres::off_runtime(move || {
        let mut db = postgres::Client::connect(&url, postgres::NoTls)?;
        let mut tx = db.transaction()?;
        let seq: i64 = tx.query_one("UPDATE sites SET seq = seq + 1 WHERE site_id = $1 RETURNING seq", &[&site_id])?.get(0);
        tx.execute("INSERT INTO feed (site_id, doc_id, seq, purged) VALUES ($1, $2, $3, false)", &[&site_id, &doc_id, &seq])?;
        let garbage = vec![0x42u8; 64];
        tx.execute(
            "INSERT INTO changes (site_id, seq, doc_id, purged, origin, bytes) VALUES ($1, $2, $3, false, 'elsewhere', $4)",
            &[&site_id, &seq, &doc_id, &garbage],
        )?;
        tx.commit()?;
        Ok(())
    })
    .unwrap();

    // A guest registered after it, on a kiosk of a second instance: both
    // instances pass the damaged change by and go on.
    let b = cluster.start_with("b", &["--metrics-token", "s3cret"]);
    let kiosk = cluster.device(&b, "b", site, "kiosk", "kiosk").await;
    let visit = kiosk.act(|s| s.register_guest(&kiosk.kiosk(), guest(anna, "After Damage"))).unwrap();
    eventually("the admin on a sees the guest from b", LIMIT, || admin.read(|s| s.visit(visit).unwrap().is_some())).await.unwrap();

    // A third instance, started empty, fills its store past it and serves
    // the whole site.
    let c = cluster.start_with("c", &["--metrics-token", "s3cret"]);
    let late = cluster.device(&c, "c", site, "late-desk", "reception").await;
    eventually("a desk on c sees the guest", LIMIT, || late.read(|s| s.visit(visit).unwrap().is_some())).await.unwrap();
    assert!(late.read(|s| s.person(anna).unwrap().is_some()));
    assert!(late.read(|s| s.visit(damaged_visit).unwrap().is_none()), "nothing came of the damaged change");
    // Each instance that passed it by says so to the operator's monitoring.
    for instance in [&b, &c] {
        let page = reqwest::Client::new().get(format!("{}/metrics", instance.http_url())).bearer_auth("s3cret").send().await.unwrap().text().await.unwrap();
        let set_aside = page.lines().find_map(|l| l.strip_prefix("lodge_changes_set_aside_total ")).and_then(|v| v.trim().parse::<u64>().ok());
        assert!(set_aside.is_some_and(|n| n >= 1), "{page}");
    }
    drop((a, b));
}
