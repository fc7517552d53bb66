//! The caps on what a load reads: file size, keys, rules, conditions per rule, depth and a
//! byte budget for the whole config.

/// Caps on what a load reads, so a huge or hostile config fails fast with an error naming the
/// file and the limit instead of exhausting memory or time. The defaults are far above any real
/// configuration. `max_total_bytes` and `max_rules` are budgets for the whole config, every layer
/// and fragment together, and are checked before the bulk of it is held: bytes while reading,
/// rules and keys from each document's text before its tree is built (a tree takes tens of times
/// the memory of its text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest config file read, in bytes (default 4 MiB).
    pub max_file_bytes: u64,
    /// The most bytes across every input of a load: the files of every layer, the fragments of
    /// a [`FragmentSource`](crate::FragmentSource) and the values of override variables
    /// (default 16 MiB). Files are read only up to what is left of it, so a config over it is
    /// refused before its bulk is held; the error names the largest inputs.
    pub max_total_bytes: u64,
    /// The most keys (table entries and array items, at any depth) across all layers (default
    /// 100,000).
    pub max_keys: u64,
    /// The most `[[gray.rules]]` across all layers, fragments (files and a
    /// [`FragmentSource`](crate::FragmentSource)) adding up (default 2,000). Counted from each
    /// document's text before its tree is built; the error names the files with the most.
    pub max_rules: u64,
    /// The most conditions one rule may have: labels, headers, env, path prefix and
    /// percentage together (default 64).
    pub max_conditions_per_rule: u64,
    /// The deepest nesting of tables and arrays (default 32).
    pub max_depth: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 4 * 1024 * 1024,
            max_total_bytes: 16 * 1024 * 1024,
            max_keys: 100_000,
            max_rules: 2_000,
            max_conditions_per_rule: 64,
            max_depth: 32,
        }
    }
}
