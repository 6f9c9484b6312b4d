//! Who may do what: one function of (role, team membership, record owner).

use salesops_domain::{OrgId, Role, TeamId, UserId};

/// The signed-in user a request acts for, with the teams that decide what
/// they see.
#[derive(Clone, Debug)]
pub struct Actor {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role: Role,
    pub name: String,
    pub email: String,
    pub locale: salesops_domain::Locale,
    /// The user's IANA time zone (dates and times are shown in it).
    pub time_zone: String,
    /// Teams the user is a member of.
    pub member_of: Vec<TeamId>,
    /// Teams the user manages.
    pub manages: Vec<TeamId>,
}

impl Actor {
    /// Member or manager of these teams.
    pub fn teams(&self) -> Vec<TeamId> {
        let mut v = self.member_of.clone();
        for t in &self.manages {
            if !v.contains(t) {
                v.push(*t);
            }
        }
        v
    }

    /// Does the role see everything in the organisation?
    /// The user's time zone (Europe/Berlin if the stored name is unknown).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::Europe::Berlin)
    }

    pub fn sees_all(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Ops)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    User,
    Team,
    ApiToken,
    /// Companies and contacts: records with an owner.
    Account,
    /// Leads: records with an owner, seen like accounts.
    Lead,
    /// Activities: owned by the user who did them, seen like accounts.
    Activity,
    /// Prospecting lists: shared with a team and assigned to reps (the
    /// target's owner is the actor when they are assigned to the list; its
    /// teams are the list's team and the teams of its reps).
    ProspectList,
    /// Prospects: seen with their list; worked by the rep they are assigned
    /// to (an unassigned one by any rep of the list).
    Prospect,
    /// Organisation settings: pipelines and stages, activity types and
    /// outcomes, sales scripts.
    Settings,
    /// Goals and quotas: for a user (the target's owner and their teams) or
    /// a team (the target's teams).
    Goal,
    /// Reports, KPIs and the forecast over a scope: the whole organisation
    /// (no target), a team (its teams) or a user (owner and their teams).
    Report,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    /// Change the privileged fields of a user: role, active, hire and leave dates, e-mail.
    Administer,
}

/// The record an action targets: whose it is and which teams it belongs to.
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// The owning user (the user itself for `Resource::User`).
    pub owner: Option<UserId>,
    /// Teams the record belongs to (the user's teams, or the team itself).
    pub teams: Vec<TeamId>,
}

/// The permission rule. `target` is `None` for actions on the collection
/// (list, create).
pub fn can(actor: &Actor, resource: Resource, action: Action, target: Option<&Target>) -> bool {
    use Action::*;
    use Resource::*;
    use Role::*;
    let own = target.is_some_and(|t| t.owner == Some(actor.user_id));
    let shares_team = target.is_some_and(|t| t.teams.iter().any(|x| actor.teams().contains(x)));
    let manages_team = target.is_some_and(|t| t.teams.iter().any(|x| actor.manages.contains(x)));
    match (resource, action) {
        // Users: admins manage everybody; everybody reads themselves and the
        // people of their own teams; ops and viewers read everybody (reports
        // are per person); everybody edits their own profile.
        (User, Read) => match actor.role {
            Admin | Ops | Viewer => true,
            Manager | Rep => target.is_none() || own || shares_team,
        },
        (User, Create | Delete | Administer) => actor.role == Admin,
        (User, Update) => actor.role == Admin || own,
        // Teams: admins and ops shape the organisation; the others read the
        // teams they belong to (viewers read all, for report filters).
        (Team, Read) => match actor.role {
            Admin | Ops | Viewer => true,
            Manager | Rep => target.is_none() || shares_team,
        },
        (Team, Create | Delete | Administer) => matches!(actor.role, Admin | Ops),
        (Team, Update) => matches!(actor.role, Admin | Ops),
        // API tokens act with their user's permissions: everybody manages
        // their own; admins see and revoke everybody's.
        (ApiToken, Read | Delete) => actor.role == Admin || target.is_none() || own,
        (ApiToken, Create) => true,
        (ApiToken, Update | Administer) => actor.role == Admin || own,
        // Accounts (companies, contacts): ops and admins see all; managers and
        // reps see their own, their teams' and unowned ones; viewers read
        // reports only. Owners and their managers edit; reps may take an
        // unowned record; only ops, admins and managers hand records to others.
        (Account | Lead | Activity, Read) => match actor.role {
            Admin | Ops => true,
            Manager | Rep => target.is_none_or(|t| t.owner.is_none()) || own || shares_team,
            Viewer => false,
        },
        (Account | Lead | Activity, Create) => actor.role != Viewer,
        (Account | Lead | Activity, Update) => match actor.role {
            Admin | Ops => true,
            Manager => target.is_none_or(|t| t.owner.is_none()) || own || shares_team,
            Rep => target.is_none_or(|t| t.owner.is_none()) || own,
            Viewer => false,
        },
        (Account | Lead | Activity, Delete) => matches!(actor.role, Admin | Ops) || own,
        (Account | Lead | Activity, Administer) => matches!(actor.role, Admin | Ops | Manager),
        // Prospecting lists: ops and admins run all of them; managers those
        // of their teams; reps read the lists shared with their team or
        // assigned to them. Viewers read reports only.
        (ProspectList | Prospect, Read) => match actor.role {
            Admin | Ops => true,
            Manager | Rep => target.is_none() || own || shares_team,
            Viewer => false,
        },
        (ProspectList, Create) => matches!(actor.role, Admin | Ops | Manager),
        (ProspectList, Update | Delete | Administer) => match actor.role {
            Admin | Ops => true,
            Manager => target.is_none() || shares_team,
            Rep | Viewer => false,
        },
        (Prospect, Create | Delete | Administer) => match actor.role {
            Admin | Ops => true,
            Manager => target.is_none() || shares_team,
            Rep | Viewer => false,
        },
        (Prospect, Update) => match actor.role {
            Admin | Ops => true,
            Manager => own || shares_team,
            Rep => own,
            Viewer => false,
        },
        // Settings are read by everybody (boards, forms, report filters) and
        // shaped by ops and admins.
        (Settings, Read) => true,
        (Settings, Create | Update | Delete | Administer) => matches!(actor.role, Admin | Ops),
        // Goals: everybody reads their own and their teams' goals (viewers
        // and ops all of them); ops and admins set any goal, managers those
        // of the teams they manage and of the people in them.
        (Goal, Read) => match actor.role {
            Admin | Ops | Viewer => true,
            Manager | Rep => target.is_none() || own || shares_team,
        },
        (Goal, Create | Update | Delete | Administer) => match actor.role {
            Admin | Ops => true,
            Manager => target.is_none() || manages_team,
            Rep | Viewer => false,
        },
        // Reports: the whole organisation for ops, admins and viewers;
        // managers and reps their own figures and their teams'.
        (Report, Read) => match actor.role {
            Admin | Ops | Viewer => true,
            Manager | Rep => target.is_some_and(|_| own || shares_team),
        },
        (Report, Create | Update | Delete | Administer) => false,
    }
}

/// `Ok` when allowed; otherwise `NotFound` for a record the actor may not
/// even read (its existence is not revealed), else `Forbidden`.
pub fn require(
    actor: &Actor,
    resource: Resource,
    action: Action,
    target: Option<&Target>,
) -> crate::Result<()> {
    if can(actor, resource, action, target) {
        Ok(())
    } else if target.is_some() && !can(actor, resource, Action::Read, target) {
        Err(crate::AppError::NotFound)
    } else {
        Err(crate::AppError::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor {
            org_id: OrgId::new(),
            user_id: UserId::new(),
            role,
            name: "A".into(),
            email: "a@example.de".into(),
            locale: salesops_domain::Locale::En,
            time_zone: "Europe/Berlin".into(),
            member_of: vec![TeamId(uuid::Uuid::from_u128(1))],
            manages: vec![],
        }
    }

    #[test]
    fn rule_table() {
        let team = TeamId(uuid::Uuid::from_u128(1));
        let other_team = TeamId(uuid::Uuid::from_u128(2));
        let colleague = Target {
            owner: Some(UserId::new()),
            teams: vec![team],
        };
        let stranger = Target {
            owner: Some(UserId::new()),
            teams: vec![other_team],
        };
        // (role, can read colleague, can read stranger, can create user, can edit team)
        let table = [
            (Role::Admin, true, true, true, true),
            (Role::Ops, true, true, false, true),
            (Role::Manager, true, false, false, false),
            (Role::Rep, true, false, false, false),
            (Role::Viewer, true, true, false, false),
        ];
        for (role, colleague_ok, stranger_ok, create_user, edit_team) in table {
            let a = actor(role);
            assert_eq!(
                can(&a, Resource::User, Action::Read, Some(&colleague)),
                colleague_ok,
                "{role}"
            );
            assert_eq!(
                can(&a, Resource::User, Action::Read, Some(&stranger)),
                stranger_ok,
                "{role}"
            );
            assert_eq!(
                can(&a, Resource::User, Action::Create, None),
                create_user,
                "{role}"
            );
            assert_eq!(
                can(
                    &a,
                    Resource::Team,
                    Action::Update,
                    Some(&Target {
                        owner: None,
                        teams: vec![team]
                    })
                ),
                edit_team,
                "{role}"
            );
            let me = Target {
                owner: Some(a.user_id),
                teams: vec![],
            };
            assert!(
                can(&a, Resource::User, Action::Update, Some(&me)),
                "everybody edits their own profile"
            );
            assert_eq!(
                can(&a, Resource::User, Action::Administer, Some(&me)),
                role == Role::Admin,
                "only admins change roles"
            );
            assert!(can(&a, Resource::ApiToken, Action::Delete, Some(&me)));
            let unowned = Target {
                owner: None,
                teams: vec![],
            };
            assert_eq!(
                can(&a, Resource::Account, Action::Read, Some(&unowned)),
                role != Role::Viewer,
                "{role}"
            );
            assert_eq!(
                can(&a, Resource::Account, Action::Read, Some(&stranger)),
                matches!(role, Role::Admin | Role::Ops),
                "{role}"
            );
            assert_eq!(
                can(&a, Resource::Account, Action::Update, Some(&colleague)),
                matches!(role, Role::Admin | Role::Ops | Role::Manager),
                "{role}: a teammate's account"
            );
            assert_eq!(
                can(&a, Resource::ApiToken, Action::Delete, Some(&stranger)),
                role == Role::Admin
            );
        }
    }

    #[test]
    fn hidden_records_are_not_found_rather_than_forbidden() {
        let a = actor(Role::Rep);
        let stranger = Target {
            owner: Some(UserId::new()),
            teams: vec![TeamId::new()],
        };
        assert!(matches!(
            require(&a, Resource::User, Action::Update, Some(&stranger)),
            Err(crate::AppError::NotFound)
        ));
        let colleague = Target {
            owner: Some(UserId::new()),
            teams: a.member_of.clone(),
        };
        assert!(matches!(
            require(&a, Resource::User, Action::Update, Some(&colleague)),
            Err(crate::AppError::Forbidden)
        ));
    }
}
