//! `CHECK (col IN (…))` clauses read back as a column's allowed values ([`in_checks`]).

/// The bodies of the `CHECK (…)` clauses in `text` (balanced parentheses; quotes respected).
fn check_bodies(text: &str) -> Vec<&str> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("check") {
        let start = from + at + "check".len();
        let Some(open) = text[start..].find('(').map(|o| start + o) else { break };
        if !text[start..open].trim().is_empty() {
            from = start;
            continue;
        }
        match balanced(text, open) {
            Some(close) => {
                out.push(&text[open + 1..close]);
                from = close;
            }
            None => break,
        }
    }
    out
}

/// The position of the parenthesis (or bracket) closing the one at `open`.
fn balanced(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut quoted) = (0usize, false);
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'\'' => quoted = !quoted,
            b'(' | b'[' if !quoted => depth += 1,
            b')' | b']' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `col IN (…)` checks in `text`: the column and its values as [`literal`]s. Reads SQLite's and
/// MySQL's `"col" IN ('a', 'b')` and PostgreSQL's `((col)::text = ANY ((ARRAY['a'::character
/// varying, …])::text[]))`.
pub fn in_checks(text: &str) -> Vec<(String, Vec<String>)> {
    check_bodies(text).into_iter().filter_map(in_check).collect()
}

fn in_check(body: &str) -> Option<(String, Vec<String>)> {
    let rest = body.trim_start_matches(|c: char| c == '(' || c.is_whitespace());
    let (column, after) = match rest.chars().next()? {
        q @ ('"' | '`' | '[') => {
            let close = if q == '[' { ']' } else { q };
            let end = rest[1..].find(close)? + 1;
            (rest[1..end].to_string(), &rest[end + 1..])
        }
        _ => {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            (rest[..end].to_string(), &rest[end..])
        }
    };
    let lower = after.to_ascii_lowercase();
    let list = if let Some(a) = lower.find("array[") {
        let open = a + "array".len();
        &after[open + 1..balanced(after, open)?]
    } else if let Some(at) = lower.find(" in ").or_else(|| lower.find(" in(")) {
        let open = at + after[at..].find('(')?;
        &after[open + 1..balanced(after, open)?]
    } else {
        // One value: PostgreSQL and MariaDB keep `col IN ('x')` as `col = 'x'`.
        let eq = outside_quotes(after, "=")?;
        let cast_only =
            after[..eq].chars().all(|c| matches!(c, ')' | ':' | '_') || c.is_whitespace() || c.is_alphanumeric());
        if !cast_only {
            return None;
        }
        &after[eq + 1..]
    };
    let mut values = Vec::new();
    for item in split_top_level(list) {
        let mut v = item.trim();
        let mut integer_cast = false;
        loop {
            let before = v;
            v = v.trim().trim_start_matches('(').trim_end_matches(')').trim();
            if let Some(cast) = outside_quotes(v, "::") {
                integer_cast |= v[cast..].contains("int");
                v = &v[..cast];
            }
            if v == before {
                break;
            }
        }
        let quoted = v.strip_prefix('\'').and_then(|t| t.strip_suffix('\''));
        // PostgreSQL spells a negative number in an array as a string cast to the integer type.
        if let Some(t) = quoted.filter(|t| !(integer_cast && t.parse::<i64>().is_ok())) {
            values.push(format!("'{t}'"));
        } else if let Some(t) = quoted {
            values.push(t.parse::<i64>().ok()?.to_string());
        } else {
            values.push(v.parse::<i64>().ok()?.to_string());
        }
    }
    (!column.is_empty() && !values.is_empty()).then_some((column, values))
}

/// Split at the commas outside quotes and parentheses.
fn split_top_level(list: &str) -> Vec<&str> {
    let (mut out, mut depth, mut quoted, mut start) = (Vec::new(), 0i32, false, 0);
    for (i, b) in list.bytes().enumerate() {
        match b {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            b',' if !quoted && depth == 0 => {
                out.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&list[start..]);
    out
}

/// Where `pat` first occurs outside single quotes.
fn outside_quotes(s: &str, pat: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, b) in s.bytes().enumerate() {
        if b == b'\'' {
            quoted = !quoted;
        } else if !quoted && s[i..].starts_with(pat) {
            return Some(i);
        }
    }
    None
}
