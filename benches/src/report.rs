//! The results: a Markdown table of medians and ratios, and the JSON file.

use crate::harness::Workload;
use std::fmt::Write as _;
use std::time::Duration;

/// The medians of one workload at one size on one database.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `sqlite`, `postgres` or `mysql`.
    pub backend: String,
    /// The workload.
    pub workload: Workload,
    /// N.
    pub n: usize,
    /// Timed repetitions behind each median.
    pub reps: usize,
    /// Athanor's median.
    pub athanor: Option<Duration>,
    /// The raw driver's median.
    pub raw: Option<Duration>,
    /// Diesel's median.
    pub diesel: Option<Duration>,
    /// The statements Athanor sent in one run (BEGIN, queries, COMMIT/ROLLBACK …).
    pub athanor_statements: Option<u64>,
}

fn ratio(a: Option<Duration>, b: Option<Duration>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if !b.is_zero() => Some(a.as_secs_f64() / b.as_secs_f64()),
        _ => None,
    }
}

fn ms(d: Option<Duration>) -> String {
    match d {
        None => "–".to_string(),
        Some(d) => {
            let v = d.as_secs_f64() * 1e3;
            if v >= 100.0 {
                format!("{v:.1}")
            } else if v >= 1.0 {
                format!("{v:.2}")
            } else {
                format!("{v:.3}")
            }
        }
    }
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_string(), |r| format!("{r:.2}"))
}

impl Entry {
    /// Athanor/raw.
    pub fn vs_raw(&self) -> Option<f64> {
        ratio(self.athanor, self.raw)
    }
    /// Athanor/Diesel.
    pub fn vs_diesel(&self) -> Option<f64> {
        ratio(self.athanor, self.diesel)
    }

    /// The targets this entry misses, as text.
    pub fn misses(&self) -> Vec<String> {
        let mut m = Vec::new();
        if let (Some(t), Some(r)) = (self.workload.raw_target(), self.vs_raw()) {
            if r > t {
                m.push(format!("raw {r:.2} > {t}"));
            }
        }
        if let Some(r) = self.vs_diesel() {
            if r > 1.0 {
                m.push(format!("diesel {r:.2} > 1.0"));
            }
        }
        m
    }

    /// A one-line progress report.
    pub fn short(&self) -> String {
        format!(
            "{:<19} N={:<6} athanor {:>9} ms  raw {:>9} ms  diesel {:>9} ms  A/raw {:>5}  A/diesel {:>5}  \
             athanor statements {}",
            self.workload.name(),
            self.n,
            ms(self.athanor),
            ms(self.raw),
            ms(self.diesel),
            fmt_ratio(self.vs_raw()),
            fmt_ratio(self.vs_diesel()),
            self.athanor_statements.map_or_else(|| "–".to_string(), |n| n.to_string())
        )
    }
}

/// The results as a Markdown table (times are medians in milliseconds).
pub fn table(entries: &[Entry]) -> String {
    let mut s = String::new();
    s.push_str(
        "| backend | workload | N | Athanor ms | raw ms | Diesel ms | Athanor/raw | Athanor/Diesel | Athanor stmts | targets |\n",
    );
    s.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for e in entries {
        let misses = e.misses();
        let verdict = if e.vs_raw().is_none() && e.vs_diesel().is_none() {
            "–".to_string()
        } else if misses.is_empty() {
            "met".to_string()
        } else {
            format!("MISSED: {}", misses.join(", "))
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            e.backend,
            e.workload.name(),
            e.n,
            ms(e.athanor),
            ms(e.raw),
            ms(e.diesel),
            fmt_ratio(e.vs_raw()),
            fmt_ratio(e.vs_diesel()),
            e.athanor_statements.map_or_else(|| "–".to_string(), |n| n.to_string()),
            verdict
        );
    }
    s
}

fn num(d: Option<Duration>) -> String {
    d.map_or_else(|| "null".to_string(), |d| format!("{:.9}", d.as_secs_f64()))
}

fn num_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "null".to_string(), |r| format!("{r:.4}"))
}

/// The results as JSON: one object per backend × workload × N, medians in seconds, `null`
/// where an implementation does not apply.
pub fn json(entries: &[Entry], mode: &str) -> String {
    let mut s = String::new();
    let _ = write!(s, "{{\n  \"mode\": \"{mode}\",\n  \"unit\": \"seconds\",\n  \"results\": [");
    for (i, e) in entries.iter().enumerate() {
        let _ = write!(
            s,
            "{}\n    {{\"backend\": \"{}\", \"workload\": \"{}\", \"n\": {}, \"reps\": {}, \"athanor\": {}, \"raw\": {}, \
             \"diesel\": {}, \"athanor_over_raw\": {}, \"athanor_over_diesel\": {}, \"athanor_statements\": {}}}",
            if i == 0 { "" } else { "," },
            e.backend,
            e.workload.name(),
            e.n,
            e.reps,
            num(e.athanor),
            num(e.raw),
            num(e.diesel),
            num_ratio(e.vs_raw()),
            num_ratio(e.vs_diesel()),
            e.athanor_statements.map_or_else(|| "null".to_string(), |n| n.to_string()),
        );
    }
    s.push_str("\n  ]\n}\n");
    s
}
