//! Who is acting: every command takes an [`Actor`], names it in the change it
//! writes, and checks the actor's [`Role`] against what the command needs.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, PersonId};

/// What a device or a person is there to do. The role decides the screens and
/// which commands are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, autosurgeon::Reconcile, autosurgeon::Hydrate)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The lobby tablet guests use.
    Kiosk,
    /// The front desk.
    Reception,
    /// A staff member's phone.
    Staff,
    /// A field worker's phone.
    Worker,
    /// The key desk.
    KeyDesk,
    /// Site administration.
    Admin,
}

impl Role {
    /// The role's name as people read it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Kiosk => "guest kiosk",
            Role::Reception => "reception",
            Role::Staff => "staff",
            Role::Worker => "worker",
            Role::KeyDesk => "key desk",
            Role::Admin => "admin",
        }
    }

    /// The role from the name [`Role::label`] gives it.
    pub fn from_label(label: &str) -> Option<Self> {
        [Role::Kiosk, Role::Reception, Role::Staff, Role::Worker, Role::KeyDesk, Role::Admin].into_iter().find(|r| r.label() == label)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Who performs a command: a person, or a device nobody is signed in to (the
/// lobby kiosk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Actor {
    /// The acting person, when one is known.
    pub person: Option<PersonId>,
    /// The device the command runs on, when enrolled.
    pub device: Option<DeviceId>,
    /// The name shown in change history.
    pub name: String,
    /// What the actor may do.
    pub role: Role,
}

impl Actor {
    /// A person acting in a role.
    pub fn person(person: PersonId, name: impl Into<String>, role: Role) -> Self {
        Self { person: Some(person), device: None, name: name.into(), role }
    }

    /// A kiosk device, acting for whichever guest stands in front of it.
    pub fn kiosk(device: DeviceId) -> Self {
        Self { person: None, device: Some(device), name: "guest kiosk".into(), role: Role::Kiosk }
    }

    /// The first admin of a site being created on this device.
    pub fn site_founder(name: impl Into<String>) -> Self {
        Self { person: None, device: None, name: name.into(), role: Role::Admin }
    }

    /// Refuse unless the actor has one of `roles`.
    pub fn require(&self, roles: &[Role], action: &'static str) -> Result<(), Denied> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(Denied { role: self.role, action })
        }
    }

    /// Refuse unless the actor is `person` or has one of `roles`.
    pub fn require_self_or(
        &self,
        person: PersonId,
        roles: &[Role],
        action: &'static str,
    ) -> Result<(), Denied> {
        if self.person == Some(person) {
            Ok(())
        } else {
            self.require(roles, action)
        }
    }

    /// How the actor is named in a change message: name and stable id.
    pub fn tag(&self) -> String {
        match (&self.person, &self.device) {
            (Some(p), _) => format!("{} <person:{p}>", self.name),
            (None, Some(d)) => format!("{} <device:{d}>", self.name),
            (None, None) => format!("{} <{}>", self.name, self.role),
        }
    }

    /// The name in a [`tag`](Self::tag): what a screen shows of who did it.
    pub fn name_in_tag(tag: &str) -> &str {
        tag.rsplit_once(" <").map_or(tag, |(name, _)| name)
    }
}

/// A command the actor's role does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[error("A {role} device cannot {action}. Ask someone with the right role.")]
pub struct Denied {
    /// The actor's role.
    pub role: Role,
    /// What was attempted, in words.
    pub action: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kiosk_cannot_admit() {
        let kiosk = Actor::kiosk(DeviceId::new());
        let err = kiosk.require(&[Role::Reception, Role::Admin], "admit guests").unwrap_err();
        assert_eq!(err.to_string(), "A guest kiosk device cannot admit guests. Ask someone with the right role.");
    }

    #[test]
    fn a_person_may_act_for_themselves() {
        let p = PersonId::new();
        let staff = Actor::person(p, "Anna", Role::Staff);
        assert!(staff.require_self_or(p, &[Role::Reception], "sign in others").is_ok());
        assert!(staff.require_self_or(PersonId::new(), &[Role::Reception], "sign in others").is_err());
        assert!(staff.tag().starts_with("Anna <person:"));
    }
}
