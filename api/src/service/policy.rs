//! Who may do what, in one place. Every service call that reads or changes protected data asks
//! `can(actor, action, resource)`; routes never decide on their own.
//!
//! Officials act inside their own area: a county official over the whole county, a township
//! official over the township and its villages, a village cadre over the village. Admins act
//! everywhere, except that they take no step of the exit procedure (see
//! `service::exit::cases`). Farmers act on their own household's things only.

use entities::user::Role;

use crate::domain::AreaCode;

/// The signed-in person a request acts for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    /// Officials only.
    pub area: Option<AreaCode>,
    /// Farmers bound to a household only.
    pub household_id: Option<i64>,
}

/// Who takes a step of a procedure (an exit, a monitoring identification or elimination): an
/// official, or a villager objecting on the public notice board.
#[derive(Clone, Copy, Debug)]
pub enum StepBy<'a> {
    Official(&'a Actor),
    /// A villager whose phone was confirmed by a texted code (here masked, as the audit keeps
    /// it); only `object` is theirs.
    Villager {
        phone_masked: &'a str,
    },
}

/// The longest reason a step of a procedure takes, in characters.
const STEP_REASON_MAX: usize = 500;

/// A step's reason as kept: trimmed, and none when nothing is left; a longer one than
/// [`STEP_REASON_MAX`] is refused.
pub fn step_reason(
    reason: Option<String>,
) -> Result<Option<String>, crate::service::reasons::Reason> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > STEP_REASON_MAX)
    {
        return Err(crate::service::reasons::step_reason_length(STEP_REASON_MAX));
    }
    Ok(reason)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    /// See personal data (full ID numbers) in clear.
    Reveal,
}

/// What an action is aimed at, with the facts the decision needs.
#[derive(Clone, Debug)]
pub enum Resource<'a> {
    /// A user account: the role it has (or will have) and its area.
    UserAccount {
        user_id: Option<i64>,
        role: Role,
        area: Option<&'a AreaCode>,
    },
    /// The audit log of an area.
    AuditLog { area: &'a AreaCode },
    /// A registered household in a village (`household_id` is `None` for one being created).
    Household {
        household_id: Option<i64>,
        area: &'a AreaCode,
    },
}

impl Actor {
    pub fn is_official(&self) -> bool {
        is_official_role(self.role)
    }

    /// Whether `area` is the actor's own area or lies below it.
    pub fn governs(&self, area: &AreaCode) -> bool {
        match (&self.area, self.role) {
            (_, Role::Admin) => true,
            (Some(own), role) if is_official_role(role) => own == area || own.contains(area),
            _ => false,
        }
    }
}

pub fn is_official_role(role: Role) -> bool {
    matches!(
        role,
        Role::VillageCadre | Role::TownshipOfficial | Role::CountyOfficial
    )
}

/// The rank of a role among officials, for "may manage only those below".
fn official_rank(role: Role) -> u8 {
    match role {
        Role::VillageCadre => 1,
        Role::TownshipOfficial => 2,
        Role::CountyOfficial => 3,
        Role::Admin => 4,
        Role::Farmer | Role::Buyer => 0,
    }
}

pub fn can(actor: &Actor, action: Action, resource: &Resource<'_>) -> bool {
    match resource {
        Resource::UserAccount {
            user_id,
            role,
            area,
        } => {
            if *user_id == Some(actor.user_id) && action == Action::Read {
                return true;
            }
            if actor.role == Role::Admin {
                return true;
            }
            // Officials manage officials of lower rank inside their own area, and read any
            // account inside it.
            let inside = area.is_some_and(|a| actor.governs(a));
            match action {
                Action::Read => actor.is_official() && inside,
                // Accounts hold no personal data beyond what their readers see.
                Action::Reveal => false,
                Action::Create | Action::Update => {
                    actor.is_official()
                        && inside
                        && is_official_role(*role)
                        && official_rank(*role) < official_rank(actor.role)
                }
            }
        }
        Resource::AuditLog { area } => action == Action::Read && actor.governs(area),
        Resource::Household { household_id, area } => {
            // A farmer reads their own household; officials of the area keep the registry.
            let own = household_id.is_some() && *household_id == actor.household_id;
            match action {
                Action::Read => actor.governs(area) || (actor.role == Role::Farmer && own),
                Action::Create | Action::Update | Action::Reveal => {
                    (actor.is_official() && actor.governs(area)) || actor.role == Role::Admin
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, area: Option<&str>) -> Actor {
        Actor {
            user_id: 1,
            role,
            area: area.map(|a| AreaCode::parse(a).unwrap()),
            household_id: None,
        }
    }

    fn code(s: &str) -> AreaCode {
        AreaCode::parse(s).unwrap()
    }

    #[test]
    fn officials_govern_their_area_and_what_lies_below_only() {
        let township = actor(Role::TownshipOfficial, Some("500235101"));
        assert!(township.governs(&code("500235101")));
        assert!(township.governs(&code("500235101201")));
        assert!(!township.governs(&code("500235102201")));
        assert!(!township.governs(&code("500235")));
        let farmer = actor(Role::Farmer, None);
        assert!(!farmer.governs(&code("500235")));
        assert!(actor(Role::Admin, None).governs(&code("110101")));
    }

    #[test]
    fn officials_invite_only_lower_ranks_inside_their_area() {
        let county = actor(Role::CountyOfficial, Some("500235"));
        let county_area = code("500235");
        let village = code("500235101201");
        let other_county = code("500236101201");
        let invite = |role, area| Resource::UserAccount {
            user_id: None,
            role,
            area: Some(area),
        };
        assert!(can(
            &county,
            Action::Create,
            &invite(Role::VillageCadre, &village)
        ));
        assert!(!can(
            &county,
            Action::Create,
            &invite(Role::VillageCadre, &other_county)
        ));
        assert!(!can(
            &county,
            Action::Create,
            &invite(Role::CountyOfficial, &county_area)
        ));
        assert!(!can(
            &county,
            Action::Create,
            &invite(Role::Admin, &village)
        ));

        let cadre = actor(Role::VillageCadre, Some("500235101201"));
        assert!(!can(
            &cadre,
            Action::Create,
            &invite(Role::VillageCadre, &village)
        ));
        let farmer = actor(Role::Farmer, None);
        assert!(!can(
            &farmer,
            Action::Create,
            &invite(Role::VillageCadre, &village)
        ));
    }

    /// Every role against every kind of resource, inside and outside the actor's area.
    #[test]
    fn the_role_and_area_matrix() {
        let inside = code("500235101201");
        let outside = code("500235102201");
        let cases = [
            // (role, own area, may read the audit log inside, may invite a cadre inside)
            (Role::Admin, None, true, true),
            (Role::CountyOfficial, Some("500235"), true, true),
            (Role::TownshipOfficial, Some("500235101"), true, true),
            (Role::VillageCadre, Some("500235101201"), true, false),
            (Role::Farmer, None, false, false),
            (Role::Buyer, None, false, false),
        ];
        for (role, area, reads_inside, invites_inside) in cases {
            let actor = actor(role, area);
            let log = |area| Resource::AuditLog { area };
            let cadre = |area| Resource::UserAccount {
                user_id: Some(99),
                role: Role::VillageCadre,
                area: Some(area),
            };
            assert_eq!(
                can(&actor, Action::Read, &log(&inside)),
                reads_inside,
                "{role:?}"
            );
            assert_eq!(
                can(&actor, Action::Read, &cadre(&inside)),
                reads_inside,
                "{role:?}"
            );
            assert_eq!(
                can(&actor, Action::Update, &cadre(&inside)),
                invites_inside,
                "{role:?}"
            );
            // Outside one's area nothing is allowed, except to an admin or the whole county.
            let county_wide = matches!(role, Role::Admin | Role::CountyOfficial);
            assert_eq!(
                can(&actor, Action::Read, &log(&outside)),
                county_wide,
                "{role:?}"
            );
            assert_eq!(
                can(&actor, Action::Update, &cadre(&outside)),
                county_wide,
                "{role:?}"
            );
        }
        // Everyone may read their own account, whatever their role.
        let farmer = actor(Role::Farmer, None);
        let own = Resource::UserAccount {
            user_id: Some(farmer.user_id),
            role: Role::Farmer,
            area: None,
        };
        assert!(can(&farmer, Action::Read, &own));
        assert!(!can(&farmer, Action::Update, &own));
    }

    /// Every role against a household inside and outside its area, and one farmer against
    /// another farmer's household.
    #[test]
    fn the_household_matrix() {
        let inside = code("500235101201");
        let outside = code("500235102201");
        let household = |id, area| Resource::Household {
            household_id: Some(id),
            area,
        };
        let cases = [
            // (role, own area, reads inside, changes and reveals inside)
            (Role::Admin, None, true, true),
            (Role::CountyOfficial, Some("500235"), true, true),
            (Role::TownshipOfficial, Some("500235101"), true, true),
            (Role::VillageCadre, Some("500235101201"), true, true),
            (Role::Farmer, None, false, false),
            (Role::Buyer, None, false, false),
        ];
        for (role, area, reads, changes) in cases {
            let actor = actor(role, area);
            assert_eq!(
                can(&actor, Action::Read, &household(5, &inside)),
                reads,
                "{role:?}"
            );
            for action in [Action::Create, Action::Update, Action::Reveal] {
                assert_eq!(
                    can(&actor, action, &household(5, &inside)),
                    changes,
                    "{role:?} {action:?}"
                );
            }
            let county_wide = matches!(role, Role::Admin | Role::CountyOfficial);
            for action in [Action::Read, Action::Update, Action::Reveal] {
                assert_eq!(
                    can(&actor, action, &household(5, &outside)),
                    county_wide,
                    "{role:?} {action:?} outside"
                );
            }
        }
        // A farmer reads their own household, never changes or reveals it, and never sees
        // another farmer's, whatever id they guess.
        let farmer = Actor {
            household_id: Some(5),
            ..actor(Role::Farmer, None)
        };
        assert!(can(&farmer, Action::Read, &household(5, &inside)));
        for action in [Action::Update, Action::Reveal, Action::Create] {
            assert!(!can(&farmer, action, &household(5, &inside)), "{action:?}");
        }
        for guess in [4, 6, 500] {
            assert!(!can(&farmer, Action::Read, &household(guess, &inside)));
        }
        let unbound = actor(Role::Farmer, None);
        assert!(!can(
            &unbound,
            Action::Read,
            &Resource::Household {
                household_id: None,
                area: &inside
            }
        ));
    }

    #[test]
    fn audit_logs_are_read_by_officials_of_the_area_and_admins() {
        let township = actor(Role::TownshipOfficial, Some("500235101"));
        let mine = code("500235101201");
        let theirs = code("500235102000");
        assert!(can(
            &township,
            Action::Read,
            &Resource::AuditLog { area: &mine }
        ));
        assert!(!can(
            &township,
            Action::Read,
            &Resource::AuditLog { area: &theirs }
        ));
        assert!(!can(
            &actor(Role::Buyer, None),
            Action::Read,
            &Resource::AuditLog { area: &mine }
        ));
    }
}
