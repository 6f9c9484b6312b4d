//! Companies (accounts) and their contacts.

use crate::fields::text;
use crate::permissions::{Action, Actor, Resource, Target, require};
use crate::{App, AppError, Page, Result};
use salesops_domain::{
    CompanyId, ContactId, Email, Invalid, Money, MoneyJson, Role, UserId, parse_name,
};
use salesops_store::crm::{self, Company, Contact, Filter};
use salesops_store::{StoreError, now, teams, users};
use sea_query::SimpleExpr;
use uuid::Uuid;

/// Owner checks already made, by owner (see `App::check_owner_once`).
#[derive(Default)]
pub(crate) struct OwnerChecks(std::collections::HashMap<Option<UserId>, Invalid>);

pub const SIZE_BANDS: [&str; 6] = ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"];

/// Company fields as typed; `None` leaves a field unchanged on update, and
/// `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct CompanyInput {
    pub name: Option<String>,
    pub industry: Option<Option<String>>,
    pub size_band: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub postcode: Option<Option<String>>,
    pub city: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub problems: Option<Option<String>>,
    pub value: Option<Option<MoneyJson>>,
    pub owner_id: Option<Option<UserId>>,
    pub external_id: Option<Option<String>>,
}

#[derive(Clone, Debug, Default)]
pub struct ContactInput {
    pub name: Option<String>,
    pub company_id: Option<Option<CompanyId>>,
    pub job_title: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub owner_id: Option<Option<UserId>>,
    pub external_id: Option<Option<String>>,
}

fn parse_website(v: &str) -> std::result::Result<String, &'static str> {
    let v = v.trim();
    let bare = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .unwrap_or(v);
    let host = bare.split('/').next().unwrap_or("");
    if host.contains('.')
        && !host.starts_with('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:".contains(c))
    {
        Ok(if v.starts_with("http://") || v.starts_with("https://") {
            v.to_string()
        } else {
            format!("https://{v}")
        })
    } else {
        Err("must be a web address such as www.example.com")
    }
}

impl App {
    /// The owners whose records an actor sees besides unowned ones (None: all).
    pub(crate) async fn visible_owners(&self, actor: &Actor) -> Result<Option<Vec<UserId>>> {
        if actor.sees_all() {
            return Ok(None);
        }
        let teams = actor.teams();
        let mut owners = vec![actor.user_id];
        if !teams.is_empty() {
            for (_, u) in
                teams::memberships(&mut self.conn(), actor.org_id, Some(&teams), None).await?
            {
                if !owners.contains(&u) {
                    owners.push(u);
                }
            }
        }
        Ok(Some(owners))
    }

    pub(crate) async fn owner_target(&self, actor: &Actor, owner: Option<Uuid>) -> Result<Target> {
        let teams = match owner {
            Some(o) => teams::of_user(&mut self.conn(), actor.org_id, UserId(o)).await?,
            None => vec![],
        };
        Ok(Target {
            owner: owner.map(UserId),
            teams,
        })
    }

    /// May the actor edit a company or contact with this owner? (For pages
    /// that show a form or a read-only view.)
    pub async fn may_update_account(&self, actor: &Actor, owner: Option<Uuid>) -> Result<bool> {
        let t = self.owner_target(actor, owner).await?;
        Ok(crate::can(
            actor,
            Resource::Account,
            Action::Update,
            Some(&t),
        ))
    }

    /// Checks a new owner of a record (`resource`: accounts or leads): an
    /// active user of the organisation; handing a record to somebody else
    /// needs the right to administer such records.
    pub(crate) async fn check_owner(
        &self,
        actor: &Actor,
        resource: Resource,
        owner: Option<UserId>,
        errs: &mut Invalid,
    ) -> Result<()> {
        let Some(o) = owner else { return Ok(()) };
        if o != actor.user_id && !crate::can(actor, resource, Action::Administer, None) {
            errs.push("owner_id", "you can assign records only to yourself");
            return Ok(());
        }
        match users::get(&mut self.conn(), actor.org_id, o).await {
            Ok(u) if u.active => Ok(()),
            Ok(_) => {
                errs.push("owner_id", "is not an active user");
                Ok(())
            }
            Err(StoreError::NotFound) => {
                errs.push("owner_id", format!("unknown user {o}"));
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `check_owner`, made once per owner and remembered in `checks`.
    pub(crate) async fn check_owner_once(
        &self,
        actor: &Actor,
        resource: Resource,
        owner: Option<UserId>,
        errs: &mut Invalid,
        checks: &mut OwnerChecks,
    ) -> Result<()> {
        if let Some(found) = checks.0.get(&owner) {
            errs.0.extend(found.0.iter().cloned());
            return Ok(());
        }
        let mut found = Invalid::default();
        self.check_owner(actor, resource, owner, &mut found).await?;
        errs.0.extend(found.0.iter().cloned());
        checks.0.insert(owner, found);
        Ok(())
    }

    fn company_changes(
        &self,
        input: &CompanyInput,
        errs: &mut Invalid,
    ) -> Vec<(&'static str, SimpleExpr)> {
        let mut ch: Vec<(&'static str, SimpleExpr)> = vec![];
        if let Some(n) = &input.name
            && let Some(n) = errs.check("name", parse_name(n, 200))
        {
            ch.push(("name", n.into()));
        }
        let texts: [(&'static str, &Option<Option<String>>, usize); 7] = [
            ("industry", &input.industry, 100),
            ("region", &input.region, 100),
            ("postcode", &input.postcode, 20),
            ("city", &input.city, 100),
            ("phone", &input.phone, 50),
            ("problems", &input.problems, 5000),
            ("external_id", &input.external_id, 100),
        ];
        for (field, v, max) in texts {
            if let Some(v) = v {
                ch.push((field, text(errs, field, v, max).into()));
            }
        }
        if let Some(v) = &input.size_band {
            let b = text(errs, "size_band", v, 20);
            if b.as_deref().is_some_and(|b| !SIZE_BANDS.contains(&b)) {
                errs.push(
                    "size_band",
                    format!("must be one of: {}", SIZE_BANDS.join(", ")),
                );
            }
            ch.push(("size_band", b.into()));
        }
        if let Some(v) = &input.country {
            let c = text(errs, "country", v, 2).map(|c| c.to_uppercase());
            if c.as_deref()
                .is_some_and(|c| c.len() != 2 || !c.chars().all(|x| x.is_ascii_alphabetic()))
            {
                errs.push("country", "must be a two-letter ISO 3166 code such as DE");
            }
            ch.push(("country", c.into()));
        }
        if let Some(v) = &input.website {
            let w = text(errs, "website", v, 300)
                .and_then(|w| errs.check("website", parse_website(&w)));
            ch.push(("website", w.into()));
        }
        if let Some(v) = &input.value {
            let m: Option<Money> = v.as_ref().and_then(|j| errs.check("value", j.parse()));
            if m.is_some_and(|m| m.is_negative()) {
                errs.push("value", "must not be negative");
            }
            ch.push(("value_minor", m.map(|m| m.minor).into()));
            ch.push((
                "value_currency",
                m.map(|m| m.currency.code().to_string()).into(),
            ));
        }
        if let Some(o) = &input.owner_id {
            ch.push(("owner_id", o.map(|u| u.0).into()));
        }
        ch
    }

    pub async fn create_company(&self, actor: &Actor, input: CompanyInput) -> Result<Company> {
        let c = self
            .prepare_company(actor, input, &mut OwnerChecks::default())
            .await?;
        crm::insert_company(&mut self.conn(), &c)
            .await
            .map_err(external_id_taken)?;
        Ok(c)
    }

    /// Checks a new company and builds its row (not written yet). `checks`
    /// remembers owner checks already made (an import checks each owner once).
    pub(crate) async fn prepare_company(
        &self,
        actor: &Actor,
        input: CompanyInput,
        checks: &mut OwnerChecks,
    ) -> Result<Company> {
        require(actor, Resource::Account, Action::Create, None)?;
        let mut errs = Invalid::default();
        if input.name.is_none() {
            errs.push("name", "is required");
        }
        // A rep's new record is theirs unless they say otherwise.
        let owner = input
            .owner_id
            .unwrap_or((actor.role == Role::Rep).then_some(actor.user_id));
        self.check_owner_once(actor, Resource::Account, owner, &mut errs, checks)
            .await?;
        let changes = self.company_changes(
            &CompanyInput {
                owner_id: Some(owner),
                ..input
            },
            &mut errs,
        );
        errs.into_result()?;
        let at = now();
        let mut c = Company {
            org_id: actor.org_id,
            id: CompanyId::new(),
            name: String::new(),
            industry: None,
            size_band: None,
            country: None,
            region: None,
            postcode: None,
            city: None,
            website: None,
            phone: None,
            problems: None,
            value_minor: None,
            value_currency: None,
            owner_id: None,
            external_id: None,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        apply_company(&mut c, changes);
        Ok(c)
    }

    async fn company_with_target(&self, actor: &Actor, id: CompanyId) -> Result<(Company, Target)> {
        let c = crm::get_company(&mut self.conn(), actor.org_id, id).await?;
        let t = self.owner_target(actor, c.owner_id).await?;
        Ok((c, t))
    }

    pub async fn get_company(&self, actor: &Actor, id: CompanyId) -> Result<Company> {
        let (c, t) = self.company_with_target(actor, id).await?;
        require(actor, Resource::Account, Action::Read, Some(&t))?;
        Ok(c)
    }

    pub async fn list_companies(
        &self,
        actor: &Actor,
        mut f: Filter,
        cursor: Option<Uuid>,
        limit: u64,
    ) -> Result<Page<Company>> {
        require(actor, Resource::Account, Action::Read, None)?;
        f.owners = self.visible_owners(actor).await?;
        let rows =
            crm::list_companies(&mut self.conn(), actor.org_id, &f, cursor, limit + 1).await?;
        Ok(Page::from_rows(rows, limit, |c| c.id.0))
    }

    pub async fn update_company(
        &self,
        actor: &Actor,
        id: CompanyId,
        if_match: Option<i64>,
        input: CompanyInput,
    ) -> Result<Company> {
        let changes = self.prepare_company_update(actor, id, input).await?;
        let c = crm::update_company(&mut self.conn(), actor.org_id, id, if_match, changes, now())
            .await
            .map_err(external_id_taken)?;
        Ok(c)
    }

    /// Checks an update of a company into column changes (not written yet).
    pub(crate) async fn prepare_company_update(
        &self,
        actor: &Actor,
        id: CompanyId,
        input: CompanyInput,
    ) -> Result<Vec<(&'static str, SimpleExpr)>> {
        let (current, t) = self.company_with_target(actor, id).await?;
        require(actor, Resource::Account, Action::Update, Some(&t))?;
        let mut errs = Invalid::default();
        if let Some(o) = input.owner_id
            && o.map(|u| u.0) != current.owner_id
        {
            self.check_owner(actor, Resource::Account, o, &mut errs)
                .await?;
        }
        let mut changes = self.company_changes(&input, &mut errs);
        errs.into_result()?;
        let mut merged = current.clone();
        apply_company(&mut merged, changes.clone());
        changes.push(("search_text", merged.search_text().into()));
        Ok(changes)
    }

    /// Deletes a company without contacts (and, later, without leads).
    pub async fn delete_company(
        &self,
        actor: &Actor,
        id: CompanyId,
        if_match: Option<i64>,
    ) -> Result<()> {
        let (current, t) = self.company_with_target(actor, id).await?;
        require(actor, Resource::Account, Action::Delete, Some(&t))?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(AppError::Stale);
        }
        let mut tx = self.db.begin().await?;
        if crm::contact_count(&mut tx, actor.org_id, id).await? > 0 {
            return Err(AppError::Conflict(
                "the company still has contacts; delete or move them first".into(),
            ));
        }
        salesops_store::prospecting::unlink_account(&mut tx, actor.org_id, "company_id", id.0)
            .await?;
        crm::delete_company(&mut tx, actor.org_id, id)
            .await
            .map_err(|e| match e {
                StoreError::Reference(_) => AppError::Conflict(
                    "the company still has leads or activities; delete or move them first".into(),
                ),
                other => other.into(),
            })?;
        tx.commit().await?;
        Ok(())
    }

    async fn contact_changes(
        &self,
        actor: &Actor,
        input: &ContactInput,
        errs: &mut Invalid,
    ) -> Result<Vec<(&'static str, SimpleExpr)>> {
        let mut ch: Vec<(&'static str, SimpleExpr)> = vec![];
        if let Some(n) = &input.name
            && let Some(n) = errs.check("name", parse_name(n, 200))
        {
            ch.push(("name", n.into()));
        }
        for (field, v, max) in [
            ("job_title", &input.job_title, 100),
            ("phone", &input.phone, 50),
            ("notes", &input.notes, 5000),
            ("external_id", &input.external_id, 100),
        ] {
            if let Some(v) = v {
                ch.push((field, text(errs, field, v, max).into()));
            }
        }
        if let Some(v) = &input.email {
            let e = text(errs, "email", v, 254)
                .and_then(|e| errs.check("email", Email::parse(&e)))
                .map(|e| e.to_string());
            ch.push(("email", e.into()));
        }
        if let Some(co) = input.company_id {
            if let Some(co) = co {
                // The company must exist and be visible to the actor.
                match self.get_company(actor, co).await {
                    Ok(_) => {}
                    Err(AppError::NotFound | AppError::Forbidden) => {
                        errs.push("company_id", format!("unknown company {co}"))
                    }
                    Err(e) => return Err(e),
                }
            }
            ch.push(("company_id", co.map(|c| c.0).into()));
        }
        if let Some(o) = &input.owner_id {
            ch.push(("owner_id", o.map(|u| u.0).into()));
        }
        Ok(ch)
    }

    pub async fn create_contact(&self, actor: &Actor, input: ContactInput) -> Result<Contact> {
        let c = self
            .prepare_contact(actor, input, &mut OwnerChecks::default())
            .await?;
        crm::insert_contact(&mut self.conn(), &c)
            .await
            .map_err(external_id_taken)?;
        Ok(c)
    }

    /// Checks a new contact and builds its row (not written yet).
    pub(crate) async fn prepare_contact(
        &self,
        actor: &Actor,
        input: ContactInput,
        checks: &mut OwnerChecks,
    ) -> Result<Contact> {
        require(actor, Resource::Account, Action::Create, None)?;
        let mut errs = Invalid::default();
        if input.name.is_none() {
            errs.push("name", "is required");
        }
        let owner = input
            .owner_id
            .unwrap_or((actor.role == Role::Rep).then_some(actor.user_id));
        self.check_owner_once(actor, Resource::Account, owner, &mut errs, checks)
            .await?;
        let changes = self
            .contact_changes(
                actor,
                &ContactInput {
                    owner_id: Some(owner),
                    ..input
                },
                &mut errs,
            )
            .await?;
        errs.into_result()?;
        let at = now();
        let mut c = Contact {
            org_id: actor.org_id,
            id: ContactId::new(),
            company_id: None,
            name: String::new(),
            job_title: None,
            email: None,
            phone: None,
            notes: None,
            owner_id: None,
            external_id: None,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        apply_contact(&mut c, changes);
        Ok(c)
    }

    async fn contact_with_target(&self, actor: &Actor, id: ContactId) -> Result<(Contact, Target)> {
        let c = crm::get_contact(&mut self.conn(), actor.org_id, id).await?;
        let t = self.owner_target(actor, c.owner_id).await?;
        Ok((c, t))
    }

    pub async fn get_contact(&self, actor: &Actor, id: ContactId) -> Result<Contact> {
        let (c, t) = self.contact_with_target(actor, id).await?;
        require(actor, Resource::Account, Action::Read, Some(&t))?;
        Ok(c)
    }

    pub async fn list_contacts(
        &self,
        actor: &Actor,
        mut f: Filter,
        cursor: Option<Uuid>,
        limit: u64,
    ) -> Result<Page<Contact>> {
        require(actor, Resource::Account, Action::Read, None)?;
        f.owners = self.visible_owners(actor).await?;
        let rows =
            crm::list_contacts(&mut self.conn(), actor.org_id, &f, cursor, limit + 1).await?;
        Ok(Page::from_rows(rows, limit, |c| c.id.0))
    }

    pub async fn update_contact(
        &self,
        actor: &Actor,
        id: ContactId,
        if_match: Option<i64>,
        input: ContactInput,
    ) -> Result<Contact> {
        let changes = self.prepare_contact_update(actor, id, input).await?;
        crm::update_contact(&mut self.conn(), actor.org_id, id, if_match, changes, now())
            .await
            .map_err(external_id_taken)
    }

    /// Checks an update of a contact into column changes (not written yet).
    pub(crate) async fn prepare_contact_update(
        &self,
        actor: &Actor,
        id: ContactId,
        input: ContactInput,
    ) -> Result<Vec<(&'static str, SimpleExpr)>> {
        let (current, t) = self.contact_with_target(actor, id).await?;
        require(actor, Resource::Account, Action::Update, Some(&t))?;
        let mut errs = Invalid::default();
        if let Some(o) = input.owner_id
            && o.map(|u| u.0) != current.owner_id
        {
            self.check_owner(actor, Resource::Account, o, &mut errs)
                .await?;
        }
        let mut changes = self.contact_changes(actor, &input, &mut errs).await?;
        errs.into_result()?;
        let mut merged = current.clone();
        apply_contact(&mut merged, changes.clone());
        changes.push(("search_text", merged.search_text().into()));
        Ok(changes)
    }

    pub async fn delete_contact(
        &self,
        actor: &Actor,
        id: ContactId,
        if_match: Option<i64>,
    ) -> Result<()> {
        let (current, t) = self.contact_with_target(actor, id).await?;
        require(actor, Resource::Account, Action::Delete, Some(&t))?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(AppError::Stale);
        }
        let mut tx = self.db.begin().await?;
        salesops_store::prospecting::unlink_account(&mut tx, actor.org_id, "contact_id", id.0)
            .await?;
        crm::delete_contact(&mut tx, actor.org_id, id)
            .await
            .map_err(|e| match e {
                StoreError::Reference(_) => AppError::Conflict(
                    "the contact still has leads or activities; remove them first".into(),
                ),
                other => other.into(),
            })?;
        tx.commit().await?;
        Ok(())
    }
}

/// The company's money value, when it has one.
pub fn company_value(c: &Company) -> Option<Money> {
    let cur = salesops_domain::Currency::parse(c.value_currency.as_deref()?).ok()?;
    Some(Money::new(c.value_minor?, cur))
}

fn string_of(e: &SimpleExpr) -> Option<String> {
    match e {
        SimpleExpr::Value(sea_query::Value::String(s)) => s.as_ref().map(|s| s.to_string()),
        _ => None,
    }
}

fn uuid_of(e: &SimpleExpr) -> Option<Uuid> {
    match e {
        SimpleExpr::Value(sea_query::Value::Uuid(u)) => *u,
        _ => None,
    }
}

/// Applies validated changes to an in-memory row (for inserts and for
/// computing the search text of an update).
fn apply_company(c: &mut Company, changes: Vec<(&'static str, SimpleExpr)>) {
    for (field, v) in changes {
        match field {
            "name" => c.name = string_of(&v).unwrap_or_default(),
            "industry" => c.industry = string_of(&v),
            "size_band" => c.size_band = string_of(&v),
            "country" => c.country = string_of(&v),
            "region" => c.region = string_of(&v),
            "postcode" => c.postcode = string_of(&v),
            "city" => c.city = string_of(&v),
            "website" => c.website = string_of(&v),
            "phone" => c.phone = string_of(&v),
            "problems" => c.problems = string_of(&v),
            "external_id" => c.external_id = string_of(&v),
            "value_currency" => c.value_currency = string_of(&v),
            "value_minor" => {
                c.value_minor = match v {
                    SimpleExpr::Value(sea_query::Value::BigInt(n)) => n,
                    _ => None,
                }
            }
            "owner_id" => c.owner_id = uuid_of(&v),
            _ => {}
        }
    }
}

fn apply_contact(c: &mut Contact, changes: Vec<(&'static str, SimpleExpr)>) {
    for (field, v) in changes {
        match field {
            "name" => c.name = string_of(&v).unwrap_or_default(),
            "job_title" => c.job_title = string_of(&v),
            "email" => c.email = string_of(&v),
            "phone" => c.phone = string_of(&v),
            "notes" => c.notes = string_of(&v),
            "external_id" => c.external_id = string_of(&v),
            "company_id" => c.company_id = uuid_of(&v),
            "owner_id" => c.owner_id = uuid_of(&v),
            _ => {}
        }
    }
}

pub(crate) fn external_id_taken(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => AppError::Invalid(Invalid::one(
            "external_id",
            "is already used by another record",
        )),
        other => other.into(),
    }
}
