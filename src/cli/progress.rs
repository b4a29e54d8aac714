//! The progress of `athanor copy`: one bar per table (rows, rows/s, ETA) on a terminal, plain
//! lines otherwise (a CI log, a pipe).

use crate::copy::CopyProgress;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

/// Bars on a terminal, lines elsewhere; both on stderr, so stdout keeps the summary.
pub struct Bars {
    terminal: bool,
    bar: Option<ProgressBar>,
    started: Instant,
    done: u64,
    total: u64,
    /// The rows when the last plain line was printed.
    reported: u64,
}

impl Bars {
    pub fn new() -> Self {
        Bars {
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            started: Instant::now(),
            done: 0,
            total: 0,
            reported: 0,
        }
    }

    fn rate(&self) -> f64 {
        self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
    }
}

impl CopyProgress for Bars {
    fn start(&mut self, table: &str, total: u64) {
        (self.started, self.done, self.total, self.reported) = (Instant::now(), 0, total, 0);
        if self.terminal {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template("{msg:>20} [{bar:30}] {pos}/{len} rows {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style.progress_chars("=> "));
            bar.set_message(table.to_string());
            self.bar = Some(bar);
        } else {
            eprintln!("{table}: copying {total} row(s)");
        }
    }

    fn advance(&mut self, table: &str, rows: u64) {
        self.done += rows;
        match &self.bar {
            Some(bar) => bar.inc(rows),
            // A line per tenth of the table.
            None if self.done - self.reported >= (self.total / 10).max(1) && self.done < self.total => {
                self.reported = self.done;
                let left = self.total.saturating_sub(self.done) as f64 / self.rate().max(1e-9);
                eprintln!("{table}: {}/{} rows, {:.0} rows/s, eta {left:.0} s", self.done, self.total, self.rate());
            }
            None => {}
        }
    }

    fn finish(&mut self, table: &str, copied: u64, skipped: bool) {
        match self.bar.take() {
            Some(bar) => bar.finish(),
            None if skipped => eprintln!("{table}: already complete"),
            None => eprintln!(
                "{table}: {copied} row(s) in {:.1} s ({:.0} rows/s)",
                self.started.elapsed().as_secs_f64(),
                self.rate()
            ),
        }
    }
}
