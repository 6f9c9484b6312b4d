//! Sales scripts: ordered questions, and the answers given on calls, stored
//! on the prospect or the lead.

use crate::db::{Conn, Result, Table, delete_by_id, get_by_id, update_versioned};
use chrono::{DateTime, Utc};
use salesops_domain::{
    AnswerId, AnswerKind, LeadId, OrgId, ProspectId, QuestionId, ScriptId, UserId,
};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query, SimpleExpr};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Script {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: ScriptId,
    pub name: String,
    pub description: Option<String>,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const SCRIPT_COLS: [&str; 8] = [
    "org_id",
    "id",
    "name",
    "description",
    "archived",
    "created_at",
    "updated_at",
    "version",
];
const SCRIPTS: Table = Table {
    name: "scripts",
    cols: &SCRIPT_COLS,
};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Question {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: QuestionId,
    #[sqlx(try_from = "Uuid")]
    pub script_id: ScriptId,
    pub position: i32,
    pub text: String,
    #[sqlx(try_from = "String")]
    pub kind: AnswerKind,
    /// The choices of a `choice` question, one per line.
    pub choices: String,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Question {
    pub fn choice_list(&self) -> Vec<&str> {
        self.choices
            .lines()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    }
}

const QUESTION_COLS: [&str; 11] = [
    "org_id",
    "id",
    "script_id",
    "position",
    "text",
    "kind",
    "choices",
    "archived",
    "created_at",
    "updated_at",
    "version",
];
const QUESTIONS: Table = Table {
    name: "script_questions",
    cols: &QUESTION_COLS,
};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Answer {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: AnswerId,
    #[sqlx(try_from = "Uuid")]
    pub question_id: QuestionId,
    pub prospect_id: Option<Uuid>,
    pub lead_id: Option<Uuid>,
    pub value: String,
    #[sqlx(try_from = "Uuid")]
    pub answered_by: UserId,
    pub answered_at: DateTime<Utc>,
}

const ANSWER_COLS: [&str; 8] = [
    "org_id",
    "id",
    "question_id",
    "prospect_id",
    "lead_id",
    "value",
    "answered_by",
    "answered_at",
];

pub async fn insert_script(c: &mut impl Conn, s: &Script) -> Result<()> {
    let q = Query::insert()
        .into_table("scripts")
        .columns(SCRIPT_COLS)
        .values_panic([
            s.org_id.0.into(),
            s.id.0.into(),
            s.name.clone().into(),
            s.description.clone().into(),
            s.archived.into(),
            s.created_at.into(),
            s.updated_at.into(),
            s.version.into(),
        ])
        .to_owned();
    c.exec(&q).await.map(|_| ())
}

pub async fn get_script(c: &mut impl Conn, org: OrgId, id: ScriptId) -> Result<Script> {
    get_by_id(c, &SCRIPTS, org, id.0).await
}

pub async fn list_scripts(c: &mut impl Conn, org: OrgId) -> Result<Vec<Script>> {
    let q = Query::select()
        .columns(SCRIPT_COLS)
        .from("scripts")
        .and_where(Expr::col("org_id").eq(org.0))
        .order_by("name", Order::Asc)
        .to_owned();
    c.all(&q).await
}

pub async fn update_script(
    c: &mut impl Conn,
    org: OrgId,
    id: ScriptId,
    expected: Option<i64>,
    changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<Script> {
    update_versioned(c, &SCRIPTS, org, id.0, expected, changes, at).await
}

pub async fn delete_script(c: &mut impl Conn, org: OrgId, id: ScriptId) -> Result<()> {
    delete_by_id(c, "scripts", org, id.0).await
}

pub async fn insert_question(c: &mut impl Conn, x: &Question) -> Result<()> {
    let q = Query::insert()
        .into_table("script_questions")
        .columns(QUESTION_COLS)
        .values_panic([
            x.org_id.0.into(),
            x.id.0.into(),
            x.script_id.0.into(),
            x.position.into(),
            x.text.clone().into(),
            x.kind.as_str().into(),
            x.choices.clone().into(),
            x.archived.into(),
            x.created_at.into(),
            x.updated_at.into(),
            x.version.into(),
        ])
        .to_owned();
    c.exec(&q).await.map(|_| ())
}

pub async fn get_question(c: &mut impl Conn, org: OrgId, id: QuestionId) -> Result<Question> {
    get_by_id(c, &QUESTIONS, org, id.0).await
}

/// A script's questions in order (archived ones too).
pub async fn list_questions(
    c: &mut impl Conn,
    org: OrgId,
    script: ScriptId,
) -> Result<Vec<Question>> {
    let q = Query::select()
        .columns(QUESTION_COLS)
        .from("script_questions")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("script_id").eq(script.0))
        .order_by("position", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned();
    c.all(&q).await
}

pub async fn update_question(
    c: &mut impl Conn,
    org: OrgId,
    id: QuestionId,
    expected: Option<i64>,
    changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<Question> {
    update_versioned(c, &QUESTIONS, org, id.0, expected, changes, at).await
}

pub async fn delete_question(c: &mut impl Conn, org: OrgId, id: QuestionId) -> Result<()> {
    delete_by_id(c, "script_questions", org, id.0).await
}

/// How many answers a question has been given.
pub async fn count_answers(c: &mut impl Conn, org: OrgId, question: QuestionId) -> Result<i64> {
    let q = Query::select()
        .expr_as(Expr::col("id").count(), "n")
        .from("script_answers")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("question_id").eq(question.0))
        .to_owned();
    Ok(c.one::<crate::db::Count>(&q).await?.n)
}

/// The record an answer is given on.
#[derive(Clone, Copy, Debug)]
pub enum Subject {
    Prospect(ProspectId),
    Lead(LeadId),
}

impl Subject {
    fn col(self) -> (&'static str, Uuid) {
        match self {
            Subject::Prospect(p) => ("prospect_id", p.0),
            Subject::Lead(l) => ("lead_id", l.0),
        }
    }
}

/// Saves (or replaces) the answer to a question on a record.
pub async fn upsert_answer(
    c: &mut impl Conn,
    org: OrgId,
    question: QuestionId,
    on: Subject,
    value: &str,
    by: UserId,
    at: DateTime<Utc>,
) -> Result<()> {
    let (col, _) = on.col();
    let (prospect, lead) = match on {
        Subject::Prospect(p) => (Some(p.0), None),
        Subject::Lead(l) => (None, Some(l.0)),
    };
    let q = Query::insert()
        .into_table("script_answers")
        .columns(ANSWER_COLS)
        .values_panic([
            org.0.into(),
            AnswerId::new().0.into(),
            question.0.into(),
            prospect.into(),
            lead.into(),
            value.into(),
            by.0.into(),
            at.into(),
        ])
        .on_conflict(
            OnConflict::columns(["org_id", "question_id", col])
                .update_columns(["value", "answered_by", "answered_at"])
                .to_owned(),
        )
        .to_owned();
    c.exec(&q).await.map(|_| ())
}

/// Removes the answer to a question on a record (an emptied field).
pub async fn delete_answer(
    c: &mut impl Conn,
    org: OrgId,
    question: QuestionId,
    on: Subject,
) -> Result<()> {
    let (col, id) = on.col();
    let q = Query::delete()
        .from_table("script_answers")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("question_id").eq(question.0))
        .and_where(Expr::col(col).eq(id))
        .to_owned();
    c.exec(&q).await.map(|_| ())
}

/// The answers given on records (any of the prospects or leads listed).
pub async fn answers(
    c: &mut impl Conn,
    org: OrgId,
    prospect: Option<ProspectId>,
    lead: Option<LeadId>,
) -> Result<Vec<Answer>> {
    let mut any = sea_query::Cond::any();
    if let Some(p) = prospect {
        any = any.add(Expr::col("prospect_id").eq(p.0));
    }
    if let Some(l) = lead {
        any = any.add(Expr::col("lead_id").eq(l.0));
    }
    if prospect.is_none() && lead.is_none() {
        return Ok(vec![]);
    }
    let q = Query::select()
        .columns(ANSWER_COLS)
        .from("script_answers")
        .and_where(Expr::col("org_id").eq(org.0))
        .cond_where(any)
        .order_by("answered_at", Order::Asc)
        .to_owned();
    c.all(&q).await
}
