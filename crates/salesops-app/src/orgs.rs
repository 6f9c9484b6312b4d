use crate::{App, Result};
use salesops_domain::{Locale, OrgId};
use salesops_store::{now, orgs, orgs::Org};

impl App {
    /// The organisation this deployment serves, created on first use.
    pub async fn ensure_default_org(&self, name: &str) -> Result<Org> {
        let org = self.ensure_org_row(name).await?;
        self.ensure_default_pipeline(org.id, org.default_locale)
            .await?;
        self.ensure_default_activity_types(org.id, org.default_locale)
            .await?;
        Ok(org)
    }

    async fn ensure_org_row(&self, name: &str) -> Result<Org> {
        if let Some(o) = orgs::default_org(&mut self.conn()).await? {
            return Ok(o);
        }
        let at = now();
        let org = Org {
            id: OrgId::new(),
            slug: "default".into(),
            name: name.to_string(),
            base_currency: "EUR".into(),
            time_zone: "Europe/Berlin".into(),
            default_locale: Locale::De,
            is_default: true,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        match orgs::insert(&mut self.conn(), &org).await {
            Ok(()) => Ok(org),
            // Another instance created it at the same moment.
            Err(salesops_store::StoreError::Conflict(_)) => Ok(orgs::default_org(&mut self.conn())
                .await?
                .ok_or(crate::AppError::NotFound)?),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn default_org(&self) -> Result<Org> {
        orgs::default_org(&mut self.conn()).await?.ok_or_else(|| {
            crate::AppError::Internal("no organisation: run `salesops migrate` first".into())
        })
    }

    pub async fn org(&self, id: OrgId) -> Result<Org> {
        Ok(orgs::get(&mut self.conn(), id).await?)
    }

    /// Renames an organisation (the demo data names its company).
    pub async fn rename_org(&self, id: OrgId, name: &str) -> Result<()> {
        let name = salesops_domain::parse_name(name, 200)
            .map_err(|e| salesops_domain::Invalid::one("name", e.0))?;
        orgs::rename(&mut self.conn(), id, &name, now()).await?;
        Ok(())
    }
}
