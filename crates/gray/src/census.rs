//! A cheap count of what one TOML document holds (keys, nesting, gray rules), read from the
//! parser's events before any tree is built, so a document over a limit is refused before it
//! costs the memory of its tree.
//!
//! Parsing into a tree costs far more memory than the text: 100,000 one-line rules (3 MB) take
//! about 180 MB as a `DeTable` and more again as the provenance tree. The census walks the
//! tokens with `toml_parser`'s push parser instead and keeps only counters and the key path it
//! is in. Its counts never exceed what the tree will hold (keys and depth are lower bounds, rules
//! are exact), so it refuses nothing the tree's own checks would accept; syntax errors are left
//! to the real parse, which reports them with their line.

use std::borrow::Cow;

use toml_parser::decoder::Encoding;
use toml_parser::parser::{EventReceiver, RecursionGuard};
use toml_parser::{ErrorSink, Raw, Source, Span};

/// What a document holds, counted without building it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Census {
    /// Keys (table entries and array items): at most what [`crate::tree::Node::measure`] counts
    /// for the document, never more.
    pub(crate) keys: u64,
    /// The deepest nesting of tables and arrays: at most what `measure` counts (a table header
    /// inside an array of tables, `[a.b]` after `[[a]]`, is counted without the array's level).
    pub(crate) depth: u64,
    /// Items of `gray.rules` (`[[gray.rules]]` headers, or the items of a `gray.rules = [...]`
    /// array).
    pub(crate) rules: u64,
    /// Whether the document sets `gray.rules` at all (even to an empty array).
    pub(crate) sets_rules: bool,
}

/// The parser's own nesting limit for arrays and inline tables (the one `toml` uses), so the
/// census never recurses deeper than the real parse would.
const RECURSION_LIMIT: u32 = 80;

/// Counts `text`'s keys, depth and gray rules.
pub(crate) fn census(text: &str) -> Census {
    let source = Source::new(text);
    let tokens = source.lex().into_vec();
    let mut counter = Counter {
        source,
        census: Census::default(),
        table: Vec::new(),
        table_is_array: false,
        key: Vec::new(),
        pending: None,
        frames: Vec::new(),
    };
    let mut guarded = RecursionGuard::new(&mut counter, RECURSION_LIMIT);
    // Syntax errors are the real parse's to report.
    toml_parser::parser::parse_document(&tokens, &mut guarded, &mut ());
    counter.census
}

/// One part of a key path, as far as the census cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Gray,
    Rules,
    Other,
}

const GRAY_RULES: &[Part] = &[Part::Gray, Part::Rules];

/// A value about to start: how deep it sits and, outside arrays, its key path.
#[derive(Clone, Debug)]
struct Slot {
    depth: u64,
    path: Option<Vec<Part>>,
}

/// An open array or inline table.
#[derive(Clone, Debug)]
enum Frame {
    Array { depth: u64, holds_rules: bool },
    Table(Slot),
}

struct Counter<'i> {
    source: Source<'i>,
    census: Census,
    /// The last table header's path.
    table: Vec<Part>,
    table_is_array: bool,
    /// The simple keys read since the last header or key-value separator.
    key: Vec<Part>,
    /// The slot the next value fills, set by a key-value separator.
    pending: Option<Slot>,
    frames: Vec<Frame>,
}

impl Counter<'_> {
    fn deepest(&mut self, depth: u64) {
        self.census.depth = self.census.depth.max(depth);
    }

    /// Where the value starting now goes: after a key, or as the next item of an array.
    fn value_slot(&mut self) -> Slot {
        if let Some(slot) = self.pending.take() {
            return slot;
        }
        match self.frames.last() {
            Some(Frame::Array { depth, holds_rules }) => {
                let depth = depth + 1;
                self.census.keys += 1;
                if *holds_rules {
                    self.census.rules += 1;
                }
                Slot { depth, path: None }
            }
            // A value without a key: the parse is broken, and the real parse says where.
            _ => Slot {
                depth: 0,
                path: None,
            },
        }
    }
}

impl EventReceiver for Counter<'_> {
    fn std_table_open(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        self.key.clear();
        self.table_is_array = false;
    }

    fn array_table_open(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        self.key.clear();
        self.table_is_array = true;
    }

    fn std_table_close(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        self.table = std::mem::take(&mut self.key);
        self.deepest(self.table.len() as u64);
    }

    fn array_table_close(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        self.table = std::mem::take(&mut self.key);
        // The array, and the table that is its new item.
        self.deepest(self.table.len() as u64 + 1);
        self.census.keys += 1;
        if self.table == GRAY_RULES {
            self.census.rules += 1;
            self.census.sets_rules = true;
        }
    }

    fn simple_key(&mut self, span: Span, encoding: Option<Encoding>, _error: &mut dyn ErrorSink) {
        let text = &self.source.input()[span.start()..span.end()];
        let mut name: Cow<'_, str> = Cow::Borrowed("");
        Raw::new_unchecked(text, encoding, span).decode_key(&mut name, &mut ());
        self.key.push(match name.as_ref() {
            "gray" => Part::Gray,
            "rules" => Part::Rules,
            _ => Part::Other,
        });
    }

    fn key_val_sep(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        let key = std::mem::take(&mut self.key);
        let (depth, path) = match self.frames.last() {
            None => {
                let depth = self.table.len() as u64 + u64::from(self.table_is_array);
                // Keys under an array-of-tables header are inside an array item.
                let path = (!self.table_is_array).then(|| [&self.table[..], &key[..]].concat());
                (depth, path)
            }
            Some(Frame::Table(slot)) => (
                slot.depth,
                slot.path
                    .as_ref()
                    .map(|path| [&path[..], &key[..]].concat()),
            ),
            Some(Frame::Array { .. }) => (0, None),
        };
        self.census.keys += 1;
        let depth = depth + key.len() as u64;
        self.deepest(depth);
        self.pending = Some(Slot { depth, path });
    }

    fn scalar(&mut self, _span: Span, _encoding: Option<Encoding>, _error: &mut dyn ErrorSink) {
        let slot = self.value_slot();
        self.deepest(slot.depth);
    }

    fn array_open(&mut self, _span: Span, _error: &mut dyn ErrorSink) -> bool {
        let slot = self.value_slot();
        self.deepest(slot.depth);
        let holds_rules = slot.path.as_deref() == Some(GRAY_RULES);
        if holds_rules {
            self.census.sets_rules = true;
        }
        self.frames.push(Frame::Array {
            depth: slot.depth,
            holds_rules,
        });
        true
    }

    fn array_close(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        self.frames.pop();
    }

    fn inline_table_open(&mut self, _span: Span, _error: &mut dyn ErrorSink) -> bool {
        let slot = self.value_slot();
        self.deepest(slot.depth);
        self.frames.push(Frame::Table(slot));
        true
    }

    fn inline_table_close(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        self.frames.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Layer;

    /// The census of `text`, checked against the tree's own measure: never above it, and the
    /// depth equal when no header reopens an array of tables.
    fn checked(text: &str) -> Census {
        let census = census(text);
        let node = crate::tree::parse_document(Layer::Base, "t.toml", text).unwrap();
        let (keys, depth) = node.measure();
        assert!(census.keys <= keys, "{text}: {census:?} vs {keys} keys");
        assert!(census.depth <= depth, "{text}: {census:?} vs depth {depth}");
        if !text.contains("[[") {
            assert_eq!(census.depth, depth, "{text}: {census:?}");
        }
        census
    }

    #[test]
    fn rules_are_counted_in_every_spelling() {
        let cases = [
            (
                "[[gray.rules]]\nname = 'a'\n[[gray.rules]]\nname = 'b'\n",
                2,
            ),
            (
                "[gray]\nrules = [{ name = 'a' }, { name = 'b' }, { name = 'c' }]\n",
                3,
            ),
            ("gray.rules = [{ name = 'a' }]\n", 1),
            ("gray = { rules = [{ name = 'a' }, { name = 'b' }] }\n", 2),
            ("[\"gray\"]\n'rules' = [{ name = 'a' }]\n", 1),
            (
                "[[gray.rules]]\nname = 'a'\n[gray.rules.route]\nbilling = 'v2'\n",
                1,
            ),
        ];
        for (text, rules) in cases {
            let census = checked(text);
            assert_eq!(census.rules, rules, "{text}");
            assert!(census.sets_rules, "{text}");
        }
    }

    #[test]
    fn other_arrays_are_not_rules() {
        for text in [
            "[[other.rules]]\nname = 'a'\n",
            "[gray]\nlabels = { rules = 'x' }\n",
            "[[gray]]\nrules = [1, 2]\n",
            "rules = [{ name = 'a' }]\n",
            "[gray.default]\nbilling = 'v1'\n",
        ] {
            let census = checked(text);
            assert_eq!(census.rules, 0, "{text}");
            assert!(!census.sets_rules, "{text}");
        }
        assert!(checked("[gray]\nrules = []\n").sets_rules);
    }

    #[test]
    fn keys_and_depth_follow_the_tree() {
        for text in [
            "",
            "a = 1\n",
            "a.b.c = 1\nd = [1, [2, [3]]]\n",
            "[x.y]\nz = { w = [ { v = 1 } ] }\n",
            "[[a.b]]\nc = 1\n[[a.b]]\nc = 2\n[a.b.d]\ne = 1\n",
            "[t]\n[t.u]\nv = 'x'\n",
        ] {
            checked(text);
        }
    }

    #[test]
    fn broken_documents_do_not_panic() {
        for text in ["[", "a = ", "= 1", "[[a]", "a = [1,", "a = {b = }", "]]]"] {
            let _ = census(text);
        }
    }
}
