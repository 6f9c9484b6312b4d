//! The live analytic index: one [`Cube`] per organisation, built from the
//! tables in one consistent snapshot and kept current from the change feed
//! (`salesops_store::feed`) that triggers write in every transaction that
//! changes an activity, a lead or a stage history.
//!
//! Every instance of the application keeps its own index and reads the
//! feed: in the background twice a second, and before it serves a report,
//! so that a write is in the next report of the instance that made it, and
//! of every other instance within a second. The index is positioned by the
//! highest feed number below which it has applied everything (`floor`),
//! the numbers above it it has applied (`seen`), and the gaps between them
//! (see the store's `feed` module for why PostgreSQL has gaps and how one
//! is known to have rolled back).

use crate::analytics::Ctx;
use crate::cube::{ActivityKey, Cube, Kinds, StagePlace};
use crate::{App, Result};
use chrono_tz::Tz;
use salesops_domain::OrgId;
use salesops_store::feed::{self, FeedRow, Horizon, StageKey};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Rows read per page while building.
const PAGE: u64 = 50_000;
/// Feed rows read per poll.
const BATCH: u64 = 20_000;

#[derive(Clone, Default)]
struct Position {
    floor: i64,
    seen: BTreeSet<i64>,
    /// Gap → the next transaction id when it was noticed.
    gaps: BTreeMap<i64, i64>,
}

impl Position {
    /// Moves the floor over what has been applied and over gaps that can no
    /// longer fill.
    fn advance(&mut self, horizon: Option<Horizon>) {
        loop {
            let next = self.floor + 1;
            if self.seen.remove(&next) {
                self.floor = next;
                continue;
            }
            let Some(last) = self.seen.last().copied() else {
                break;
            };
            if next > last {
                break;
            }
            let closed = match (horizon, self.gaps.get(&next)) {
                // SQLite has no gaps that fill later.
                (None, _) => true,
                (Some(h), Some(noted)) => h.oldest_running >= *noted,
                (Some(_), None) => false,
            };
            if !closed {
                break;
            }
            self.gaps.remove(&next);
            self.floor = next;
        }
    }

    /// Notes the gaps below the highest number seen.
    fn note_gaps(&mut self, horizon: Option<Horizon>) {
        let (Some(h), Some(last)) = (horizon, self.seen.last().copied()) else {
            return;
        };
        for s in self.floor + 1..last {
            if !self.seen.contains(&s) {
                self.gaps.entry(s).or_insert(h.next);
            }
        }
    }
}

/// A cached organisation's settings and the generation they were read in.
#[derive(Clone, Default)]
pub struct CachedCtx {
    pub ctx: Option<Arc<Ctx>>,
    pub generation: u64,
}

/// What the index knows.
pub struct Index {
    cubes: RwLock<HashMap<OrgId, Arc<RwLock<Cube>>>>,
    /// Settings per organisation, dropped when the feed says they changed.
    ctx: RwLock<HashMap<OrgId, CachedCtx>>,
    position: tokio::sync::Mutex<Option<Position>>,
    /// Serialises builds.
    building: tokio::sync::Mutex<()>,
    /// Built or loaded at least once.
    built: std::sync::atomic::AtomicBool,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            cubes: RwLock::new(HashMap::new()),
            ctx: RwLock::new(HashMap::new()),
            position: tokio::sync::Mutex::new(None),
            building: tokio::sync::Mutex::new(()),
            built: Default::default(),
        }
    }
}

/// How a build went.
#[derive(Clone, Debug)]
pub struct Built {
    pub orgs: usize,
    pub activities: u64,
    pub leads: usize,
    pub stage_changes: usize,
    pub took: Duration,
}

impl Index {
    /// Has the index been built or loaded (then it is kept current)?
    pub fn is_built(&self) -> bool {
        self.built.load(std::sync::atomic::Ordering::Acquire)
    }

    fn cube(&self, org: OrgId) -> Option<Arc<RwLock<Cube>>> {
        self.cubes.read().ok()?.get(&org).cloned()
    }

    /// The cached settings of an organisation (none while the index is not
    /// built: nothing would tell when they change).
    pub fn cached_ctx(&self, org: OrgId) -> CachedCtx {
        let built = self.is_built();
        let c = self
            .ctx
            .read()
            .ok()
            .and_then(|m| m.get(&org).cloned())
            .unwrap_or_default();
        if built {
            c
        } else {
            CachedCtx {
                ctx: None,
                generation: c.generation,
            }
        }
    }

    /// Caches settings read in `generation`, unless they changed since.
    pub fn cache_ctx(&self, org: OrgId, generation: u64, ctx: Arc<Ctx>) {
        if let Ok(mut m) = self.ctx.write() {
            let e = m.entry(org).or_default();
            if e.generation == generation {
                e.ctx = Some(ctx);
            }
        }
    }

    /// The settings of an organisation changed.
    fn settings_changed(&self, org: OrgId) {
        if let Ok(mut m) = self.ctx.write() {
            let e = m.entry(org).or_default();
            e.generation += 1;
            e.ctx = None;
        }
    }
}

impl App {
    /// Builds the index from the tables, replacing what it held.
    pub async fn build_index(&self) -> Result<Built> {
        let _one = self.index.building.lock().await;
        self.build_locked().await
    }

    /// Builds the index unless it is built; `false` while a build runs
    /// elsewhere (the caller reads the tables meanwhile).
    async fn ensure_index(&self) -> Result<bool> {
        if self.index.position.lock().await.is_some() {
            return Ok(true);
        }
        let Ok(_one) = self.index.building.try_lock() else {
            return Ok(false);
        };
        if self.index.position.lock().await.is_none() {
            self.build_locked().await?;
        }
        Ok(true)
    }

    async fn build_locked(&self) -> Result<Built> {
        let started = Instant::now();
        let mut tx = feed::begin_snapshot(&self.db).await?;
        let horizon = feed::horizon(&mut tx).await?;
        let max = feed::max_seq(&mut tx).await?;
        let mut position = Position {
            floor: max,
            ..Default::default()
        };
        if horizon.is_some() {
            // Numbers below the highest that the snapshot does not see
            // belong to transactions still running (or rolled back).
            position.floor = (max - 100_000).max(0);
            position.seen = feed::seqs_after(&mut tx, position.floor)
                .await?
                .into_iter()
                .collect();
            position.note_gaps(horizon);
            position.advance(horizon);
        }
        let orgs = feed::org_ids(&mut tx).await?;
        let mut cubes = HashMap::new();
        let mut built = Built {
            orgs: orgs.len(),
            activities: 0,
            leads: 0,
            stage_changes: 0,
            took: Duration::ZERO,
        };
        for org in orgs {
            let mut cube = self.empty_cube(org).await?;
            let mut after = None;
            loop {
                let page = feed::activity_page(&mut tx, org, after, PAGE).await?;
                for a in &page {
                    cube.count_activity(
                        &ActivityKey {
                            user: a.user_id,
                            type_id: a.type_id,
                            outcome_id: a.outcome_id,
                            at: a.happened_at,
                            lead: a.lead_id,
                            minutes: a.duration_minutes,
                        },
                        1,
                    );
                }
                match page.last() {
                    Some(l) if page.len() as u64 == PAGE => after = Some(l.id),
                    _ => break,
                }
            }
            built.activities += cube.activity_count;
            let mut after = None;
            loop {
                let page = feed::lead_page(&mut tx, org, after, PAGE).await?;
                for l in &page {
                    cube.upsert_lead(l);
                }
                match page.last() {
                    Some(l) if page.len() as u64 == PAGE => after = Some(l.id),
                    _ => break,
                }
            }
            built.leads += cube.lead_count();
            // Pages come in id order; each history is then put in time
            // order, ties by id.
            let mut after = None;
            loop {
                let page = feed::stage_page(&mut tx, org, after, PAGE).await?;
                built.stage_changes += page.len();
                for s in &page {
                    cube.push_step(s);
                }
                match page.last() {
                    Some(l) if page.len() as u64 == PAGE => after = Some(l.id),
                    _ => break,
                }
            }
            cube.sort_steps();
            cube.set_layout(self.org_layout(org).await?);
            cubes.insert(org, Arc::new(RwLock::new(cube)));
        }
        tx.commit().await?;
        let mut pos = self.index.position.lock().await;
        *self.index.cubes.write().expect("index lock") = cubes;
        for org in self.index.cubes.read().expect("index lock").keys() {
            self.index.settings_changed(*org);
        }
        *pos = Some(position);
        self.index
            .built
            .store(true, std::sync::atomic::Ordering::Release);
        built.took = started.elapsed();
        tracing::info!(
            orgs = built.orgs,
            activities = built.activities,
            leads = built.leads,
            stage_changes = built.stage_changes,
            seconds = built.took.as_secs_f64(),
            "analytic index built"
        );
        Ok(built)
    }

    async fn empty_cube(&self, org: OrgId) -> Result<Cube> {
        let o = self.org(org).await?;
        let tz: Tz = o.time_zone.parse().unwrap_or(chrono_tz::Europe::Berlin);
        let rates = self.org_rate_table(org).await?;
        let kinds = self.org_kinds(org).await?;
        Ok(Cube::new(tz, rates, kinds))
    }

    /// What the index reads of an organisation's pipelines and stages.
    async fn org_layout(&self, org: OrgId) -> Result<Vec<StagePlace>> {
        let pipelines = salesops_store::pipelines::list_pipelines(&mut self.conn(), org).await?;
        let views = self.pipeline_views(org, pipelines).await?;
        Ok(crate::analytics::layout_of(&views))
    }

    /// What the index reads of an organisation's activity types.
    async fn org_kinds(&self, org: OrgId) -> Result<Kinds> {
        let types = salesops_store::activity_types::list_types(&mut self.conn(), org, true).await?;
        Ok(Kinds::of(&types))
    }

    /// Reads the feed and applies what is new; returns the number of
    /// changes applied. Builds the index first if it was never built.
    pub async fn catch_up(&self) -> Result<usize> {
        if !self.ensure_index().await? {
            return Ok(0);
        }
        let mut guard = self.index.position.lock().await;
        let Some(pos) = guard.as_mut() else {
            return Ok(0);
        };
        let mut c = self.conn();
        let before = feed::horizon(&mut c).await?;
        let rows = feed::after(&mut c, pos.floor, BATCH).await?;
        let after = feed::horizon(&mut c).await?;
        let fresh: Vec<FeedRow> = rows
            .into_iter()
            .filter(|r| !pos.seen.contains(&r.seq))
            .collect();
        let applied = fresh.len();
        if !self.apply(&fresh).await? {
            // An activity type changed what the index counted of it:
            // build again (reports read the tables meanwhile).
            tracing::info!("analytic index: activity types changed; building again");
            *guard = None;
            drop(guard);
            self.index
                .built
                .store(false, std::sync::atomic::Ordering::Release);
            return Ok(applied);
        }
        for r in &fresh {
            pos.seen.insert(r.seq);
            pos.gaps.remove(&r.seq);
        }
        pos.note_gaps(after);
        pos.advance(before);
        Ok(applied)
    }

    /// Applies feed rows to the cubes; `false` when an organisation's
    /// activity types changed what the index counts of them (then it
    /// must be built again).
    async fn apply(&self, rows: &[FeedRow]) -> Result<bool> {
        if rows.is_empty() {
            return Ok(true);
        }
        let mut by_org: BTreeMap<Uuid, Vec<&FeedRow>> = BTreeMap::new();
        for r in rows {
            by_org.entry(r.org_id).or_default().push(r);
        }
        for (org, rows) in by_org {
            let org = OrgId(org);
            let cube = match self.index.cube(org) {
                Some(c) => c,
                None => {
                    // An organisation created after the build.
                    let c = Arc::new(RwLock::new(self.empty_cube(org).await?));
                    self.index
                        .cubes
                        .write()
                        .expect("index lock")
                        .insert(org, c.clone());
                    c
                }
            };
            if rows.iter().any(|r| r.entity == "settings") {
                self.index.settings_changed(org);
                let kinds = self.org_kinds(org).await?;
                if cube.read().expect("index lock").kinds != kinds {
                    return Ok(false);
                }
            }
            let leads: Vec<Uuid> = rows
                .iter()
                .filter(|r| r.entity == "lead" || r.entity == "stage")
                .map(|r| r.entity_id)
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let mut c = self.conn();
            let mut fresh = vec![];
            let mut histories: HashMap<Uuid, Vec<StageKey>> = HashMap::new();
            for chunk in leads.chunks(500) {
                fresh.extend(feed::leads_by_id(&mut c, org, chunk).await?);
                for s in feed::stages_of(&mut c, org, chunk).await? {
                    histories.entry(s.lead_id).or_default().push(s);
                }
            }
            let mut cube = cube.write().expect("index lock");
            for r in rows.iter().filter(|r| r.entity == "activity") {
                if let (Some(user), Some(type_id), Some(at)) =
                    (r.old_user_id, r.old_type_id, r.old_at)
                {
                    cube.count_activity(
                        &ActivityKey {
                            user,
                            type_id,
                            outcome_id: r.old_outcome_id,
                            at,
                            lead: r.old_lead_id,
                            minutes: r.old_minutes,
                        },
                        -1,
                    );
                }
                if let (Some(user), Some(type_id), Some(at)) =
                    (r.new_user_id, r.new_type_id, r.new_at)
                {
                    cube.count_activity(
                        &ActivityKey {
                            user,
                            type_id,
                            outcome_id: r.new_outcome_id,
                            at,
                            lead: r.new_lead_id,
                            minutes: r.new_minutes,
                        },
                        1,
                    );
                }
            }
            let present: HashSet<Uuid> = fresh.iter().map(|l| l.id).collect();
            for id in leads.iter().filter(|id| !present.contains(id)) {
                cube.remove_lead(*id);
            }
            for l in &fresh {
                cube.upsert_lead(l);
            }
            for id in &leads {
                let mut h = histories.remove(id).unwrap_or_default();
                h.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
                cube.set_stage_history(*id, &h);
            }
        }
        Ok(true)
    }

    /// The live cube of an organisation, current with the feed, when it
    /// can serve `ctx` (same time zone; rates brought up to date).
    pub async fn live_cube(
        &self,
        ctx: &crate::analytics::Ctx,
        org: OrgId,
    ) -> Result<Option<Arc<RwLock<Cube>>>> {
        // Once built, the index was brought up to date when `ctx` was read
        // (`analytics_ctx`); the first report builds it.
        if !self.index.is_built() {
            self.catch_up().await?;
            if !self.index.is_built() {
                return Ok(None);
            }
        }
        let Some(cube) = self.index.cube(org) else {
            return Ok(None);
        };
        let layout = ctx.layout();
        {
            let c = cube.read().expect("index lock");
            if c.tz != ctx.tz {
                return Ok(None);
            }
            if *c.rates() == ctx.rates && c.layout() == Some(layout.as_slice()) {
                return Ok(Some(cube.clone()));
            }
        }
        // Rates or stages changed (rarely): what is derived from them is
        // computed again.
        let mut c = cube.write().expect("index lock");
        if *c.rates() != ctx.rates {
            c.set_rates(ctx.rates.clone());
        }
        c.set_layout(layout);
        drop(c);
        Ok(Some(cube))
    }

    /// Keeps the index current until `stop` resolves: loads the saved
    /// index or builds it from the tables, then reads the feed twice a
    /// second and saves the index every ten minutes when it changed.
    pub async fn run_index(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let path = self.settings.index_snapshot.clone();
        let mut loaded = false;
        if let Some(p) = &path {
            match self.load_index(p).await {
                Ok(true) => loaded = true,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, path = %p.display(),
                    "analytic index: the saved index cannot be read; building it"),
            }
        }
        if !loaded {
            match self.ensure_index().await {
                Ok(_) => {
                    if let Some(p) = &path
                        && let Err(e) = self.save_index(p).await
                    {
                        tracing::warn!(error = %e, "analytic index: saving failed");
                    }
                }
                Err(e) => tracing::error!(error = %e,
                    "analytic index: build failed; reports read the tables"),
            }
        }
        let mut changed = 0usize;
        let mut saved = Instant::now();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.changed() => return,
            }
            match self.catch_up().await {
                Ok(n) => changed += n,
                Err(e) => {
                    tracing::warn!(error = %e, "analytic index: reading the change feed failed")
                }
            }
            if let Some(p) = &path
                && changed > 0
                && saved.elapsed() > Duration::from_secs(600)
            {
                match self.save_index(p).await {
                    Ok(()) => changed = 0,
                    Err(e) => tracing::warn!(error = %e, "analytic index: saving failed"),
                }
                saved = Instant::now();
            }
        }
    }

    /// Saves the index to `path` (written beside it, then renamed).
    pub async fn save_index(&self, path: &std::path::Path) -> Result<()> {
        let started = Instant::now();
        // No change is applied while the cubes are written.
        let guard = self.index.position.lock().await;
        let Some(position) = guard.clone() else {
            return Ok(());
        };
        let cubes: Vec<(OrgId, Arc<RwLock<Cube>>)> = self
            .index
            .cubes
            .read()
            .expect("index lock")
            .iter()
            .map(|(o, c)| (*o, c.clone()))
            .collect();
        let path = path.to_path_buf();
        let written = tokio::task::spawn_blocking(move || write_snapshot(&path, &position, &cubes))
            .await
            .map_err(|e| crate::AppError::Internal(e.to_string()))?;
        drop(guard);
        written
            .map_err(|e| crate::AppError::Internal(format!("saving the analytic index: {e}")))?;
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "analytic index saved"
        );
        Ok(())
    }

    /// Loads the index saved at `path`; `false` when there is none or it
    /// is too old to catch up from the feed (then the caller builds).
    pub async fn load_index(&self, path: &std::path::Path) -> Result<bool> {
        if !path.exists() {
            return Ok(false);
        }
        let started = Instant::now();
        let _one = self.index.building.lock().await;
        let mut rates = HashMap::new();
        let mut tzs = HashMap::new();
        let mut kinds = HashMap::new();
        let mut layouts = HashMap::new();
        let mut c = self.conn();
        for org in feed::org_ids(&mut c).await? {
            let o = self.org(org).await?;
            tzs.insert(org, o.time_zone.clone());
            kinds.insert(org, self.org_kinds(org).await?);
            rates.insert(org, self.org_rate_table(org).await?);
            layouts.insert(org, self.org_layout(org).await?);
        }
        let p = path.to_path_buf();
        let read = tokio::task::spawn_blocking(move || read_snapshot(&p, rates, layouts))
            .await
            .map_err(|e| crate::AppError::Internal(e.to_string()))?;
        let (written_at, position, cubes) = match read {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "analytic index: the saved index is unreadable");
                return Ok(false);
            }
        };
        // The feed keeps a week: an older index cannot catch up.
        if salesops_store::now() - written_at > chrono::Duration::days(6) {
            tracing::info!("analytic index: the saved index is too old");
            return Ok(false);
        }
        if cubes
            .iter()
            .any(|(org, c)| tzs.get(org).map(String::as_str) != Some(c.tz.name()))
        {
            tracing::info!("analytic index: a time zone changed since the index was saved");
            return Ok(false);
        }
        if cubes
            .iter()
            .any(|(org, c)| kinds.get(org) != Some(&c.kinds))
        {
            tracing::info!("analytic index: activity types changed since the index was saved");
            return Ok(false);
        }
        let mut pos = self.index.position.lock().await;
        *self.index.cubes.write().expect("index lock") = cubes
            .into_iter()
            .map(|(o, c)| (o, Arc::new(RwLock::new(c))))
            .collect();
        for org in self.index.cubes.read().expect("index lock").keys() {
            self.index.settings_changed(*org);
        }
        *pos = Some(position);
        self.index
            .built
            .store(true, std::sync::atomic::Ordering::Release);
        drop(pos);
        drop(_one);
        let caught = self.catch_up().await?;
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            changes_since = caught,
            "analytic index loaded"
        );
        Ok(true)
    }

    /// Deletes feed rows every instance has read: those written more than
    /// `keep` ago (an instance that was down longer rebuilds at start).
    pub async fn prune_feed(&self, keep: Duration) -> Result<u64> {
        let mut c = self.conn();
        let before = salesops_store::now()
            - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::days(7));
        Ok(feed::prune_written_before(&mut c, before).await?)
    }
}

const MAGIC: &[u8] = b"salesops analytic index 3\n";

fn write_snapshot(
    path: &std::path::Path,
    position: &Position,
    cubes: &[(OrgId, Arc<RwLock<Cube>>)],
) -> std::io::Result<()> {
    use crate::cube::file::{i64_, time, u32_, uuid};
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    w.write_all(MAGIC)?;
    time(&mut w, salesops_store::now())?;
    i64_(&mut w, position.floor)?;
    u32_(&mut w, position.seen.len() as u32)?;
    for s in &position.seen {
        i64_(&mut w, *s)?;
    }
    u32_(&mut w, position.gaps.len() as u32)?;
    for (s, n) in &position.gaps {
        i64_(&mut w, *s)?;
        i64_(&mut w, *n)?;
    }
    u32_(&mut w, cubes.len() as u32)?;
    for (org, cube) in cubes {
        uuid(&mut w, org.0)?;
        cube.read().expect("index lock").write(&mut w)?;
    }
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

type Loaded = (chrono::DateTime<chrono::Utc>, Position, Vec<(OrgId, Cube)>);

fn read_snapshot(
    path: &std::path::Path,
    mut rates: HashMap<OrgId, crate::rates::RateTable>,
    mut layouts: HashMap<OrgId, Vec<StagePlace>>,
) -> std::io::Result<Loaded> {
    use crate::cube::file::{bad, r_i64, r_time, r_u32, r_uuid};
    use std::io::Read;
    let mut r = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut magic = vec![0u8; MAGIC.len()];
    r.read_exact(&mut magic)?;
    if magic != MAGIC {
        return Err(bad("not an index of this version"));
    }
    let written_at = r_time(&mut r)?;
    let mut position = Position {
        floor: r_i64(&mut r)?,
        ..Default::default()
    };
    for _ in 0..r_u32(&mut r)? {
        position.seen.insert(r_i64(&mut r)?);
    }
    for _ in 0..r_u32(&mut r)? {
        let s = r_i64(&mut r)?;
        position.gaps.insert(s, r_i64(&mut r)?);
    }
    let mut cubes = vec![];
    for _ in 0..r_u32(&mut r)? {
        let org = OrgId(r_uuid(&mut r)?);
        let rates = rates
            .remove(&org)
            .ok_or_else(|| bad("an organisation that no longer exists"))?;
        let mut cube = Cube::read(&mut r, rates)?;
        cube.set_layout(layouts.remove(&org).unwrap_or_default());
        cubes.push((org, cube));
    }
    Ok((written_at, position, cubes))
}
