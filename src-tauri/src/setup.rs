//! The device's enrolment, kept beside its store: its role, its name, whose
//! phone it is, and — once joined to a server — where the server is and the
//! device's token. Without this file the app opens on the first-run screen.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use lodge_core::{DeviceId, PersonId, Role, SiteId};

const FILE: &str = "device.json";

/// How this device was set up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    /// What the device is for; decides the screens.
    pub role: Role,
    /// The device's name, shown in change history.
    pub device_name: String,
    /// Whose phone it is (staff and worker devices).
    pub person: Option<PersonId>,
    /// The server, once joined. `None`: a site of its own, no server.
    pub server: Option<Joined>,
}

/// A device joined to a `lodge-sync` server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    /// `http://host:port` or `https://…`.
    pub url: String,
    /// This device's id at the server.
    pub device: DeviceId,
    /// The site.
    pub site: SiteId,
    /// The secret the sync client connects with.
    pub token: String,
}

impl Joined {
    /// The WebSocket address of the server's sync endpoint.
    pub fn sync_url(&self) -> String {
        let base = self.url.trim_end_matches('/');
        let base = base.strip_prefix("https://").map(|r| format!("wss://{r}")).unwrap_or_else(|| base.replacen("http://", "ws://", 1));
        format!("{base}{}", lodge_core::sync::api::SYNC_PATH)
    }
}

/// Why the enrolment file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Reading or writing failed.
    #[error("the device's enrolment file {path} could not be used: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not what we wrote.
    #[error("the device's enrolment file {path} is damaged ({source}); move it away to set the device up again")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

impl Setup {
    /// The enrolment in `dir`, if the device was set up.
    pub fn load(dir: &Path) -> Result<Option<Self>, SetupError> {
        let path = dir.join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|source| SetupError::Damaged { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SetupError::Io { path, source }),
        }
    }

    /// Delete the enrolment (and a half-written one): the device was
    /// removed from its site, and the file holds its token. Gone already
    /// is fine.
    pub fn remove(dir: &Path) -> Result<(), SetupError> {
        for name in [FILE.to_owned(), format!("{FILE}.tmp")] {
            let path = dir.join(name);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(SetupError::Io { path, source }),
            }
        }
        Ok(())
    }

    /// Write the enrolment next to the store: whole or not at all, readable
    /// by the device's user only (it holds the token).
    pub fn save(&self, dir: &Path) -> Result<(), SetupError> {
        let path = dir.join(FILE);
        let tmp = dir.join(format!("{FILE}.tmp"));
        let io = |source| SetupError::Io { path: path.clone(), source };
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| SetupError::Damaged { path: path.clone(), source })?;
        std::fs::write(&tmp, bytes).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
        std::fs::rename(&tmp, &path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_enrolment_reads_back_and_a_damaged_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Setup::load(dir.path()).unwrap(), None);
        let setup = Setup {
            role: Role::Reception,
            device_name: "Front desk".into(),
            person: None,
            server: Some(Joined { url: "https://lodge.example:7878/".into(), device: DeviceId::new(), site: SiteId::new(), token: "t".into() }),
        };
        setup.save(dir.path()).unwrap();
        assert_eq!(Setup::load(dir.path()).unwrap(), Some(setup.clone()));
        assert_eq!(setup.server.unwrap().sync_url(), "wss://lodge.example:7878/sync");
        std::fs::write(dir.path().join(FILE), b"{\"role\":").unwrap();
        let e = Setup::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("damaged") && e.contains("move it away"), "{e}");
        Setup::remove(dir.path()).unwrap();
        assert_eq!(Setup::load(dir.path()).unwrap(), None);
        Setup::remove(dir.path()).unwrap();
    }

    #[test]
    fn a_plain_server_address_becomes_a_websocket_one() {
        let j = Joined { url: "http://127.0.0.1:7878".into(), device: DeviceId::new(), site: SiteId::new(), token: String::new() };
        assert_eq!(j.sync_url(), "ws://127.0.0.1:7878/sync");
    }
}
