//! Sales scripts: ops write ordered questions; during a call the rep sees
//! the script beside the prospect or lead and the answers are stored on
//! that record.

use crate::fields::text;
use crate::permissions::{Action, Actor, Resource, require};
use crate::{App, AppError, Result};
use rust_decimal::Decimal;
use salesops_domain::{AnswerKind, Invalid, LeadId, ProspectId, QuestionId, ScriptId, parse_name};
use salesops_store::scripts::{self, Answer, Question, Script, Subject};
use salesops_store::{StoreError, bump_version, now};
use sea_query::SimpleExpr;
use std::str::FromStr;

/// A script as given; on update `None` leaves a field.
#[derive(Clone, Debug, Default)]
pub struct ScriptInput {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub archived: Option<bool>,
    /// Create only: the questions, in order.
    pub questions: Option<Vec<QuestionInput>>,
}

/// A question as given; on update `None` leaves a field.
#[derive(Clone, Debug, Default)]
pub struct QuestionInput {
    pub text: Option<String>,
    pub kind: Option<String>,
    /// The choices of a `choice` question.
    pub choices: Option<Vec<String>>,
    pub archived: Option<bool>,
}

/// A script with its questions in order.
#[derive(Clone, Debug)]
pub struct ScriptView {
    pub script: Script,
    pub questions: Vec<Question>,
}

/// A question with the answer given on a record (if any).
#[derive(Clone, Debug)]
pub struct Answered {
    pub question: Question,
    pub answer: Option<Answer>,
}

/// Checks a question into its stored text, kind and choices.
fn check_question(
    input: &QuestionInput,
    current: Option<&Question>,
    errs: &mut Invalid,
) -> (Option<String>, Option<AnswerKind>, Option<String>) {
    let text_v = input
        .text
        .as_ref()
        .and_then(|t| errs.check("text", parse_name(t, 500)));
    let kind = input
        .kind
        .as_ref()
        .and_then(|k| errs.check("kind", k.parse::<AnswerKind>()));
    let choices = input.choices.as_ref().map(|c| {
        let list: Vec<String> = c
            .iter()
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect();
        if list.len() > 50
            || list
                .iter()
                .any(|x| x.chars().count() > 200 || x.contains('\n'))
        {
            errs.push("choices", "at most 50 choices of up to 200 characters each");
        }
        let mut d = list.clone();
        d.sort();
        d.dedup();
        if d.len() != list.len() {
            errs.push("choices", "choices must differ");
        }
        list.join("\n")
    });
    let final_kind = kind.or(current.map(|q| q.kind));
    let final_choices = choices
        .clone()
        .or(current.map(|q| q.choices.clone()))
        .unwrap_or_default();
    if final_kind == Some(AnswerKind::Choice) && final_choices.trim().is_empty() {
        errs.push("choices", "a choice question needs its choices");
    }
    (text_v, kind, choices)
}

/// Checks an answer against its question; returns the stored value.
pub fn check_answer(q: &Question, value: &str) -> std::result::Result<String, String> {
    let v = value.trim();
    match q.kind {
        AnswerKind::Text => {
            if v.chars().count() > 2000 {
                Err("must be at most 2000 characters".into())
            } else {
                Ok(v.to_string())
            }
        }
        AnswerKind::Choice => q
            .choice_list()
            .into_iter()
            .find(|c| *c == v)
            .map(str::to_string)
            .ok_or_else(|| format!("must be one of: {}", q.choice_list().join(", "))),
        AnswerKind::Number => {
            // A German decimal comma is read as the decimal point.
            let n = if v.contains(',') && !v.contains('.') {
                v.replace(',', ".")
            } else {
                v.to_string()
            };
            Decimal::from_str(&n)
                .map(|d| d.normalize().to_string())
                .map_err(|_| "must be a number".to_string())
        }
    }
}

impl App {
    pub async fn create_script(&self, actor: &Actor, input: ScriptInput) -> Result<ScriptView> {
        require(actor, Resource::Settings, Action::Create, None)?;
        let mut errs = Invalid::default();
        let name = match &input.name {
            Some(n) => errs.check("name", parse_name(n, 200)),
            None => {
                errs.push("name", "is required");
                None
            }
        };
        let description = input
            .description
            .as_ref()
            .and_then(|d| text(&mut errs, "description", d, 2000));
        let at = now();
        let script = Script {
            org_id: actor.org_id,
            id: ScriptId::new(),
            name: name.unwrap_or_default(),
            description,
            archived: input.archived.unwrap_or(false),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let mut questions = vec![];
        for (i, q) in input.questions.iter().flatten().enumerate() {
            let mut e = Invalid::default();
            if q.text.is_none() {
                e.push("text", "is required");
            }
            let (t, k, c) = check_question(q, None, &mut e);
            for f in e.0 {
                errs.push(format!("questions[{i}].{}", f.field), f.message);
            }
            questions.push(Question {
                org_id: actor.org_id,
                id: QuestionId::new(),
                script_id: script.id,
                position: i as i32 + 1,
                text: t.unwrap_or_default(),
                kind: k.unwrap_or(AnswerKind::Text),
                choices: c.unwrap_or_default(),
                archived: false,
                created_at: at,
                updated_at: at,
                version: 1,
            });
        }
        errs.into_result()?;
        let mut tx = self.db.begin().await?;
        scripts::insert_script(&mut tx, &script)
            .await
            .map_err(name_taken)?;
        for q in &questions {
            scripts::insert_question(&mut tx, q).await?;
        }
        tx.commit().await?;
        Ok(ScriptView { script, questions })
    }

    pub async fn get_script(&self, actor: &Actor, id: ScriptId) -> Result<ScriptView> {
        require(actor, Resource::Settings, Action::Read, None)?;
        let script = scripts::get_script(&mut self.conn(), actor.org_id, id).await?;
        let questions = scripts::list_questions(&mut self.conn(), actor.org_id, id).await?;
        Ok(ScriptView { script, questions })
    }

    pub async fn list_scripts(&self, actor: &Actor) -> Result<Vec<ScriptView>> {
        require(actor, Resource::Settings, Action::Read, None)?;
        let mut out = vec![];
        for script in scripts::list_scripts(&mut self.conn(), actor.org_id).await? {
            let questions =
                scripts::list_questions(&mut self.conn(), actor.org_id, script.id).await?;
            out.push(ScriptView { script, questions });
        }
        Ok(out)
    }

    pub async fn update_script(
        &self,
        actor: &Actor,
        id: ScriptId,
        if_match: Option<i64>,
        input: ScriptInput,
    ) -> Result<ScriptView> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let mut errs = Invalid::default();
        let mut ch: Vec<(&'static str, SimpleExpr)> = vec![];
        if let Some(n) = &input.name
            && let Some(n) = errs.check("name", parse_name(n, 200))
        {
            ch.push(("name", n.into()));
        }
        if let Some(d) = &input.description {
            ch.push((
                "description",
                text(&mut errs, "description", d, 2000).into(),
            ));
        }
        if let Some(a) = input.archived {
            ch.push(("archived", a.into()));
        }
        if input.questions.is_some() {
            errs.push("questions", "edit questions with /scripts/{id}/questions");
        }
        errs.into_result()?;
        scripts::update_script(&mut self.conn(), actor.org_id, id, if_match, ch, now())
            .await
            .map_err(name_taken)?;
        self.get_script(actor, id).await
    }

    /// Deletes a script nobody has answered yet and no list uses.
    pub async fn delete_script(
        &self,
        actor: &Actor,
        id: ScriptId,
        if_match: Option<i64>,
    ) -> Result<()> {
        require(actor, Resource::Settings, Action::Delete, None)?;
        let view = self.get_script(actor, id).await?;
        if if_match.is_some_and(|v| v != view.script.version) {
            return Err(AppError::Stale);
        }
        for q in &view.questions {
            if scripts::count_answers(&mut self.conn(), actor.org_id, q.id).await? > 0 {
                return Err(AppError::Conflict(
                    "the script has answers; archive it instead".into(),
                ));
            }
        }
        match scripts::delete_script(&mut self.conn(), actor.org_id, id).await {
            Err(StoreError::Reference(_)) => Err(AppError::Conflict(
                "a prospecting list uses this script; archive it instead".into(),
            )),
            r => Ok(r?),
        }
    }

    pub async fn add_question(
        &self,
        actor: &Actor,
        script: ScriptId,
        input: QuestionInput,
    ) -> Result<Question> {
        require(actor, Resource::Settings, Action::Create, None)?;
        let mut errs = Invalid::default();
        if input.text.is_none() {
            errs.push("text", "is required");
        }
        let (t, k, c) = check_question(&input, None, &mut errs);
        errs.into_result()?;
        let at = now();
        let mut tx = self.db.begin().await?;
        let view = scripts::list_questions(&mut tx, actor.org_id, script).await?;
        scripts::get_script(&mut tx, actor.org_id, script).await?;
        let q = Question {
            org_id: actor.org_id,
            id: QuestionId::new(),
            script_id: script,
            position: view.iter().map(|q| q.position).max().unwrap_or(0) + 1,
            text: t.unwrap_or_default(),
            kind: k.unwrap_or(AnswerKind::Text),
            choices: c.unwrap_or_default(),
            archived: false,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        scripts::insert_question(&mut tx, &q).await?;
        bump_version(&mut tx, "scripts", actor.org_id, script.0, at).await?;
        tx.commit().await?;
        Ok(q)
    }

    pub async fn update_question(
        &self,
        actor: &Actor,
        id: QuestionId,
        if_match: Option<i64>,
        input: QuestionInput,
    ) -> Result<Question> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let current = scripts::get_question(&mut self.conn(), actor.org_id, id).await?;
        let mut errs = Invalid::default();
        let (t, k, c) = check_question(&input, Some(&current), &mut errs);
        if k.is_some_and(|k| k != current.kind)
            && scripts::count_answers(&mut self.conn(), actor.org_id, id).await? > 0
        {
            errs.push(
                "kind",
                "the question has answers; add a new question instead",
            );
        }
        errs.into_result()?;
        let mut ch: Vec<(&'static str, SimpleExpr)> = vec![];
        if let Some(t) = t {
            ch.push(("text", t.into()));
        }
        if let Some(k) = k {
            ch.push(("kind", k.as_str().into()));
        }
        if let Some(c) = c {
            ch.push(("choices", c.into()));
        }
        if let Some(a) = input.archived {
            ch.push(("archived", a.into()));
        }
        Ok(
            scripts::update_question(&mut self.conn(), actor.org_id, id, if_match, ch, now())
                .await?,
        )
    }

    /// Deletes a question nobody has answered (archive an answered one).
    pub async fn delete_question(
        &self,
        actor: &Actor,
        id: QuestionId,
        if_match: Option<i64>,
    ) -> Result<()> {
        require(actor, Resource::Settings, Action::Delete, None)?;
        let q = scripts::get_question(&mut self.conn(), actor.org_id, id).await?;
        if if_match.is_some_and(|v| v != q.version) {
            return Err(AppError::Stale);
        }
        if scripts::count_answers(&mut self.conn(), actor.org_id, id).await? > 0 {
            return Err(AppError::Conflict(
                "the question has answers; archive it instead".into(),
            ));
        }
        Ok(scripts::delete_question(&mut self.conn(), actor.org_id, id).await?)
    }

    /// Puts a script's questions in the given order (every question once).
    pub async fn reorder_questions(
        &self,
        actor: &Actor,
        script: ScriptId,
        if_match: Option<i64>,
        order: Vec<QuestionId>,
    ) -> Result<ScriptView> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let at = now();
        let mut tx = self.db.begin().await?;
        salesops_store::orgs::lock(&mut tx, actor.org_id).await?;
        let s = scripts::get_script(&mut tx, actor.org_id, script).await?;
        if if_match.is_some_and(|v| v != s.version) {
            return Err(AppError::Stale);
        }
        let questions = scripts::list_questions(&mut tx, actor.org_id, script).await?;
        let mut given = order.clone();
        given.sort();
        given.dedup();
        let mut have: Vec<QuestionId> = questions.iter().map(|q| q.id).collect();
        have.sort();
        if given.len() != order.len() || given != have {
            return Err(AppError::Invalid(Invalid::one(
                "question_ids",
                "must list every question of the script exactly once",
            )));
        }
        for (i, id) in order.iter().enumerate() {
            let q = questions.iter().find(|q| q.id == *id).expect("checked");
            if q.position != i as i32 + 1 {
                scripts::update_question(
                    &mut tx,
                    actor.org_id,
                    *id,
                    None,
                    vec![("position", (i as i32 + 1).into())],
                    at,
                )
                .await?;
            }
        }
        bump_version(&mut tx, "scripts", actor.org_id, script.0, at).await?;
        tx.commit().await?;
        self.get_script(actor, script).await
    }

    /// The record's script answers, question by question (a prospect's
    /// answers show on the lead it became, too).
    pub async fn script_answers(
        &self,
        actor: &Actor,
        script: ScriptId,
        on: Subject,
    ) -> Result<Vec<Answered>> {
        let (prospect, lead) = self.answer_records(actor, on, false).await?;
        let view = self.get_script(actor, script).await?;
        let answers = scripts::answers(&mut self.conn(), actor.org_id, prospect, lead).await?;
        Ok(view
            .questions
            .into_iter()
            .filter_map(|q| {
                // The record's own answer wins over one carried over.
                let own = answers.iter().rev().find(|a| {
                    a.question_id == q.id
                        && match on {
                            Subject::Prospect(p) => a.prospect_id == Some(p.0),
                            Subject::Lead(l) => a.lead_id == Some(l.0),
                        }
                });
                let any = own.or_else(|| answers.iter().rev().find(|a| a.question_id == q.id));
                let answer = any.cloned();
                (!q.archived || answer.is_some()).then_some(Answered {
                    question: q,
                    answer,
                })
            })
            .collect())
    }

    /// Checks the actor may read (or, `write`, work) the record; returns the
    /// prospect and lead whose answers belong to it.
    async fn answer_records(
        &self,
        actor: &Actor,
        on: Subject,
        write: bool,
    ) -> Result<(Option<ProspectId>, Option<LeadId>)> {
        match on {
            Subject::Prospect(id) => {
                let p = self.get_prospect(actor, id).await?;
                if write && !self.may_work_prospect(actor, &p).await? {
                    return Err(AppError::Forbidden);
                }
                // The lead it became shows only to those who may see the lead.
                let lead = match p.lead_id.map(LeadId) {
                    Some(l) if self.get_lead(actor, l).await.is_ok() => Some(l),
                    _ => None,
                };
                Ok((Some(id), lead))
            }
            Subject::Lead(id) => {
                let l = self.get_lead(actor, id).await?;
                if write {
                    let t = self.owner_target(actor, l.owner_id).await?;
                    require(actor, Resource::Lead, Action::Update, Some(&t))?;
                }
                let from = salesops_store::prospecting::prospect_of_lead(
                    &mut self.conn(),
                    actor.org_id,
                    id.0,
                )
                .await?;
                Ok((from.map(|p| p.id), Some(id)))
            }
        }
    }

    /// Saves answers on a record in one transaction: an empty value removes
    /// the answer. Every answer is checked against its question first.
    pub async fn save_answers(
        &self,
        actor: &Actor,
        on: Subject,
        script: ScriptId,
        answers: Vec<(QuestionId, String)>,
    ) -> Result<()> {
        self.answer_records(actor, on, true).await?;
        let mut errs = Invalid::default();
        let mut checked = vec![];
        for (qid, value) in answers {
            let field = format!("answers.{qid}");
            match scripts::get_question(&mut self.conn(), actor.org_id, qid).await {
                Ok(q) if q.script_id != script => {
                    errs.push(field, "is not a question of this script")
                }
                Ok(q) if value.trim().is_empty() => checked.push((q.id, None)),
                Ok(q) if q.archived => errs.push(field, "the question is archived"),
                Ok(q) => match check_answer(&q, &value) {
                    Ok(v) => checked.push((q.id, Some(v))),
                    Err(m) => errs.push(field, m),
                },
                Err(StoreError::NotFound) => errs.push(field, "unknown question"),
                Err(e) => return Err(e.into()),
            }
        }
        errs.into_result()?;
        let at = now();
        let mut tx = self.db.begin().await?;
        for (q, v) in checked {
            match v {
                Some(v) => {
                    scripts::upsert_answer(&mut tx, actor.org_id, q, on, &v, actor.user_id, at)
                        .await?
                }
                None => scripts::delete_answer(&mut tx, actor.org_id, q, on).await?,
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

fn name_taken(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => {
            AppError::Invalid(Invalid::one("name", "another script has this name"))
        }
        e => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use salesops_domain::OrgId;

    fn q(kind: AnswerKind, choices: &str) -> Question {
        Question {
            org_id: OrgId::new(),
            id: QuestionId::new(),
            script_id: ScriptId::new(),
            position: 1,
            text: "?".into(),
            kind,
            choices: choices.into(),
            archived: false,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
        }
    }

    #[test]
    fn answers_are_checked_by_kind() {
        let n = q(AnswerKind::Number, "");
        assert_eq!(check_answer(&n, "12,50").unwrap(), "12.5");
        assert_eq!(check_answer(&n, " 40 ").unwrap(), "40");
        assert!(check_answer(&n, "viele").is_err());
        let c = q(AnswerKind::Choice, "Top fit\nGood fit\nBad fit");
        assert_eq!(check_answer(&c, "Good fit").unwrap(), "Good fit");
        assert!(
            check_answer(&c, "Maybe")
                .unwrap_err()
                .contains("Top fit, Good fit, Bad fit")
        );
        let t = q(AnswerKind::Text, "");
        assert_eq!(check_answer(&t, " SAP ").unwrap(), "SAP");
        assert!(check_answer(&t, &"x".repeat(2001)).is_err());
    }
}
