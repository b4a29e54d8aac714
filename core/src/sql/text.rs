//! Portable raw SQL: `text("SELECT … WHERE name = :n").bind("n", "ann")`, with named binds
//! rewritten to each dialect's placeholders (`?` or `$1`), so one string runs on every database.
//!
//! The scanner leaves alone what is not a bind: string literals (`'…:x…'`, with `''` and, where
//! the dialect treats backslashes as escapes, `\'`), quoted identifiers (`"…"`, `` `…` ``),
//! comments (`-- …`, `/* … */`), PostgreSQL casts (`::int`), and each dialect's own forms as its
//! [`LexicalForms`] lists them: PostgreSQL's `$$…$$`, `$tag$…$tag$`, `E'…\'…'` and nested
//! comments, MySQL's `"…\"…"` strings, `# …` comments and `--` that is a comment only before
//! whitespace, SQLite's `[…]` identifiers. A name used twice is bound twice. Write `?` or `$1` yourself and they pass through unchanged — so do not mix them with
//! named binds.
//!
//! **Portable identifiers**: `{Name}` is the identifier `Name`, quoted by the dialect
//! (`"Name"` on SQLite and PostgreSQL, `` `Name` `` on MySQL), so a mixed-case or reserved name
//! is written once for every database: `text("SELECT {TrackId} FROM {Track} WHERE {Name} = :n")`.
//! What is between the braces is the name as is (spaces, quotes and `:` included: it is quoted,
//! never spliced, and a quote character in it is doubled); `{schema}.{table}` names a table in a
//! schema. Braces inside literals and comments are left alone; `{{` is a literal `{`.

use super::{SqlWriter, Statement};
use crate::dialect::{Dialect, LexicalForms};
use crate::error::{Error, Result};
use crate::value::Value;

pub use crate::sql::ast::Text;

/// A raw SQL statement with `:name` binds and `{Name}` identifiers quoted by the dialect:
/// `text("SELECT id FROM users WHERE name = :n").bind("n", "ann")`,
/// `text("SELECT {TrackId} FROM {Track}")`.
pub fn text(sql: impl Into<String>) -> Text {
    Text { sql: sql.into(), binds: Vec::new() }
}

impl Text {
    /// Bind `value` to `:name` (a later bind of the same name replaces it).
    #[must_use]
    pub fn bind(mut self, name: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        match self.binds.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.binds.push((name.to_string(), value)),
        }
        self
    }

    /// The SQL as written.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The text with the dialect's placeholders and the values in their order.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a `:name` with no bound value, a bound name the text
    /// never uses (a typo would otherwise go unnoticed), a `{` with no `}` after it, or an
    /// identifier `{…}` the dialect refuses (empty, holding NUL, longer than its limit).
    pub fn to_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        let mut w = SqlWriter::new(dialect);
        let mut params = Vec::new();
        self.write(&mut w, &mut params)?;
        Ok(Statement { sql: w.sql, params })
    }

    /// Write the text into a statement being rendered, its binds numbered with the statement's
    /// placeholders (a text inside an expression).
    ///
    /// # Errors
    /// As [`Text::to_sql`].
    pub fn write(&self, w: &mut SqlWriter<'_>, params: &mut Vec<Value>) -> Result<()> {
        let dialect = w.dialect;
        let mut used = vec![false; self.binds.len()];
        let b = self.sql.as_bytes();
        let mut i = 0;
        let mut start = 0; // the start of the text not yet copied
        let lexer = Lexer { forms: dialect.lexical_forms(), backslash: dialect.backslash_escapes() };
        while i < b.len() {
            if let Some(end) = lexer.skip(b, i) {
                i = end;
                continue;
            }
            match b[i] {
                b'{' if b.get(i + 1) == Some(&b'{') => {
                    w.push(&self.sql[start..=i]);
                    i += 2;
                    start = i;
                }
                b'{' => {
                    let Some(len) = self.sql[i + 1..].find('}') else {
                        return Err(Error::invalid(format!(
                            "an identifier `{{…` is not closed by `}}` in {:?}",
                            self.sql
                        )));
                    };
                    w.push(&self.sql[start..i]);
                    w.ident(&self.sql[i + 1..i + 1 + len])?;
                    i += len + 2;
                    start = i;
                }
                b':' if b.get(i + 1) == Some(&b':') => i += 2,
                b':' if b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') => {
                    let name_start = i + 1;
                    let mut j = name_start;
                    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                        j += 1;
                    }
                    let name = &self.sql[name_start..j];
                    let Some(k) = self.binds.iter().position(|(n, _)| n == name) else {
                        return Err(Error::invalid(format!("no value bound for :{name} in {:?}", self.sql)));
                    };
                    used[k] = true;
                    w.push(&self.sql[start..i]);
                    w.placeholder();
                    params.push(self.binds[k].1.clone());
                    i = j;
                    start = j;
                }
                _ => i += 1,
            }
        }
        w.push(&self.sql[start.min(self.sql.len())..]);
        if let Some(k) = used.iter().position(|u| !u) {
            return Err(Error::invalid(format!("bound :{} is not used in {:?}", self.binds[k].0, self.sql)));
        }
        Ok(())
    }

    /// Whether the statement returns rows (it starts with SELECT, WITH, VALUES, SHOW, EXPLAIN or
    /// PRAGMA, or has a RETURNING clause), read from its first word: how `Session::execute`
    /// decides between reading rows and counting affected ones.
    pub fn returns_rows(&self) -> bool {
        let first = self.sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
        ["SELECT", "WITH", "VALUES", "SHOW", "EXPLAIN", "PRAGMA"].iter().any(|k| first.eq_ignore_ascii_case(k))
            || self.sql.to_ascii_uppercase().contains(" RETURNING ")
    }
}

/// Reads past the literals and comments of one dialect's SQL.
struct Lexer {
    forms: LexicalForms,
    /// A backslash escapes inside `'…'` (and `"…"` strings).
    backslash: bool,
}

/// A byte that continues an identifier (PostgreSQL and MySQL allow `$` in one; any non-ASCII byte
/// is part of a letter).
fn ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

impl Lexer {
    /// When a literal, quoted identifier or comment starts at `i`, the index just after it (the
    /// end of the text when it is not closed).
    fn skip(&self, b: &[u8], i: usize) -> Option<usize> {
        let f = &self.forms;
        let after_ident = i > 0 && ident_byte(b[i - 1]);
        let next = b.get(i + 1).copied();
        match b[i] {
            b'\'' => Some(quoted(b, i + 1, b'\'', self.backslash)),
            b'"' if f.double_quoted_strings => Some(quoted(b, i + 1, b'"', self.backslash)),
            q @ (b'"' | b'`') => Some(quoted(b, i + 1, q, false)),
            b'[' if f.bracket_identifiers => {
                Some(b[i..].iter().position(|&c| c == b']').map_or(b.len(), |k| i + k + 1))
            }
            b'E' | b'e' if f.escape_strings && !after_ident && next == Some(b'\'') => {
                Some(quoted(b, i + 2, b'\'', true))
            }
            b'$' if f.dollar_quoted_strings && !after_ident => dollar_quoted(b, i),
            b'#' if f.hash_comments => Some(line_end(b, i)),
            b'-' if next == Some(b'-')
                && (!f.dash_comment_needs_space
                    || b.get(i + 2).is_none_or(|c| c.is_ascii_whitespace() || c.is_ascii_control())) =>
            {
                Some(line_end(b, i))
            }
            b'/' if next == Some(b'*') => Some(block_comment(b, i, f.nested_block_comments)),
            _ => None,
        }
    }
}

/// The index after the quote closing a literal whose text starts at `i` (`qq` doubled is the
/// quote itself; with `backslash`, `\\x` is an escaped character).
fn quoted(b: &[u8], mut i: usize, q: u8, backslash: bool) -> usize {
    while i < b.len() {
        if backslash && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// `$tag$…$tag$` (PostgreSQL) starting at `i`; `None` when the `$` opens no dollar quote (`$1`).
fn dollar_quoted(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
        j += 1;
    }
    if b.get(j) != Some(&b'$') || b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let tag = &b[i..=j];
    let body = j + 1;
    Some(b[body..].windows(tag.len()).position(|w| w == tag).map_or(b.len(), |k| body + k + tag.len()))
}

/// The end of the line from `i` (the newline is left to the caller).
fn line_end(b: &[u8], i: usize) -> usize {
    b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |k| i + k)
}

/// The index after the `*/` closing the comment opened at `i`; with `nested`, each inner `/*`
/// needs its own `*/`.
fn block_comment(b: &[u8], i: usize, nested: bool) -> usize {
    let mut depth = 1;
    let mut j = i + 2;
    while j < b.len() {
        if nested && b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
            depth += 1;
            j += 2;
        } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return j;
            }
        } else {
            j += 1;
        }
    }
    b.len()
}
