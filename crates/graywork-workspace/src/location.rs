//! A place in a file, `file:line`, that findings and mismatches point at.

use std::fmt;

/// Where something is written: a file (relative to the workspace or crate root, with `/`
/// separators) and a 1-based line.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Location {
    /// The file, with `/` separators.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
}

impl Location {
    /// A location from anything that reads as a file name.
    pub fn new(file: impl Into<String>, line: usize) -> Location {
        Location {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_file_colon_line() {
        assert_eq!(Location::new("src/lib.rs", 7).to_string(), "src/lib.rs:7");
    }

    #[test]
    fn orders_by_file_then_line() {
        let mut locations = vec![
            Location::new("b.rs", 1),
            Location::new("a.rs", 9),
            Location::new("a.rs", 2),
        ];
        locations.sort();
        assert_eq!(
            locations,
            [
                Location::new("a.rs", 2),
                Location::new("a.rs", 9),
                Location::new("b.rs", 1)
            ]
        );
    }
}
