//! API tokens: created by a user, acting with that user's permissions,
//! stored only as a hash, revocable.

use crate::auth::{NewToken, TOKEN_PREFIX, random_token, sha256};
use crate::permissions::{Action, Actor, Resource, Target, require};
use crate::{App, Page, Result};
use chrono::{DateTime, Utc};
use salesops_domain::{ApiTokenId, Invalid, Role, UserId, parse_name};
use salesops_store::{auth, now};

impl App {
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<NewToken> {
        require(actor, Resource::ApiToken, Action::Create, None)?;
        let mut errs = Invalid::default();
        let name = errs.check("name", parse_name(name, 100));
        let at = now();
        if expires_at.is_some_and(|e| e <= at) {
            errs.push("expires_at", "must be in the future");
        }
        errs.into_result()?;
        let secret = format!("{TOKEN_PREFIX}{}", random_token(32));
        let token = auth::ApiToken {
            org_id: actor.org_id,
            id: ApiTokenId::new(),
            user_id: actor.user_id,
            name: name.unwrap_or_default(),
            token_hash: sha256(&secret),
            prefix: secret[..TOKEN_PREFIX.len() + 6].to_string(),
            created_at: at,
            last_used_at: None,
            expires_at,
            revoked_at: None,
        };
        auth::insert_token(&mut self.conn(), &token).await?;
        Ok(NewToken { secret, token })
    }

    /// The caller's tokens; admins may list everybody's (`all`) or one user's.
    pub async fn list_tokens(
        &self,
        actor: &Actor,
        user: Option<UserId>,
        all: bool,
        cursor: Option<uuid::Uuid>,
        limit: u64,
    ) -> Result<Page<auth::ApiToken>> {
        let whose = match (actor.role, user, all) {
            (Role::Admin, _, true) => None,
            (Role::Admin, Some(u), _) => Some(u),
            _ => Some(actor.user_id),
        };
        require(actor, Resource::ApiToken, Action::Read, None)?;
        let rows =
            auth::list_tokens(&mut self.conn(), actor.org_id, whose, cursor, limit + 1).await?;
        Ok(Page::from_rows(rows, limit, |t| t.id.0))
    }

    pub async fn get_token(&self, actor: &Actor, id: ApiTokenId) -> Result<auth::ApiToken> {
        let t = auth::get_token(&mut self.conn(), actor.org_id, id).await?;
        require(
            actor,
            Resource::ApiToken,
            Action::Read,
            Some(&Target {
                owner: Some(t.user_id),
                teams: vec![],
            }),
        )?;
        Ok(t)
    }

    pub async fn revoke_token(&self, actor: &Actor, id: ApiTokenId) -> Result<auth::ApiToken> {
        let t = auth::get_token(&mut self.conn(), actor.org_id, id).await?;
        require(
            actor,
            Resource::ApiToken,
            Action::Delete,
            Some(&Target {
                owner: Some(t.user_id),
                teams: vec![],
            }),
        )?;
        Ok(auth::revoke_token(&mut self.conn(), actor.org_id, id, now()).await?)
    }
}
