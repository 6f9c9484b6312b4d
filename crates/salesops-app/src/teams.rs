//! Teams: segment, manager, parent team and members.

use crate::permissions::{Action, Actor, Resource, Target, require};
use crate::{App, AppError, Page, Result};
use salesops_domain::{Invalid, Role, Segment, TeamId, UserId, parse_name};
use salesops_store::{StoreError, bump_version, now, teams, users};

#[derive(Clone, Debug)]
pub struct TeamView {
    pub team: teams::Team,
    pub member_ids: Vec<UserId>,
}

#[derive(Clone, Debug, Default)]
pub struct NewTeam {
    pub name: String,
    pub segment: String,
    pub manager_id: Option<UserId>,
    pub parent_id: Option<TeamId>,
    pub member_ids: Vec<UserId>,
}

#[derive(Clone, Debug, Default)]
pub struct TeamUpdate {
    pub name: Option<String>,
    pub segment: Option<String>,
    pub manager_id: Option<Option<UserId>>,
    pub parent_id: Option<Option<TeamId>>,
    pub member_ids: Option<Vec<UserId>>,
}

fn team_target(id: TeamId) -> Target {
    Target {
        owner: None,
        teams: vec![id],
    }
}

impl App {
    async fn check_user(
        &self,
        actor: &Actor,
        field: &str,
        id: UserId,
        errs: &mut Invalid,
    ) -> Result<()> {
        match users::get(&mut self.conn(), actor.org_id, id).await {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound) => {
                errs.push(field, format!("unknown user {id}"));
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Rejects a parent that is the team itself or one of its descendants.
    async fn check_parent(
        &self,
        actor: &Actor,
        team: Option<TeamId>,
        parent: TeamId,
        errs: &mut Invalid,
    ) -> Result<()> {
        self.check_parent_in(&mut self.conn(), actor, team, parent, errs)
            .await
    }

    async fn check_parent_in(
        &self,
        c: &mut impl salesops_store::Conn,
        actor: &Actor,
        team: Option<TeamId>,
        parent: TeamId,
        errs: &mut Invalid,
    ) -> Result<()> {
        let mut cursor = Some(parent);
        let mut hops = 0;
        while let Some(p) = cursor {
            if Some(p) == team {
                errs.push("parent_id", "would make the team its own ancestor");
                return Ok(());
            }
            match teams::get(c, actor.org_id, p).await {
                Ok(t) => cursor = t.parent_id.map(TeamId),
                Err(StoreError::NotFound) => {
                    errs.push("parent_id", format!("unknown team {p}"));
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
            hops += 1;
            if hops > 64 {
                errs.push("parent_id", "team hierarchy is too deep");
                return Ok(());
            }
        }
        Ok(())
    }

    async fn team_views(&self, actor: &Actor, list: Vec<teams::Team>) -> Result<Vec<TeamView>> {
        if list.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<TeamId> = list.iter().map(|t| t.id).collect();
        let ms = teams::memberships(&mut self.conn(), actor.org_id, Some(&ids), None).await?;
        Ok(list
            .into_iter()
            .map(|t| {
                let member_ids = ms
                    .iter()
                    .filter(|(tid, _)| *tid == t.id)
                    .map(|(_, u)| *u)
                    .collect();
                TeamView {
                    team: t,
                    member_ids,
                }
            })
            .collect())
    }

    pub async fn create_team(&self, actor: &Actor, input: NewTeam) -> Result<TeamView> {
        require(actor, Resource::Team, Action::Create, None)?;
        let mut errs = Invalid::default();
        let name = errs.check("name", parse_name(&input.name, 100));
        let segment = errs.check("segment", input.segment.parse::<Segment>());
        if let Some(m) = input.manager_id {
            self.check_user(actor, "manager_id", m, &mut errs).await?;
        }
        if let Some(p) = input.parent_id {
            self.check_parent(actor, None, p, &mut errs).await?;
        }
        for m in &input.member_ids {
            self.check_user(actor, "member_ids", *m, &mut errs).await?;
        }
        errs.into_result()?;
        let (Some(name), Some(segment)) = (name, segment) else {
            unreachable!("parsed when no error was recorded")
        };
        let at = now();
        let team = teams::Team {
            org_id: actor.org_id,
            id: TeamId::new(),
            name,
            segment,
            manager_id: input.manager_id.map(|u| u.0),
            parent_id: input.parent_id.map(|t| t.0),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let mut tx = self.db.begin().await?;
        teams::insert(&mut tx, &team).await.map_err(name_taken)?;
        for m in &input.member_ids {
            teams::add_member(&mut tx, actor.org_id, team.id, *m).await?;
            bump_version(&mut tx, "users", actor.org_id, m.0, at).await?;
        }
        tx.commit().await?;
        let mut member_ids = input.member_ids;
        member_ids.sort();
        member_ids.dedup();
        Ok(TeamView { team, member_ids })
    }

    pub async fn get_team(&self, actor: &Actor, id: TeamId) -> Result<TeamView> {
        require(actor, Resource::Team, Action::Read, Some(&team_target(id)))?;
        let team = teams::get(&mut self.conn(), actor.org_id, id).await?;
        let member_ids = teams::members(&mut self.conn(), actor.org_id, id).await?;
        Ok(TeamView { team, member_ids })
    }

    pub async fn list_teams(
        &self,
        actor: &Actor,
        segment: Option<Segment>,
        cursor: Option<uuid::Uuid>,
        limit: u64,
    ) -> Result<Page<TeamView>> {
        require(actor, Resource::Team, Action::Read, None)?;
        let visible =
            (!matches!(actor.role, Role::Admin | Role::Ops | Role::Viewer)).then(|| actor.teams());
        let rows = teams::list(
            &mut self.conn(),
            actor.org_id,
            visible.as_deref(),
            segment,
            cursor,
            limit + 1,
        )
        .await?;
        let page = Page::from_rows(rows, limit, |t| t.id.0);
        let items = self.team_views(actor, page.items).await?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    pub async fn update_team(
        &self,
        actor: &Actor,
        id: TeamId,
        if_match: Option<i64>,
        up: TeamUpdate,
    ) -> Result<TeamView> {
        require(
            actor,
            Resource::Team,
            Action::Update,
            Some(&team_target(id)),
        )?;
        teams::get(&mut self.conn(), actor.org_id, id).await?;
        let mut errs = Invalid::default();
        let mut patch = teams::Patch::default();
        if let Some(n) = &up.name {
            patch.name = errs.check("name", parse_name(n, 100));
        }
        if let Some(s) = &up.segment {
            patch.segment = errs.check("segment", s.parse::<Segment>());
        }
        if let Some(m) = up.manager_id {
            if let Some(u) = m {
                self.check_user(actor, "manager_id", u, &mut errs).await?;
            }
            patch.manager_id = Some(m.map(|u| u.0));
        }
        if let Some(p) = up.parent_id {
            patch.parent_id = Some(p.map(|t| t.0));
        }
        if let Some(ms) = &up.member_ids {
            for m in ms {
                self.check_user(actor, "member_ids", *m, &mut errs).await?;
            }
        }
        let at = now();
        let mut tx = self.db.begin().await?;
        // The hierarchy is checked inside the transaction, against what it is now.
        if let Some(Some(p)) = up.parent_id {
            self.check_parent_in(&mut tx, actor, Some(id), p, &mut errs)
                .await?;
        }
        errs.into_result()?;
        let team = teams::update(&mut tx, actor.org_id, id, if_match, &patch, at)
            .await
            .map_err(name_taken)?;
        if let Some(ms) = &up.member_ids {
            let before = teams::members(&mut tx, actor.org_id, id).await?;
            for old in before.iter().filter(|u| !ms.contains(u)) {
                teams::remove_member(&mut tx, actor.org_id, id, *old).await?;
                bump_version(&mut tx, "users", actor.org_id, old.0, at).await?;
            }
            for new in ms.iter().filter(|u| !before.contains(u)) {
                teams::add_member(&mut tx, actor.org_id, id, *new).await?;
                bump_version(&mut tx, "users", actor.org_id, new.0, at).await?;
            }
        }
        tx.commit().await?;
        let member_ids = teams::members(&mut self.conn(), actor.org_id, id).await?;
        Ok(TeamView { team, member_ids })
    }

    /// Deletes a team that has no sub-teams; its memberships go with it.
    /// `if_match`: the version the caller read (412 when it changed since).
    pub async fn delete_team(
        &self,
        actor: &Actor,
        id: TeamId,
        if_match: Option<i64>,
    ) -> Result<()> {
        require(
            actor,
            Resource::Team,
            Action::Delete,
            Some(&team_target(id)),
        )?;
        let mut tx = self.db.begin().await?;
        let current = teams::get(&mut tx, actor.org_id, id).await?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(AppError::Stale);
        }
        if teams::child_count(&mut tx, actor.org_id, id).await? > 0 {
            return Err(AppError::Conflict(
                "the team has sub-teams; move or delete them first".into(),
            ));
        }
        teams::delete(&mut tx, actor.org_id, id).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn name_taken(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => {
            AppError::Invalid(Invalid::one("name", "is already used by another team"))
        }
        other => other.into(),
    }
}
