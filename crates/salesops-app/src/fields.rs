//! Field checks shared by the use cases.

use salesops_domain::Invalid;

/// A trimmed optional text of at most `max` characters; blank is `None`.
pub(crate) fn text(
    errs: &mut Invalid,
    field: &str,
    v: &Option<String>,
    max: usize,
) -> Option<String> {
    let t = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if t.chars().count() > max {
        errs.push(field, format!("must be at most {max} characters"));
        return None;
    }
    Some(t.to_string())
}

/// A colour such as `#3f7fbf`, lower-cased.
pub(crate) fn colour(c: &str) -> Result<String, &'static str> {
    let c = c.trim();
    if c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit()) {
        Ok(c.to_lowercase())
    } else {
        Err("must be a colour like #3f7fbf")
    }
}
