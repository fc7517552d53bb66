//! The evidence of a rollout: one JSON line per event, and a progress line on a terminal.
//!
//! Every event has `ts_ms` (Unix milliseconds) and `event`, then its own fields: a step applied,
//! each query with its values, each check with value, threshold and verdict, a rollback with its
//! reason and timing. The JSON lines go to a file or stdout; the progress display (indicatif)
//! goes to stderr and only when stderr is a terminal.

use std::io::{IsTerminal as _, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value};

use crate::state::now_ms;

/// Where events go.
pub struct Events {
    out: Box<dyn Write + Send>,
    progress: Option<ProgressBar>,
    broken: bool,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

impl Events {
    /// Events written to `out`, with a progress line on stderr if it is a terminal and
    /// `progress` is asked for.
    pub fn new(out: Box<dyn Write + Send>, progress: bool) -> Events {
        let progress = (progress && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Events {
            out,
            progress,
            broken: false,
        }
    }

    /// Writes one event. `fields` must be a JSON object; a non-object is kept under `data`.
    pub fn emit(&mut self, event: &str, fields: Value) {
        let mut line = Map::new();
        line.insert("ts_ms".to_owned(), Value::from(now_ms()));
        line.insert("event".to_owned(), Value::from(event));
        match fields {
            Value::Object(map) => line.extend(map),
            Value::Null => {}
            other => {
                line.insert("data".to_owned(), other);
            }
        }
        let text = Value::Object(line).to_string();
        let written = writeln!(self.out, "{text}").and_then(|()| self.out.flush());
        // A broken event log must not stop a rollback half way; say so once and carry on.
        if let Err(error) = written
            && !self.broken
        {
            self.broken = true;
            eprintln!("warning: cannot write the event log: {error}; the rollout continues");
        }
    }

    /// Replaces the progress line (nothing happens without a terminal).
    pub fn progress(&self, message: String) {
        if let Some(bar) = &self.progress {
            bar.set_message(message);
        }
    }

    /// Prints a line above the progress display, or to stderr without one.
    pub fn say(&self, message: &str) {
        match &self.progress {
            Some(bar) => bar.println(message),
            None => eprintln!("{message}"),
        }
    }

    /// Removes the progress line.
    pub fn finish(&self) {
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn each_event_is_one_json_line_with_time_and_name() {
        let buffer = Shared::default();
        let mut events = Events::new(Box::new(buffer.clone()), false);
        events.emit(
            "step_applied",
            serde_json::json!({"step": 1, "percent": 10}),
        );
        events.emit("done", Value::Null);
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "step_applied");
        assert_eq!(lines[0]["percent"], 10);
        assert!(lines[0]["ts_ms"].as_u64().unwrap() > 0);
        assert_eq!(lines[1]["event"], "done");
    }
}
