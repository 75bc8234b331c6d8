//! Who may read and write which documents: the design's table, as pure
//! functions the server applies to every document it sends or accepts.

use crate::actor::Role;
use crate::document::DocKind;
use crate::ids::{DeviceId, PersonId};

/// What a device asks about a document.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    /// The device's role.
    pub role: Role,
    /// The device.
    pub device: DeviceId,
    /// The person whose phone it is, for staff and worker devices.
    pub person: Option<PersonId>,
    /// The document's kind.
    pub kind: DocKind,
    /// The document's owner from its header (`person:…`, `device:…`).
    pub owner: Option<&'a str>,
    /// For a visit: whether it still waits at the desk.
    pub visit_waiting: bool,
    /// For a key or an item: whether the device's person holds it now (a
    /// phone sees what it holds, read-only, while it holds it).
    pub held: bool,
    /// For an announcement: whether it is for everyone in the building (a
    /// kiosk, in the lobby, gets only those).
    pub public: bool,
    /// Whether the phone's person is a fire marshal (who takes part in
    /// roll calls).
    pub marshal: bool,
}

impl Access<'_> {
    fn owned_by_person(&self) -> bool {
        matches!((self.person, self.owner), (Some(p), Some(o)) if o == format!("person:{p}"))
    }

    fn owned_by_device(&self) -> bool {
        self.owner == Some(format!("device:{}", self.device).as_str())
    }

    /// For a person document: whether it is the device's own person. The
    /// header of a person document has no owner, so the id is compared by
    /// the caller and passed as `owner = person:<id>`.
    fn is_own_person(&self) -> bool {
        self.owned_by_person()
    }
}

/// Whether the device may receive the document.
pub fn may_read(a: &Access<'_>) -> bool {
    use DocKind::*;
    use Role::*;
    match (a.kind, a.role) {
        (_, Admin) => true,
        (Site | Directory, _) => true,
        (Person, Reception | KeyDesk) => true,
        (Person, Staff | Worker) => a.is_own_person(),
        // What "you still hold" lists: only while it is held.
        (Key | LoanBook | Equipment, Staff | Worker) if a.held => true,
        (Visit, Reception) => true,
        (Visit, Kiosk) => a.owned_by_device() && a.visit_waiting,
        (Presence, Reception) => true,
        (Presence, Staff | Worker) => a.owned_by_person(),
        (Key | LoanBook | LoanException, KeyDesk) => true,
        (Equipment, Reception | Worker) => true,
        // Every ticket, read-only but their own: whether an item is in the
        // workshop is what a worker checks before taking it.
        (Repair, Worker) => true,
        // One person's notice (owned by them: "your guest is here"): their
        // own phones only.
        (Announcement, _) if a.owner.is_some() => a.owned_by_person(),
        // Every device of the site; the lobby kiosk only what is for
        // everyone in the building (a fire alarm, not a staff meeting).
        (Announcement, Kiosk) => a.public,
        (Announcement, _) => true,
        (RollCall, Reception) => true,
        (RollCall, Staff | Worker) => a.marshal,
        _ => false,
    }
}

/// Whether the device may change the document (or create it).
pub fn may_write(a: &Access<'_>) -> bool {
    use DocKind::*;
    use Role::*;
    match (a.kind, a.role) {
        (_, Admin) => true,
        (Person, Staff | Worker) => a.is_own_person(),
        // A walk-in key customer, made at checkout; judged from the change
        // (`write_rules`): a new person with no role, nothing else.
        (Person, KeyDesk) => true,
        (Visit, Reception) => true,
        (Visit, Kiosk) => a.owned_by_device() && a.visit_waiting,
        (Presence, Reception) => true,
        (Presence, Staff | Worker) => a.owned_by_person(),
        (Key | LoanBook | LoanException, KeyDesk) => true,
        (Equipment, Worker) => true,
        (Repair, Worker) => a.owned_by_person(),
        // Every reader appends its own read; who may create one, and that
        // nothing else changes, is judged from the change (`write_rules`).
        (Announcement, _) if a.owner.is_some() => a.owned_by_person(),
        (Announcement, Kiosk) => a.public,
        (Announcement, _) => true,
        // What a marshal's phone may add is judged from the change.
        (RollCall, Reception) => true,
        (RollCall, Staff | Worker) => a.marshal,
        _ => false,
    }
}

/// Whether the device may delete the document for good (and so every
/// copy of it, everywhere): the admin anything; a reception desk a visit
/// that still waits (rejecting a guest's entry). Nobody else.
pub fn may_purge(a: &Access<'_>) -> bool {
    match (a.kind, a.role) {
        (_, Role::Admin) => true,
        (DocKind::Visit, Role::Reception) => a.visit_waiting,
        _ => false,
    }
}

/// Whether the device may record the deletion of a document of `kind`
/// that the server has not seen (one made and deleted while offline): the
/// roles that may delete such documents at all.
pub fn may_purge_unseen(role: Role, kind: DocKind) -> bool {
    matches!((role, kind), (Role::Admin, _) | (Role::Reception, DocKind::Visit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(role: Role, kind: DocKind, owner: Option<&str>) -> Access<'_> {
        Access { role, device: DeviceId::new(), person: None, kind, owner, visit_waiting: true, held: false, public: false, marshal: false }
    }

    #[test]
    fn a_worker_never_gets_visits_and_a_kiosk_only_its_own_waiting_ones() {
        assert!(!may_read(&access(Role::Worker, DocKind::Visit, None)));
        let device = DeviceId::new();
        let owner = format!("device:{device}");
        let mine = Access { device, ..access(Role::Kiosk, DocKind::Visit, Some(&owner)) };
        assert!(may_read(&mine));
        assert!(!may_read(&Access { visit_waiting: false, ..mine }));
        assert!(!may_read(&access(Role::Kiosk, DocKind::Visit, Some(&owner))), "another kiosk's visit");
        assert!(!may_read(&access(Role::Kiosk, DocKind::Person, None)));
    }

    #[test]
    fn phones_see_their_own_person_and_presence_only() {
        let p = PersonId::new();
        let owner = format!("person:{p}");
        let mine = Access { person: Some(p), ..access(Role::Staff, DocKind::Presence, Some(&owner)) };
        assert!(may_read(&mine) && may_write(&mine));
        let other = Access { person: Some(PersonId::new()), ..mine };
        assert!(!may_read(&other));
        assert!(!may_read(&access(Role::Staff, DocKind::Key, None)));
    }

    #[test]
    fn a_phone_sees_a_key_or_an_item_only_while_its_person_holds_it_and_never_writes_it() {
        for role in [Role::Staff, Role::Worker] {
            let held = Access { person: Some(PersonId::new()), held: true, ..access(role, DocKind::Key, None) };
            assert!(may_read(&held), "{role} holding a key");
            assert!(!may_write(&held), "{role} may not change a key it holds");
            assert!(!may_read(&Access { held: false, ..held }), "{role}, the key returned");
            assert!(may_read(&Access { kind: DocKind::Equipment, ..held }));
        }
        let staff = Access { held: false, ..access(Role::Staff, DocKind::Equipment, None) };
        assert!(!may_read(&staff), "a staff phone sees no item it does not hold");
        assert!(!may_write(&Access { held: true, ..staff }));
        // Holding is not a reason for a kiosk or a desk of another kind.
        assert!(!may_read(&Access { held: true, ..access(Role::Kiosk, DocKind::Key, None) }));
        assert!(!may_read(&Access { held: true, ..access(Role::Reception, DocKind::Key, None) }));
    }

    #[test]
    fn only_a_desk_deletes_a_waiting_visit_and_the_admin_anything() {
        let waiting = access(Role::Reception, DocKind::Visit, None);
        assert!(may_purge(&waiting));
        assert!(!may_purge(&Access { visit_waiting: false, ..waiting }), "an admitted guest is released, not deleted");
        for role in [Role::Kiosk, Role::Staff, Role::Worker, Role::KeyDesk] {
            for kind in DocKind::ALL {
                assert!(!may_purge(&access(role, kind, None)), "{role} may not delete {kind}");
                assert!(!may_purge_unseen(role, kind));
            }
        }
        assert!(may_purge(&access(Role::Admin, DocKind::Presence, None)));
        assert!(!may_purge_unseen(Role::Reception, DocKind::Presence));
    }

    #[test]
    fn the_table_for_shared_kinds() {
        for role in [Role::Kiosk, Role::Reception, Role::Staff, Role::Worker, Role::KeyDesk] {
            assert!(may_read(&access(role, DocKind::Site, None)));
            assert!(!may_write(&access(role, DocKind::Site, None)));
        }
        assert!(may_write(&access(Role::Admin, DocKind::Site, None)));
        assert!(may_write(&access(Role::KeyDesk, DocKind::Key, None)));
        assert!(!may_read(&access(Role::Reception, DocKind::Key, None)));
        assert!(may_read(&access(Role::Reception, DocKind::Equipment, None)));
        assert!(!may_write(&access(Role::Reception, DocKind::Equipment, None)));
    }

    #[test]
    fn a_roll_call_is_for_the_desk_the_admin_and_marshals_phones_only() {
        for role in [Role::Reception, Role::Admin] {
            assert!(may_read(&access(role, DocKind::RollCall, None)) && may_write(&access(role, DocKind::RollCall, None)), "{role}");
        }
        for role in [Role::Staff, Role::Worker] {
            let phone = Access { person: Some(PersonId::new()), ..access(role, DocKind::RollCall, None) };
            assert!(!may_read(&phone) && !may_write(&phone), "{role} who is no marshal");
            let marshal = Access { marshal: true, ..phone };
            assert!(may_read(&marshal) && may_write(&marshal), "{role} who is a marshal");
            assert!(!may_purge(&marshal));
        }
        for role in [Role::Kiosk, Role::KeyDesk] {
            let marshal = Access { marshal: true, ..access(role, DocKind::RollCall, None) };
            assert!(!may_read(&marshal) && !may_write(&marshal), "{role}");
        }
        // Being a marshal opens nothing else.
        let marshal = Access { marshal: true, person: Some(PersonId::new()), ..access(Role::Staff, DocKind::Visit, None) };
        assert!(!may_read(&marshal));
        assert!(!may_read(&Access { kind: DocKind::Presence, ..marshal }));
    }

    #[test]
    fn every_device_reads_announcements_and_the_kiosk_only_those_for_everyone() {
        for role in [Role::Reception, Role::Staff, Role::Worker, Role::KeyDesk, Role::Admin] {
            assert!(may_read(&access(role, DocKind::Announcement, None)), "{role}");
            assert!(may_write(&access(role, DocKind::Announcement, None)), "{role}");
            assert!(role == Role::Admin || !may_purge(&access(role, DocKind::Announcement, None)), "{role}");
        }
        let staff_only = access(Role::Kiosk, DocKind::Announcement, None);
        assert!(!may_read(&staff_only) && !may_write(&staff_only));
    }

    #[test]
    fn one_persons_notice_goes_to_their_phones_and_the_admin_only() {
        let anna = PersonId::new();
        let owner = format!("person:{anna}");
        let notice = |role, person| Access { person, public: true, ..access(role, DocKind::Announcement, Some(&owner)) };
        for role in [Role::Staff, Role::Worker] {
            assert!(may_read(&notice(role, Some(anna))) && may_write(&notice(role, Some(anna))), "{role} of the host");
            assert!(!may_read(&notice(role, Some(PersonId::new()))), "{role} of someone else");
            assert!(!may_write(&notice(role, Some(PersonId::new()))), "{role} of someone else");
        }
        for role in [Role::Kiosk, Role::Reception, Role::KeyDesk] {
            assert!(!may_read(&notice(role, None)) && !may_write(&notice(role, None)), "{role}");
        }
        assert!(may_read(&notice(Role::Admin, None)));
        let staff_only = access(Role::Kiosk, DocKind::Announcement, None);
        assert!(!may_read(&staff_only) && !may_write(&staff_only));
        let for_everyone = Access { public: true, ..staff_only };
        assert!(may_read(&for_everyone) && may_write(&for_everyone));
        assert!(!may_purge(&for_everyone));
    }
}
