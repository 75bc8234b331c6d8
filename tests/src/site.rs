//! A site to test against: a real `lodge-sync` holding one site, and an
//! admin device that added a host (Anna Kowalska, who receives guests),
//! its changes on the server. Devices enrol into it with one-time codes.

use std::path::Path;
use std::time::Duration;

use lodge_core::person::PersonForm;
use lodge_core::{Actor, PersonId, Role, SiteId};

use crate::{Device, Server, code, create_site_in, eventually};

/// How long a test waits for a device to get something.
pub const LIMIT: Duration = Duration::from_secs(20);

/// A server with a site, its admin device and a host.
pub struct TestSite {
    /// The server.
    pub server: Server,
    /// The site.
    pub site: SiteId,
    /// The site's admin device.
    pub admin: Device,
    /// A person who receives guests.
    pub host: PersonId,
    /// Where the server's and the devices' files are.
    pub dir: tempfile::TempDir,
}

impl TestSite {
    /// A site on a server started the usual way.
    pub async fn start() -> Self {
        Self::start_with(|data| Server::start(data, 0)).await
    }

    /// A site on a server that `start` starts in the data directory it is given.
    pub async fn start_with(start: impl FnOnce(&Path) -> anyhow::Result<Server>) -> Self {
        Self::start_in("UTC", start).await
    }

    /// A site in the time zone `zone` on a server that `start` starts.
    pub async fn start_in(zone: &str, start: impl FnOnce(&Path) -> anyhow::Result<Server>) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("server");
        let site = create_site_in(&data, "Lodge House", zone).expect("a site");
        let server = start(&data).expect("the server starts");
        let admin = Device::enrol(&server, dir.path(), "admin", &code(&data, site, "admin", None).expect("a code")).await.expect("the admin enrols");
        eventually("admin has the site", LIMIT, || admin.read(|s| s.site_settings().unwrap().is_some())).await.unwrap();
        let founder = founder(&admin);
        let host = admin
            .act(|s| {
                let anna = PersonForm {
                    name: "Anna Kowalska".into(),
                    email: Some("anna@lodge.test".into()),
                    hosts_guests: true,
                    roles: vec![Role::Staff],
                    ..Default::default()
                };
                s.create_person(&founder, anna)
            })
            .expect("the host is added");
        settled(&admin).await;
        Self { server, site, admin, host, dir }
    }

    /// The admin device as the actor of commands.
    pub fn founder(&self) -> Actor {
        founder(&self.admin)
    }

    /// A new device of the site, holding the site's settings.
    pub async fn device(&self, name: &str, role: &str, person: Option<PersonId>) -> Device {
        let c = code(&self.server.data, self.site, role, person).expect("a code");
        let d = Device::enrol(&self.server, self.dir.path(), name, &c).await.expect("the device enrols");
        eventually(&format!("{name} has the site"), LIMIT, || d.read(|s| s.site_settings().unwrap().is_some())).await.unwrap();
        d
    }
}

fn founder(admin: &Device) -> Actor {
    Actor { person: None, device: Some(admin.id), name: "Admin".into(), role: Role::Admin }
}

/// Wait until everything the device changed has reached the server.
pub async fn settled(d: &Device) {
    eventually("changes reach the server", LIMIT, || d.read(|s| s.outbox().unwrap().is_empty())).await.unwrap();
}
