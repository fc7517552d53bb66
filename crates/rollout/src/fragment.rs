//! Reading and changing one gray rule's `percent` in a fragment, with nothing else in the text changing.
//!
//! The fragment is a gray config file (`config/gray/*.toml`) holding `[[gray.rules]]`. These are
//! pure functions over text; [`crate::writer`] does the I/O.

use toml_edit::{DocumentMut, Item, Value};

/// Why a fragment cannot be read or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FragmentError {
    /// Not valid TOML.
    #[error("not valid TOML: {0}")]
    Parse(String),
    /// No `[[gray.rules]]` entry has the name.
    #[error("no `[[gray.rules]]` entry is named `{rule}`")]
    NoSuchRule {
        /// The rule name.
        rule: String,
    },
    /// The rule has no integer `percent` (it is not a percentage rule).
    #[error("rule `{rule}` has no integer `percent`; only a percentage rule can be rolled out")]
    NotAPercentageRule {
        /// The rule name.
        rule: String,
    },
}

/// The `percent` of rule `rule` in fragment `text`.
pub fn rule_percent(text: &str, rule: &str) -> Result<u8, FragmentError> {
    let document = parse(text)?;
    let table = find_rule(&document, rule)?;
    table
        .get("percent")
        .and_then(Item::as_integer)
        .and_then(|p| u8::try_from(p).ok())
        .ok_or_else(|| FragmentError::NotAPercentageRule {
            rule: rule.to_owned(),
        })
}

/// `text` with rule `rule`'s `percent` set to `percent`: the value is replaced in place, keeping
/// its comments and spacing, and every other byte stays as it was.
pub(crate) fn set_rule_percent(
    text: &str,
    rule: &str,
    percent: u8,
) -> Result<String, FragmentError> {
    rule_percent(text, rule)?;
    let mut document = parse(text)?;
    let rules = document
        .get_mut("gray")
        .and_then(|gray| gray.get_mut("rules"))
        .ok_or_else(|| no_rule(rule))?;
    let value = match rules {
        Item::ArrayOfTables(array) => array
            .iter_mut()
            .find(|table| name_of(table.get("name")) == Some(rule))
            .and_then(|table| table.get_mut("percent"))
            .and_then(Item::as_value_mut),
        Item::Value(Value::Array(array)) => array
            .iter_mut()
            .filter_map(Value::as_inline_table_mut)
            .find(|table| table.get("name").and_then(Value::as_str) == Some(rule))
            .and_then(|table| table.get_mut("percent")),
        _ => None,
    }
    .ok_or_else(|| no_rule(rule))?;
    // Keep the spacing and comment around the number; only the digits change.
    let decor = value.decor().clone();
    let mut new = Value::from(i64::from(percent));
    *new.decor_mut() = decor;
    *value = new;
    Ok(document.to_string())
}

fn parse(text: &str) -> Result<DocumentMut, FragmentError> {
    text.parse::<DocumentMut>()
        .map_err(|error| FragmentError::Parse(error.to_string().trim_end().to_owned()))
}

fn no_rule(rule: &str) -> FragmentError {
    FragmentError::NoSuchRule {
        rule: rule.to_owned(),
    }
}

fn name_of(item: Option<&Item>) -> Option<&str> {
    item.and_then(Item::as_str)
}

/// The rule's table (array-of-tables or inline), as key lookups.
fn find_rule<'a>(
    document: &'a DocumentMut,
    rule: &str,
) -> Result<&'a dyn toml_edit::TableLike, FragmentError> {
    let rules = document
        .get("gray")
        .and_then(|gray| gray.get("rules"))
        .ok_or_else(|| no_rule(rule))?;
    let found: Option<&dyn toml_edit::TableLike> = match rules {
        Item::ArrayOfTables(array) => array
            .iter()
            .find(|table| name_of(table.get("name")) == Some(rule))
            .map(|table| table as &dyn toml_edit::TableLike),
        Item::Value(Value::Array(array)) => array
            .iter()
            .filter_map(Value::as_inline_table)
            .find(|table| table.get("name").and_then(Value::as_str) == Some(rule))
            .map(|table| table as &dyn toml_edit::TableLike),
        _ => None,
    };
    found.ok_or_else(|| no_rule(rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAGMENT: &str = r#"# Gray rollout of billing v2.

[[gray.rules]]
name = "billing-v2-canary-header"
route = { billing = "v2" }
headers = { "X-Canary" = "v2" }

# 10% of users, sticky per user id.
[[gray.rules]]
name   = "billing-v2-rollout"
route  = { billing = "v2" }
percent   =   10   # raised step by step
bucket_by = "header:X-User-Id"
"#;

    #[test]
    fn reads_the_rule_percent() {
        assert_eq!(rule_percent(FRAGMENT, "billing-v2-rollout"), Ok(10));
    }

    #[test]
    fn setting_the_percent_changes_only_its_digits() {
        let changed = set_rule_percent(FRAGMENT, "billing-v2-rollout", 50).unwrap();
        assert_eq!(changed, FRAGMENT.replace("=   10   #", "=   50   #"));
        assert_eq!(rule_percent(&changed, "billing-v2-rollout"), Ok(50));
    }

    #[test]
    fn inline_rule_arrays_are_edited_in_place() {
        let text = "[gray]\nrules = [\n  { name = \"r\", route = { billing = \"v2\" }, percent = 1, bucket_by = \"header:U\" },\n]\n";
        let changed = set_rule_percent(text, "r", 100).unwrap();
        assert_eq!(changed, text.replace("percent = 1,", "percent = 100,"));
    }

    #[test]
    fn errors_name_the_rule() {
        assert_eq!(
            set_rule_percent(FRAGMENT, "missing", 5)
                .unwrap_err()
                .to_string(),
            "no `[[gray.rules]]` entry is named `missing`"
        );
        assert_eq!(
            rule_percent(FRAGMENT, "billing-v2-canary-header")
                .unwrap_err()
                .to_string(),
            "rule `billing-v2-canary-header` has no integer `percent`; only a percentage rule can be rolled out"
        );
        assert!(matches!(
            rule_percent("[[gray.rules]\n", "r"),
            Err(FragmentError::Parse(_))
        ));
    }
}
