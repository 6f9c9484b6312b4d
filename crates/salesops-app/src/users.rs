//! Users: the people of the organisation, their roles and profiles.

use crate::auth::{hash_password, password_matches};
use crate::permissions::{Action, Actor, Resource, Target, require};
use crate::{App, AppError, Page, Result};
use chrono::NaiveDate;
use salesops_domain::{
    Email, Invalid, Locale, Role, TeamId, UserId, check_employment, check_new_password, parse_name,
    parse_time_zone,
};
use salesops_store::{StoreError, auth, bump_version, now, teams, users};

/// A user with the teams they belong to.
#[derive(Clone, Debug)]
pub struct UserView {
    pub user: users::User,
    pub team_ids: Vec<TeamId>,
}

#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub hire_date: Option<NaiveDate>,
    pub leave_date: Option<NaiveDate>,
    pub team_ids: Vec<TeamId>,
}

/// Changes to a user; `None` leaves the field unchanged.
#[derive(Clone, Debug, Default)]
pub struct UserUpdate {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub hire_date: Option<Option<NaiveDate>>,
    pub leave_date: Option<Option<NaiveDate>>,
    pub active: Option<bool>,
    pub team_ids: Option<Vec<TeamId>>,
    /// A new password; changing one's own needs the current one.
    pub password: Option<String>,
    pub current_password: Option<String>,
}

impl App {
    async fn user_target(&self, actor: &Actor, id: UserId) -> Result<(users::User, Target)> {
        let u = users::get(&mut self.conn(), actor.org_id, id).await?;
        let teams = teams::of_user(&mut self.conn(), actor.org_id, id).await?;
        Ok((
            u,
            Target {
                owner: Some(id),
                teams,
            },
        ))
    }

    async fn views(&self, actor: &Actor, list: Vec<users::User>) -> Result<Vec<UserView>> {
        if list.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<UserId> = list.iter().map(|u| u.id).collect();
        let ms = teams::memberships(&mut self.conn(), actor.org_id, None, Some(&ids)).await?;
        Ok(list
            .into_iter()
            .map(|u| {
                let team_ids = ms
                    .iter()
                    .filter(|(_, uid)| *uid == u.id)
                    .map(|(t, _)| *t)
                    .collect();
                UserView { user: u, team_ids }
            })
            .collect())
    }

    async fn check_teams_exist(
        &self,
        actor: &Actor,
        ids: &[TeamId],
        errs: &mut Invalid,
    ) -> Result<()> {
        for t in ids {
            match teams::get(&mut self.conn(), actor.org_id, *t).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => errs.push("team_ids", format!("unknown team {t}")),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    pub async fn create_user(&self, actor: &Actor, input: NewUser) -> Result<UserView> {
        require(actor, Resource::User, Action::Create, None)?;
        let org = self.org(actor.org_id).await?;
        let mut errs = Invalid::default();
        let email = errs.check("email", Email::parse(&input.email));
        let name = errs.check("name", parse_name(&input.name, 200));
        let role = errs.check("role", input.role.parse::<Role>());
        errs.check("password", check_new_password(&input.password));
        let locale = match &input.locale {
            Some(l) => errs.check("locale", l.parse::<Locale>()),
            None => Some(org.default_locale),
        };
        let tz = match &input.time_zone {
            Some(z) => errs
                .check("time_zone", parse_time_zone(z))
                .map(|t| t.name().to_string()),
            None => Some(org.time_zone.clone()),
        };
        errs.check(
            "leave_date",
            check_employment(input.hire_date, input.leave_date),
        );
        self.check_teams_exist(actor, &input.team_ids, &mut errs)
            .await?;
        if let Some(e) = &email
            && users::by_email(&mut self.conn(), actor.org_id, e.as_str())
                .await?
                .is_some()
        {
            errs.push("email", "is already used by another user");
        }
        errs.into_result()?;
        let (Some(email), Some(name), Some(role), Some(locale), Some(tz)) =
            (email, name, role, locale, tz)
        else {
            unreachable!("every field parsed when no error was recorded")
        };
        let at = now();
        let user = users::User {
            org_id: actor.org_id,
            id: UserId::new(),
            email: email.to_string(),
            name,
            password_hash: hash_password(&input.password).await?,
            role,
            locale,
            time_zone: tz,
            hire_date: input.hire_date,
            leave_date: input.leave_date,
            active: true,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let mut tx = self.db.begin().await?;
        users::insert(&mut tx, &user).await.map_err(email_taken)?;
        for t in &input.team_ids {
            teams::add_member(&mut tx, actor.org_id, *t, user.id).await?;
            bump_version(&mut tx, "teams", actor.org_id, t.0, at).await?;
        }
        tx.commit().await?;
        let mut team_ids = input.team_ids.clone();
        team_ids.sort();
        team_ids.dedup();
        Ok(UserView { user, team_ids })
    }

    pub async fn get_user(&self, actor: &Actor, id: UserId) -> Result<UserView> {
        let (u, target) = self.user_target(actor, id).await?;
        require(actor, Resource::User, Action::Read, Some(&target))?;
        Ok(UserView {
            user: u,
            team_ids: target.teams,
        })
    }

    pub async fn list_users(
        &self,
        actor: &Actor,
        mut filter: users::Filter,
        cursor: Option<uuid::Uuid>,
        limit: u64,
    ) -> Result<Page<UserView>> {
        require(actor, Resource::User, Action::Read, None)?;
        if !matches!(actor.role, Role::Admin | Role::Ops | Role::Viewer) {
            filter.visible = Some((actor.user_id, actor.teams()));
        }
        let rows = users::list(&mut self.conn(), actor.org_id, &filter, cursor, limit + 1).await?;
        let page = Page::from_rows(rows, limit, |u| u.id.0);
        let items = self.views(actor, page.items).await?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// Updates a user. `if_match`: the version the caller read (412 when stale).
    /// A password change ends every session of that user.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: UserId,
        if_match: Option<i64>,
        up: UserUpdate,
    ) -> Result<UserView> {
        let (current, target) = self.user_target(actor, id).await?;
        require(actor, Resource::User, Action::Update, Some(&target))?;
        let privileged = up.email.is_some()
            || up.role.is_some()
            || up.hire_date.is_some()
            || up.leave_date.is_some()
            || up.active.is_some()
            || up.team_ids.is_some();
        if privileged {
            require(actor, Resource::User, Action::Administer, Some(&target))?;
        }
        let is_self = actor.user_id == id;
        let mut errs = Invalid::default();
        let mut patch = users::Patch::default();
        if let Some(e) = &up.email {
            patch.email = errs.check("email", Email::parse(e)).map(|e| e.to_string());
            if let Some(e) = &patch.email
                && e != &current.email
                && users::by_email(&mut self.conn(), actor.org_id, e)
                    .await?
                    .is_some()
            {
                errs.push("email", "is already used by another user");
            }
        }
        if let Some(n) = &up.name {
            patch.name = errs.check("name", parse_name(n, 200));
        }
        if let Some(r) = &up.role {
            patch.role = errs.check("role", r.parse::<Role>());
            if is_self && patch.role.is_some_and(|r| r != current.role) {
                errs.push("role", "you cannot change your own role");
            }
        }
        if let Some(l) = &up.locale {
            patch.locale = errs.check("locale", l.parse::<Locale>());
        }
        if let Some(z) = &up.time_zone {
            patch.time_zone = errs
                .check("time_zone", parse_time_zone(z))
                .map(|t| t.name().to_string());
        }
        patch.hire_date = up.hire_date;
        patch.leave_date = up.leave_date;
        let hire = up.hire_date.unwrap_or(current.hire_date);
        let leave = up.leave_date.unwrap_or(current.leave_date);
        errs.check("leave_date", check_employment(hire, leave));
        if let Some(a) = up.active {
            if is_self && !a {
                errs.push("active", "you cannot deactivate yourself");
            }
            patch.active = Some(a);
        }
        if let Some(t) = &up.team_ids {
            self.check_teams_exist(actor, t, &mut errs).await?;
        }
        if let Some(pw) = &up.password {
            errs.check("password", check_new_password(pw));
            if is_self {
                let ok = match &up.current_password {
                    Some(c) => password_matches(c, &current.password_hash).await,
                    None => false,
                };
                if !ok {
                    errs.push("current_password", "is not your current password");
                }
            }
        }
        errs.into_result()?;
        if let Some(pw) = &up.password {
            patch.password_hash = Some(hash_password(pw).await?);
        }
        if patch.name.is_some() || patch.email.is_some() {
            let name = patch.name.as_deref().unwrap_or(&current.name);
            let email = patch.email.as_deref().unwrap_or(&current.email);
            patch.search_text = Some(salesops_store::search_text(&[name, email]));
        }
        let at = now();
        let mut tx = self.db.begin().await?;
        let user = users::update(&mut tx, actor.org_id, id, if_match, &patch, at)
            .await
            .map_err(email_taken)?;
        if let Some(t) = &up.team_ids {
            // Memberships as they are now, inside the transaction; every team
            // whose members change gets a new version too.
            let before = teams::of_user(&mut tx, actor.org_id, id).await?;
            for old in before.iter().filter(|old| !t.contains(old)) {
                teams::remove_member(&mut tx, actor.org_id, *old, id).await?;
                bump_version(&mut tx, "teams", actor.org_id, old.0, at).await?;
            }
            for new in t.iter().filter(|new| !before.contains(new)) {
                teams::add_member(&mut tx, actor.org_id, *new, id).await?;
                bump_version(&mut tx, "teams", actor.org_id, new.0, at).await?;
            }
        }
        if patch.password_hash.is_some() || patch.active == Some(false) {
            auth::delete_user_sessions(&mut tx, actor.org_id, id).await?;
        }
        if patch.active == Some(false) {
            auth::revoke_user_tokens(&mut tx, actor.org_id, id, at).await?;
        }
        tx.commit().await?;
        let team_ids = teams::of_user(&mut self.conn(), actor.org_id, id).await?;
        Ok(UserView { user, team_ids })
    }

    /// Users are never deleted (their history stays): this deactivates the
    /// account, sets the leave date to today when none is set, ends its
    /// sessions and revokes its API tokens.
    pub async fn deactivate_user(
        &self,
        actor: &Actor,
        id: UserId,
        if_match: Option<i64>,
    ) -> Result<UserView> {
        let (current, target) = self.user_target(actor, id).await?;
        require(actor, Resource::User, Action::Delete, Some(&target))?;
        if actor.user_id == id {
            return Err(AppError::Conflict("you cannot deactivate yourself".into()));
        }
        let today = now().date_naive();
        let up = UserUpdate {
            active: Some(false),
            leave_date: current
                .leave_date
                .is_none()
                .then_some(Some(today.max(current.hire_date.unwrap_or(today)))),
            ..Default::default()
        };
        self.update_user(actor, id, if_match, up).await
    }
}

fn email_taken(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => {
            AppError::Invalid(Invalid::one("email", "is already used by another user"))
        }
        other => other.into(),
    }
}

/// Creates the first administrator of an organisation (no actor exists yet).
pub async fn bootstrap_admin(
    app: &App,
    org: salesops_domain::OrgId,
    email: &str,
    name: &str,
    password: &str,
) -> Result<UserId> {
    let v = add_user_cli(app, org, email, name, "admin", password).await?;
    Ok(v.user.id)
}

/// `salesops user add`: the operator of the machine acts as the system, so
/// this creates any user, the first admin included.
pub async fn add_user_cli(
    app: &App,
    org: salesops_domain::OrgId,
    email: &str,
    name: &str,
    role: &str,
    password: &str,
) -> Result<UserView> {
    let system = Actor {
        org_id: org,
        user_id: UserId(uuid::Uuid::nil()),
        role: Role::Admin,
        name: "system".into(),
        email: String::new(),
        locale: Locale::En,
        time_zone: "UTC".into(),
        member_of: vec![],
        manages: vec![],
    };
    app.create_user(
        &system,
        NewUser {
            email: email.to_string(),
            name: name.to_string(),
            role: role.to_string(),
            password: password.to_string(),
            ..Default::default()
        },
    )
    .await
}
