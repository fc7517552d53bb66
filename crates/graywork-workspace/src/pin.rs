//! The toolchain pin, read the way rustup reads it: `rust-toolchain.toml`, else the legacy
//! `rust-toolchain` file.
//!
//! rustup reads `rust-toolchain.toml` as TOML only. A legacy `rust-toolchain` file of exactly
//! one line is a channel name (its whole text, trimmed); one of more lines is TOML, like
//! `rust-toolchain.toml`. An empty file pins nothing.

use std::path::Path;

use toml_edit::{Item, Value};

use crate::declarations::{Declared, PinError, Site, ToolchainPin, Unpinned};

/// The pin file names rustup reads, in the order this tool looks for them.
const PIN_FILES: [&str; 2] = ["rust-toolchain.toml", "rust-toolchain"];

/// The toolchain `dir` pins: the first of `rust-toolchain.toml` and `rust-toolchain` that
/// exists, read by rustup's rule. Sites name the file relative to `dir`.
pub fn read_toolchain_pin(dir: &Path) -> ToolchainPin {
    for file in PIN_FILES {
        let text = match std::fs::read_to_string(dir.join(file)) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => {
                return ToolchainPin::Unreadable(PinError::Read {
                    file: file.to_owned(),
                    message: error.to_string(),
                });
            }
        };
        return parse_toolchain_pin(file, &text);
    }
    ToolchainPin::Unpinned(Unpinned::NoFile)
}

/// Reads the text of pin file `file` (`rust-toolchain.toml` or `rust-toolchain`) by rustup's
/// rule.
pub fn parse_toolchain_pin(file: &str, text: &str) -> ToolchainPin {
    let legacy = file == "rust-toolchain";
    // rustup: a legacy file of one line is the channel's name; more lines are TOML.
    if legacy && text.lines().count() <= 1 {
        let channel = text.trim();
        if channel.is_empty() {
            return ToolchainPin::Unpinned(Unpinned::Empty {
                file: file.to_owned(),
            });
        }
        return ToolchainPin::Pinned(Declared {
            site: Site {
                file: file.to_owned(),
                line: Some(1),
                keys: Vec::new(),
            },
            value: channel.to_owned(),
            inherited: false,
            via: None,
            comments: Vec::new(),
        });
    }
    let malformed = |offset: Option<usize>, message: String| {
        ToolchainPin::Unreadable(PinError::Malformed {
            file: file.to_owned(),
            line: offset.map(|offset| line_at(text, offset)),
            message,
        })
    };
    let document = match toml_edit::Document::parse(text) {
        Ok(document) => document,
        Err(error) => {
            return malformed(
                error.span().map(|span| span.start),
                error.message().trim().to_owned(),
            );
        }
    };
    let Some((toolchain_key, toolchain)) = document.as_table().get_key_value("toolchain") else {
        return ToolchainPin::Unpinned(Unpinned::NoChannel {
            file: file.to_owned(),
        });
    };
    let Some(section) = toolchain.as_table_like() else {
        return malformed(
            toolchain
                .span()
                .or_else(|| toolchain_key.span())
                .map(|span| span.start),
            format!(
                "invalid type: {}, expected struct ToolchainSection",
                unexpected(toolchain)
            ),
        );
    };
    let Some((channel_key, channel)) = section.get_key_value("channel") else {
        return ToolchainPin::Unpinned(Unpinned::NoChannel {
            file: file.to_owned(),
        });
    };
    let at = channel
        .span()
        .or_else(|| channel_key.span())
        .map(|span| span.start);
    let Some(name) = channel.as_str() else {
        return malformed(
            at,
            format!("invalid type: {}, expected a string", unexpected(channel)),
        );
    };
    ToolchainPin::Pinned(Declared {
        site: Site {
            file: file.to_owned(),
            line: Some(at.map_or(1, |offset| line_at(text, offset))),
            keys: vec!["toolchain".to_owned(), "channel".to_owned()],
        },
        value: name.to_owned(),
        inherited: false,
        via: None,
        comments: Vec::new(),
    })
}

/// What a value that should be a string is, as serde names it (`floating point `1.95``).
fn unexpected(item: &Item) -> String {
    match item.as_value() {
        Some(Value::Integer(value)) => format!("integer `{}`", value.value()),
        Some(Value::Float(value)) => format!("floating point `{}`", value.value()),
        Some(Value::Boolean(value)) => format!("boolean `{}`", value.value()),
        Some(Value::String(value)) => format!("string {:?}", value.value()),
        Some(Value::Datetime(_)) => "datetime".to_owned(),
        Some(Value::Array(_)) => "sequence".to_owned(),
        Some(Value::InlineTable(_)) | None => "map".to_owned(),
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(file: &str, text: &str) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(file), text).expect("write the pin");
        match read_toolchain_pin(dir.path()) {
            ToolchainPin::Pinned(declared) => format!(
                "{} at {}:{}",
                declared.value,
                declared.site.file,
                declared.site.line.unwrap_or(0)
            ),
            ToolchainPin::Unpinned(reason) => reason.to_string(),
            ToolchainPin::Unreadable(error) => error.to_string(),
        }
    }

    #[test]
    fn a_legacy_file_of_one_line_is_the_channel_name() {
        assert_eq!(
            pin("rust-toolchain", "1.95.0\n"),
            "1.95.0 at rust-toolchain:1"
        );
        assert_eq!(
            pin("rust-toolchain", "  nightly-2026-01-01  "),
            "nightly-2026-01-01 at rust-toolchain:1"
        );
        assert_eq!(pin("rust-toolchain", ""), "rust-toolchain is empty");
        assert_eq!(pin("rust-toolchain", "\n"), "rust-toolchain is empty");
    }

    #[test]
    fn a_legacy_file_of_more_lines_is_toml() {
        assert_eq!(
            pin("rust-toolchain", "[toolchain]\nchannel = \"nightly\"\n"),
            "nightly at rust-toolchain:2"
        );
        assert_eq!(
            pin("rust-toolchain", "[toolchain]\nprofile = \"minimal\"\n"),
            "rust-toolchain has no [toolchain] channel"
        );
        // rustup reads a channel name after a blank line as TOML, and refuses it.
        assert!(
            pin("rust-toolchain", "\n1.95.0\n").starts_with("malformed rust-toolchain at line 2: "),
            "{}",
            pin("rust-toolchain", "\n1.95.0\n")
        );
    }

    #[test]
    fn rust_toolchain_toml_is_toml_only() {
        assert_eq!(
            pin(
                "rust-toolchain.toml",
                "[toolchain]\nprofile = \"minimal\"\n"
            ),
            "rust-toolchain.toml has no [toolchain] channel"
        );
        assert_eq!(
            pin("rust-toolchain.toml", "[toolchain]\nchannel = 1.95\n"),
            "malformed rust-toolchain.toml at line 2: invalid type: floating point `1.95`, \
             expected a string"
        );
        assert!(
            pin("rust-toolchain.toml", "1.95.0\n").starts_with("malformed rust-toolchain.toml")
        );
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(
            read_toolchain_pin(dir.path()),
            ToolchainPin::Unpinned(Unpinned::NoFile)
        );
        assert_eq!(Unpinned::NoFile.to_string(), "no rust-toolchain.toml");
    }
}
