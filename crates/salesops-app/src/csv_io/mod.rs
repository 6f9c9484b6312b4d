//! CSV import and export of companies, contacts, leads, prospects and
//! activities.
//!
//! Files are UTF-8, with or without a byte-order mark, separated by `,` or
//! `;` (sniffed from the header line). `;` files are German Excel files:
//! their amounts use decimal commas ("30.000,00"). Headers are mapped to
//! fields by their English or German names, unless the caller maps them.

mod export;
mod import;
mod jobs;

pub use export::{ExportOptions, ExportSink};
pub use import::{ImportOptions, MAX_REPORTED_ERRORS, Phase, Progress, Report, RowError};
pub use jobs::job_report;
pub use salesops_store::imports::ImportJob;

use std::collections::BTreeMap;

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Companies,
    Contacts,
    Leads,
    Prospects,
    Activities,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Companies,
        Kind::Contacts,
        Kind::Leads,
        Kind::Prospects,
        Kind::Activities,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Companies => "companies",
            Kind::Contacts => "contacts",
            Kind::Leads => "leads",
            Kind::Prospects => "prospects",
            Kind::Activities => "activities",
        }
    }

    /// The fields a file of this kind may hold, in export order.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Kind::Companies => COMPANY_FIELDS,
            Kind::Contacts => CONTACT_FIELDS,
            Kind::Leads => LEAD_FIELDS,
            Kind::Prospects => PROSPECT_FIELDS,
            Kind::Activities => ACTIVITY_FIELDS,
        }
    }

    /// The field an (auto-mapped) header stands for.
    pub fn field_for_header(self, header: &str) -> Option<&'static str> {
        let h = normalize(header);
        if h.is_empty() {
            return None;
        }
        self.fields()
            .iter()
            .find(|f| normalize(f.name) == h || f.synonyms.contains(&h.as_str()))
            .map(|f| f.name)
    }

    fn field_index(self, name: &str) -> Option<usize> {
        self.fields().iter().position(|f| f.name == name)
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim().to_lowercase())
            .ok_or_else(|| {
                format!(
                    "unknown kind {s:?}: one of companies, contacts, leads, prospects, activities"
                )
            })
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field of an import: its name (also the export header), whether a file
/// must have it, and the normalised header names that map to it.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub required: bool,
    synonyms: &'static [&'static str],
}

const fn f(name: &'static str, synonyms: &'static [&'static str]) -> Field {
    Field {
        name,
        required: false,
        synonyms,
    }
}

const fn req(name: &'static str, synonyms: &'static [&'static str]) -> Field {
    Field {
        name,
        required: true,
        synonyms,
    }
}

const EXTERNAL_ID: Field = f(
    "external_id",
    &[
        "externalid",
        "externeid",
        "extid",
        "externereferenz",
        "referenz",
        "reference",
    ],
);
const OWNER: Field = f(
    "owner_email",
    &[
        "owner",
        "ownermail",
        "verantwortlich",
        "verantwortlicher",
        "besitzer",
        "betreuer",
    ],
);
const PHONE: Field = f(
    "phone",
    &[
        "telephone",
        "tel",
        "telefon",
        "telefonnummer",
        "phonenumber",
    ],
);
const EMAIL: Field = f("email", &["mail", "emailadresse", "mailadresse"]);
const WEBSITE: Field = f(
    "website",
    &[
        "web",
        "url",
        "webseite",
        "homepage",
        "internet",
        "internetseite",
    ],
);
const POSTCODE: Field = f(
    "postcode",
    &["zip", "zipcode", "postalcode", "plz", "postleitzahl"],
);
const CITY: Field = f("city", &["town", "ort", "stadt"]);
const COUNTRY: Field = f("country", &["land"]);
const INDUSTRY: Field = f("industry", &["branche", "sector"]);
const NOTES: Field = f(
    "notes",
    &[
        "note",
        "notiz",
        "notizen",
        "bemerkung",
        "bemerkungen",
        "kommentar",
    ],
);
const CURRENCY: Field = f("currency", &["währung", "waehrung", "wahrung"]);
const JOB_TITLE: Field = f(
    "job_title",
    &["position", "funktion", "jobbezeichnung", "rolle"],
);
const COMPANY_REF: Field = f(
    "company",
    &[
        "firma",
        "unternehmen",
        "account",
        "companyname",
        "firmenname",
    ],
);

static COMPANY_FIELDS: &[Field] = &[
    EXTERNAL_ID,
    req(
        "name",
        &[
            "company",
            "companyname",
            "firma",
            "unternehmen",
            "firmenname",
        ],
    ),
    INDUSTRY,
    f(
        "size_band",
        &[
            "size",
            "companysize",
            "größe",
            "grösse",
            "mitarbeiter",
            "unternehmensgröße",
        ],
    ),
    COUNTRY,
    f("region", &["bundesland", "state"]),
    POSTCODE,
    CITY,
    WEBSITE,
    PHONE,
    f("problems", &["probleme", "pains", "herausforderungen"]),
    f(
        "value",
        &["amount", "betrag", "wert", "potential", "potenzial"],
    ),
    CURRENCY,
    OWNER,
];

static CONTACT_FIELDS: &[Field] = &[
    EXTERNAL_ID,
    req(
        "name",
        &[
            "contact",
            "contactname",
            "kontakt",
            "ansprechpartner",
            "vollername",
            "fullname",
        ],
    ),
    COMPANY_REF,
    JOB_TITLE,
    EMAIL,
    PHONE,
    NOTES,
    OWNER,
];

static LEAD_FIELDS: &[Field] = &[
    EXTERNAL_ID,
    req(
        "title",
        &[
            "titel",
            "lead",
            "name",
            "bezeichnung",
            "opportunity",
            "deal",
        ],
    ),
    f("pipeline", &[]),
    f("stage", &["phase", "stufe"]),
    f(
        "amount",
        &["betrag", "value", "wert", "volumen", "auftragswert"],
    ),
    CURRENCY,
    f("probability", &["wahrscheinlichkeit"]),
    f(
        "expected_close_date",
        &[
            "closedate",
            "expectedclose",
            "abschlussdatum",
            "erwarteterabschluss",
        ],
    ),
    OWNER,
    COMPANY_REF,
    f("contact", &["kontakt", "ansprechpartner"]),
    f("source", &["quelle", "leadquelle"]),
    f("campaign", &["kampagne"]),
    f(
        "forecast_category",
        &["forecast", "prognose", "prognosekategorie"],
    ),
    f("next_step_date", &["nextstep", "nächsterschritt"]),
];

static PROSPECT_FIELDS: &[Field] = &[
    EXTERNAL_ID,
    f(
        "company_name",
        &["company", "firma", "unternehmen", "firmenname"],
    ),
    f(
        "contact_name",
        &["contact", "name", "kontakt", "ansprechpartner"],
    ),
    JOB_TITLE,
    PHONE,
    EMAIL,
    WEBSITE,
    CITY,
    POSTCODE,
    COUNTRY,
    INDUSTRY,
    NOTES,
    f(
        "assigned_to",
        &[
            "assignee",
            "assignedtoemail",
            "rep",
            "zugewiesen",
            "bearbeiter",
        ],
    ),
];

static ACTIVITY_FIELDS: &[Field] = &[
    EXTERNAL_ID,
    req(
        "type",
        &["activitytype", "typ", "art", "aktivität", "aktivitätstyp"],
    ),
    f("outcome", &["result", "ergebnis"]),
    f("happened_at", &["date", "datum", "when", "zeitpunkt", "am"]),
    f("due_at", &["due", "fällig", "fälligam"]),
    f("duration_minutes", &["duration", "dauer", "minuten"]),
    NOTES,
    f("lead", &[]),
    f("company", &["firma", "unternehmen"]),
    f("contact", &["kontakt", "ansprechpartner"]),
    f("prospect", &["interessent"]),
    f("user_email", &["user", "benutzer", "mitarbeiter"]),
];

/// Lower case, letters and digits only: "E-Mail" and "email" are one name.
fn normalize(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Column header → field name, or `None` to ignore the column.
pub type Mapping = BTreeMap<String, Option<String>>;

/// A problem with the file as a whole: nothing of it is read further.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    /// The row (header = 1) where it was found, when it has one.
    pub row: Option<u64>,
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(r) = self.row {
            write!(f, "row {r}: ")?;
        }
        if let Some(c) = &self.column {
            write!(f, "column {c:?}: ")?;
        }
        f.write_str(&self.message)
    }
}

fn file_error(row: Option<u64>, message: impl Into<String>) -> FileError {
    FileError {
        row,
        column: None,
        message: message.into(),
    }
}

/// Strips a leading UTF-8 byte-order mark.
pub fn strip_bom(data: &[u8]) -> &[u8] {
    data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data)
}

/// The separator of a file: `;` when its header line has more semicolons
/// than commas (outside quotes), else `,`.
pub fn sniff_delimiter(data: &[u8]) -> u8 {
    let (mut commas, mut semis, mut quoted) = (0, 0, false);
    for &b in data {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semis += 1,
            _ => {}
        }
    }
    if semis > commas { b';' } else { b',' }
}

/// A parsed CSV file: its separator, its headers and which field each column
/// is mapped to.
#[derive(Clone, Debug)]
pub struct CsvFile<'a> {
    data: &'a [u8],
    pub kind: Kind,
    pub delimiter: u8,
    pub headers: Vec<String>,
    /// Per column: the index of its field in `kind.fields()`.
    pub columns: Vec<Option<usize>>,
}

impl<'a> CsvFile<'a> {
    /// Reads the header line and maps the columns: the explicit `mapping`
    /// first, then the auto-mapping by name. Fails when a required field has
    /// no column, a field has two, or the header is not UTF-8.
    pub fn open(data: &'a [u8], kind: Kind, mapping: &Mapping) -> Result<CsvFile<'a>, FileError> {
        let data = strip_bom(data);
        let delimiter = sniff_delimiter(data);
        let mut r = reader(data, delimiter);
        let mut rec = csv::ByteRecord::new();
        let got = r.read_byte_record(&mut rec).map_err(|e| {
            file_error(Some(1), format!("the file is not a readable CSV file: {e}"))
        })?;
        if !got || rec.iter().all(|h| h.iter().all(u8::is_ascii_whitespace)) {
            return Err(file_error(None, "the file is empty: it needs a header row"));
        }
        let mut headers = vec![];
        for h in rec.iter() {
            let h = std::str::from_utf8(h).map_err(|_| not_utf8(1))?;
            headers.push(h.trim().to_string());
        }
        let mut columns = vec![];
        for h in &headers {
            let field = match mapping.get(h) {
                Some(None) => None,
                Some(Some(name)) => Some(kind.field_index(name).ok_or_else(|| FileError {
                    row: Some(1),
                    column: Some(h.clone()),
                    message: format!("is mapped to {name:?}, which is not a field of {kind}"),
                })?),
                None => kind.field_for_header(h).and_then(|n| kind.field_index(n)),
            };
            if let Some(i) = field
                && columns.contains(&Some(i))
            {
                return Err(FileError {
                    row: Some(1),
                    column: Some(h.clone()),
                    message: format!(
                        "field {:?} has two columns; map one of them to another field or ignore it",
                        kind.fields()[i].name
                    ),
                });
            }
            columns.push(field);
        }
        for (i, fd) in kind.fields().iter().enumerate() {
            if fd.required && !columns.contains(&Some(i)) {
                return Err(FileError {
                    row: Some(1),
                    column: Some(fd.name.to_string()),
                    message: format!("the required column {:?} is missing", fd.name),
                });
            }
        }
        Ok(CsvFile {
            data,
            kind,
            delimiter,
            headers,
            columns,
        })
    }

    /// `;` files come from German Excel: decimal commas.
    pub fn german(&self) -> bool {
        self.delimiter == b';'
    }

    /// The header of the column holding `field`, else the field's name.
    pub fn header_of(&self, field: &str) -> String {
        self.kind
            .field_index(field)
            .and_then(|i| self.columns.iter().position(|c| *c == Some(i)))
            .map(|c| self.headers[c].clone())
            .unwrap_or_else(|| field.to_string())
    }

    /// Is `field` mapped to a column?
    pub fn has(&self, field: &str) -> bool {
        self.kind
            .field_index(field)
            .is_some_and(|i| self.columns.contains(&Some(i)))
    }

    /// The data rows, each with its row number (header = 1) and its values
    /// by field index (blank is `None`). Stops at the first row that is not
    /// UTF-8 or not CSV.
    pub fn rows(&self) -> impl Iterator<Item = Result<Row, FileError>> + '_ {
        let mut r = reader(self.data, self.delimiter);
        let mut rec = csv::ByteRecord::new();
        let mut n: u64 = 0;
        let mut failed = false;
        std::iter::from_fn(move || {
            if failed {
                return None;
            }
            loop {
                n += 1;
                match r.read_byte_record(&mut rec) {
                    Ok(false) => return None,
                    Err(e) => {
                        failed = true;
                        return Some(Err(file_error(
                            Some(n),
                            format!("the file is not a readable CSV file: {e}"),
                        )));
                    }
                    Ok(true) if n == 1 => continue,
                    Ok(true) => {
                        if rec.iter().all(|v| v.iter().all(u8::is_ascii_whitespace)) {
                            continue;
                        }
                        let mut values = vec![None; self.kind.fields().len()];
                        for (col, v) in rec.iter().enumerate() {
                            let Ok(v) = std::str::from_utf8(v) else {
                                failed = true;
                                return Some(Err(not_utf8(rec.position().map_or(n, |p| p.line()))));
                            };
                            if let Some(Some(i)) = self.columns.get(col) {
                                let v = v.trim();
                                if !v.is_empty() {
                                    values[*i] = Some(v.to_string());
                                }
                            }
                        }
                        let row = rec.position().map_or(n, |p| p.line());
                        return Some(Ok(Row { row, values }));
                    }
                }
            }
        })
    }

    /// The first `n` data rows as text, for a preview.
    pub fn preview(&self, n: usize) -> Vec<Vec<String>> {
        let mut r = reader(self.data, self.delimiter);
        r.byte_records()
            .skip(1)
            .take(n)
            .filter_map(|x| x.ok())
            .map(|rec| {
                rec.iter()
                    .map(|v| String::from_utf8_lossy(v).trim().to_string())
                    .collect()
            })
            .collect()
    }
}

fn not_utf8(row: u64) -> FileError {
    file_error(
        Some(row),
        "the file is not UTF-8 encoded text; save it as \"CSV UTF-8\" and upload it again",
    )
}

fn reader(data: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(data)
}

/// One data row: its number in the file (header = 1) and its values by field.
#[derive(Clone, Debug)]
pub struct Row {
    pub row: u64,
    values: Vec<Option<String>>,
}

/// Checks a file and shows its columns, their auto-mapping and its first rows
/// (the mapping step of the UI). The mapping is checked later, on import.
#[derive(Clone, Debug)]
pub struct Preview {
    pub headers: Vec<String>,
    /// Per column: the field it maps to by name.
    pub mapped: Vec<Option<&'static str>>,
    pub rows: Vec<Vec<String>>,
    pub delimiter: char,
}

pub fn preview(data: &[u8], kind: Kind, rows: usize) -> Result<Preview, FileError> {
    // Open with every column ignored, so a missing column is no error yet.
    let data = strip_bom(data);
    let delimiter = sniff_delimiter(data);
    let mut r = reader(data, delimiter);
    let mut rec = csv::ByteRecord::new();
    if !r
        .read_byte_record(&mut rec)
        .map_err(|e| file_error(Some(1), format!("the file is not a readable CSV file: {e}")))?
    {
        return Err(file_error(None, "the file is empty: it needs a header row"));
    }
    let mut headers = vec![];
    for h in rec.iter() {
        headers.push(
            std::str::from_utf8(h)
                .map_err(|_| not_utf8(1))?
                .trim()
                .to_string(),
        );
    }
    let mut mapped: Vec<Option<&'static str>> = vec![];
    for h in &headers {
        let m = kind
            .field_for_header(h)
            .filter(|m| !mapped.contains(&Some(m)));
        mapped.push(m);
    }
    let file = CsvFile {
        data,
        kind,
        delimiter,
        headers: headers.clone(),
        columns: vec![None; headers.len()],
    };
    Ok(Preview {
        rows: file.preview(rows),
        headers,
        mapped,
        delimiter: delimiter as char,
    })
}

impl crate::App {
    /// The user a command-line import or export acts as: the one with this
    /// e-mail, else the first active admin of the default organisation.
    pub async fn command_line_actor(&self, email: Option<&str>) -> crate::Result<crate::Actor> {
        use salesops_store::users;
        let org = self.default_org().await?;
        let user = match email {
            Some(e) => users::by_email(&mut self.conn(), org.id, &e.trim().to_lowercase())
                .await?
                .filter(|u| u.active)
                .ok_or_else(|| {
                    crate::AppError::Invalid(salesops_domain::Invalid::one(
                        "as",
                        format!("no active user has the e-mail address {e}"),
                    ))
                })?,
            None => {
                let f = users::Filter {
                    role: Some(salesops_domain::Role::Admin),
                    active: Some(true),
                    ..Default::default()
                };
                users::list(&mut self.conn(), org.id, &f, None, 1)
                    .await?
                    .into_iter()
                    .next()
                    .ok_or_else(|| {
                        crate::AppError::Invalid(salesops_domain::Invalid::one(
                            "as",
                            "the organisation has no active admin; name a user with --as",
                        ))
                    })?
            }
        };
        self.actor(org.id, user.id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_separator_from_the_header_line() {
        assert_eq!(sniff_delimiter(b"Firma;Ort;PLZ\nA,B;C;D"), b';');
        assert_eq!(sniff_delimiter(b"name,city\nx;y;z;w,v"), b',');
        assert_eq!(sniff_delimiter(b"\"a;b\",c\n"), b',');
        assert_eq!(sniff_delimiter(b"name\n"), b',');
    }

    #[test]
    fn strips_a_byte_order_mark() {
        let f = CsvFile::open(
            b"\xEF\xBB\xBFname;Ort\nA;Berlin\n",
            Kind::Companies,
            &Mapping::new(),
        )
        .unwrap();
        assert_eq!(f.headers, ["name", "Ort"]);
        assert!(f.german());
        let rows: Vec<Row> = f.rows().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].values[1].as_deref(), Some("A"));
    }

    #[test]
    fn maps_english_and_german_headers() {
        let k = Kind::Companies;
        assert_eq!(k.field_for_header("Firma"), Some("name"));
        assert_eq!(k.field_for_header("Unternehmen"), Some("name"));
        assert_eq!(k.field_for_header("PLZ"), Some("postcode"));
        assert_eq!(k.field_for_header("Stadt"), Some("city"));
        assert_eq!(k.field_for_header("Ort"), Some("city"));
        assert_eq!(k.field_for_header("Telefon"), Some("phone"));
        assert_eq!(k.field_for_header("Währung"), Some("currency"));
        assert_eq!(k.field_for_header("Betrag"), Some("value"));
        assert_eq!(k.field_for_header("External ID"), Some("external_id"));
        assert_eq!(k.field_for_header("Shoe size"), None);
        assert_eq!(Kind::Contacts.field_for_header("E-Mail"), Some("email"));
        assert_eq!(Kind::Leads.field_for_header("Betrag"), Some("amount"));
        for kind in Kind::ALL {
            for fd in kind.fields() {
                assert_eq!(
                    kind.field_for_header(fd.name),
                    Some(fd.name),
                    "{kind} {}",
                    fd.name
                );
            }
        }
    }

    #[test]
    fn an_explicit_mapping_overrides_the_names() {
        let mut m = Mapping::new();
        m.insert("Kunde".into(), Some("name".into()));
        m.insert("Ort".into(), None);
        let f = CsvFile::open(b"Kunde,Ort\nA,B\n", Kind::Companies, &m).unwrap();
        assert_eq!(f.columns, [Some(1), None]);
        assert_eq!(f.header_of("name"), "Kunde");
        m.insert("Ort".into(), Some("colour".into()));
        let e = CsvFile::open(b"Kunde,Ort\nA,B\n", Kind::Companies, &m).unwrap_err();
        assert_eq!(e.column.as_deref(), Some("Ort"));
    }

    #[test]
    fn a_missing_required_column_is_one_error() {
        let e =
            CsvFile::open(b"city,phone\nBerlin,1\n", Kind::Companies, &Mapping::new()).unwrap_err();
        assert_eq!(e.row, Some(1));
        assert_eq!(e.column.as_deref(), Some("name"));
        assert!(e.message.contains("required column"), "{e}");
        let e = CsvFile::open(b"name,Firma\nA,B\n", Kind::Companies, &Mapping::new()).unwrap_err();
        assert!(e.message.contains("two columns"), "{e}");
    }

    #[test]
    fn broken_encoding_names_the_row() {
        let f = CsvFile::open(
            b"name,city\nA,Berlin\nB,M\xfcnchen\n",
            Kind::Companies,
            &Mapping::new(),
        )
        .unwrap();
        let rows: Vec<_> = f.rows().collect();
        assert!(rows[0].is_ok());
        let e = rows[1].clone().unwrap_err();
        assert_eq!(e.row, Some(3));
        assert!(e.message.contains("UTF-8"));
        assert_eq!(rows.len(), 2);
        let e = CsvFile::open(b"n\xe4me\nA\n", Kind::Companies, &Mapping::new()).unwrap_err();
        assert_eq!(e.row, Some(1));
    }

    #[test]
    fn quoted_values_and_blank_lines() {
        let f = CsvFile::open(
            b"name;problems\n\"Acme; Co\";\"two\nlines\"\n\n;\nB;\n",
            Kind::Companies,
            &Mapping::new(),
        )
        .unwrap();
        let rows: Vec<Row> = f.rows().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].values[1].as_deref(), Some("Acme; Co"));
        assert_eq!(rows[0].values[10].as_deref(), Some("two\nlines"));
        // Rows are numbered by the line they start on.
        assert_eq!(rows[1].row, 6);
    }

    #[test]
    fn previews_columns_and_rows() {
        let p = preview(b"Firma;Ort;Sonstiges\nA;Berlin;x\n", Kind::Companies, 5).unwrap();
        assert_eq!(p.mapped, [Some("name"), Some("city"), None]);
        assert_eq!(p.rows, [vec!["A", "Berlin", "x"]]);
        assert_eq!(p.delimiter, ';');
    }
}
