//! The merged configuration tree: every node remembers the layers that set it, and layers merge deeply.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use crate::error::{ConfigError, Layer, Origin, ValueKind};

/// One value in the tree with the origins that set it, lowest layer first, winner last.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    pub(crate) origins: Vec<Origin>,
}

/// The shape of a node. Arrays are leaves for merging (a higher layer replaces them whole) but
/// keep their elements' origins so rules can report lines.
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Scalar(toml::Value),
    Array(Vec<Node>),
    Table(BTreeMap<String, Node>),
}

impl Node {
    /// How many keys (table entries and array items) this node holds at any depth, and how
    /// deeply tables and arrays nest in it (a scalar is depth 0). Iterative, so a deep tree
    /// cannot overflow the stack here.
    pub(crate) fn measure(&self) -> (u64, u64) {
        let mut keys = 0u64;
        let mut deepest = 0u64;
        let mut pending: Vec<(&Node, u64)> = vec![(self, 0)];
        while let Some((node, depth)) = pending.pop() {
            deepest = deepest.max(depth);
            match &node.kind {
                Kind::Scalar(_) => {}
                Kind::Array(items) => {
                    keys += items.len() as u64;
                    pending.extend(items.iter().map(|item| (item, depth + 1)));
                }
                Kind::Table(table) => {
                    keys += table.len() as u64;
                    pending.extend(table.values().map(|item| (item, depth + 1)));
                }
            }
        }
        (keys, deepest)
    }

    pub(crate) fn empty_table(origin: Origin) -> Node {
        Node {
            kind: Kind::Table(BTreeMap::new()),
            origins: vec![origin],
        }
    }

    /// The origin of the value that is in force (the highest layer that set it).
    pub(crate) fn origin(&self) -> &Origin {
        // Invariant: every constructor gives a node at least one origin and merging only adds.
        self.origins
            .last()
            .unwrap_or_else(|| unreachable!("a node always has an origin"))
    }

    pub(crate) fn kind_name(&self) -> &'static str {
        self.value_kind().as_str()
    }

    pub(crate) fn value_kind(&self) -> ValueKind {
        match &self.kind {
            Kind::Scalar(toml::Value::String(_)) => ValueKind::String,
            Kind::Scalar(toml::Value::Integer(_)) => ValueKind::Integer,
            Kind::Scalar(toml::Value::Float(_)) => ValueKind::Float,
            Kind::Scalar(toml::Value::Boolean(_)) => ValueKind::Boolean,
            Kind::Scalar(toml::Value::Datetime(_)) => ValueKind::Datetime,
            Kind::Array(_) | Kind::Scalar(toml::Value::Array(_)) => ValueKind::Array,
            Kind::Table(_) | Kind::Scalar(toml::Value::Table(_)) => ValueKind::Table,
        }
    }

    pub(crate) fn as_table(&self) -> Option<&BTreeMap<String, Node>> {
        match &self.kind {
            Kind::Table(table) => Some(table),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(toml::Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The plain TOML value, without origins.
    pub(crate) fn to_value(&self) -> toml::Value {
        match &self.kind {
            Kind::Scalar(value) => value.clone(),
            Kind::Array(items) => toml::Value::Array(items.iter().map(Node::to_value).collect()),
            Kind::Table(table) => toml::Value::Table(
                table
                    .iter()
                    .map(|(key, node)| (key.clone(), node.to_value()))
                    .collect(),
            ),
        }
    }

    /// Finds a node by a dotted path with optional array indices: `gray.rules[0].name`.
    pub(crate) fn lookup(&self, path: &str) -> Option<&Node> {
        if path.is_empty() {
            return Some(self);
        }
        let mut node = self;
        for segment in path.split('.') {
            let (name, indices) = match segment.find('[') {
                Some(at) => (&segment[..at], &segment[at..]),
                None => (segment, ""),
            };
            if !name.is_empty() {
                node = node.as_table()?.get(name)?;
            }
            let mut rest = indices;
            while let Some(stripped) = rest.strip_prefix('[') {
                let close = stripped.find(']')?;
                let index: usize = stripped[..close].parse().ok()?;
                node = match &node.kind {
                    Kind::Array(items) => items.get(index)?,
                    _ => return None,
                };
                rest = &stripped[close + 1..];
            }
            if !rest.is_empty() {
                return None;
            }
        }
        Some(node)
    }

    /// Visits every leaf (scalar or array) with its dotted path.
    pub(crate) fn for_each_leaf<'a>(
        &'a self,
        path: &mut String,
        visit: &mut dyn FnMut(&str, &'a Node),
    ) {
        match &self.kind {
            Kind::Table(table) => {
                for (key, child) in table {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    child.for_each_leaf(path, visit);
                    path.truncate(len);
                }
            }
            _ => visit(path, self),
        }
    }
}

/// Parses one TOML document into a tree whose every node carries its file and line.
pub(crate) fn parse_document(layer: Layer, name: &str, text: &str) -> Result<Node, ConfigError> {
    let lines = LineIndex::new(text);
    let source: Arc<str> = Arc::from(name);
    let parse_error = |message: String, span: Option<Range<usize>>| {
        let (line, column) = lines.position(span.map_or(0, |span| span.start));
        ConfigError::Parse {
            file: name.to_owned(),
            line,
            column,
            message,
        }
    };
    let table = DeTable::parse(text)
        .map_err(|error| parse_error(error.message().trim_end().to_owned(), error.span()))?;
    let builder = Builder {
        layer,
        source,
        lines: &lines,
        name,
    };
    builder.table(table.get_ref(), builder.origin(0))
}

struct Builder<'a> {
    layer: Layer,
    source: Arc<str>,
    lines: &'a LineIndex,
    name: &'a str,
}

impl Builder<'_> {
    fn origin(&self, offset: usize) -> Origin {
        Origin::file(
            self.layer,
            self.source.clone(),
            self.lines.position(offset).0,
        )
    }

    fn table(&self, table: &DeTable<'_>, origin: Origin) -> Result<Node, ConfigError> {
        let mut map = BTreeMap::new();
        for (key, value) in table.iter() {
            let origin = self.origin(key.span().start);
            let node = self.value(value.get_ref(), value.span(), origin)?;
            map.insert(key.get_ref().to_string(), node);
        }
        Ok(Node {
            kind: Kind::Table(map),
            origins: vec![origin],
        })
    }

    fn value(
        &self,
        value: &DeValue<'_>,
        span: Range<usize>,
        origin: Origin,
    ) -> Result<Node, ConfigError> {
        let bad_number = |what: &str, text: &str| {
            let (line, column) = self.lines.position(span.start);
            ConfigError::Parse {
                file: self.name.to_owned(),
                line,
                column,
                message: format!("{what} `{text}` is out of range"),
            }
        };
        let scalar = match value {
            DeValue::String(s) => toml::Value::String(s.to_string()),
            DeValue::Integer(int) => toml::Value::Integer(
                i64::from_str_radix(int.as_str(), int.radix())
                    .map_err(|_| bad_number("integer", int.as_str()))?,
            ),
            DeValue::Float(float) => toml::Value::Float(
                float
                    .as_str()
                    .parse::<f64>()
                    .map_err(|_| bad_number("float", float.as_str()))?,
            ),
            DeValue::Boolean(b) => toml::Value::Boolean(*b),
            DeValue::Datetime(datetime) => toml::Value::Datetime(*datetime),
            DeValue::Array(array) => {
                let mut items = Vec::with_capacity(array.len());
                for item in array.iter() {
                    let item_origin = self.origin(item.span().start);
                    items.push(self.value(item.get_ref(), item.span(), item_origin)?);
                }
                return Ok(Node {
                    kind: Kind::Array(items),
                    origins: vec![origin],
                });
            }
            DeValue::Table(table) => return self.table(table, origin),
        };
        Ok(Node {
            kind: Kind::Scalar(scalar),
            origins: vec![origin],
        })
    }
}

/// Merges `incoming` (a higher layer) into `base`: tables merge deeply, anything else replaces,
/// and a table meeting a non-table is an error naming both sources.
pub(crate) fn merge(base: &mut Node, incoming: Node, path: &mut String) -> Result<(), ConfigError> {
    let Node {
        kind: incoming_kind,
        origins: incoming_origins,
    } = incoming;
    match (&mut base.kind, incoming_kind) {
        (Kind::Table(base_table), Kind::Table(incoming_table)) => {
            base.origins.extend(incoming_origins);
            for (key, child) in incoming_table {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&key);
                match base_table.get_mut(&key) {
                    Some(existing) => merge(existing, child, path)?,
                    None => {
                        base_table.insert(key, child);
                    }
                }
                path.truncate(len);
            }
            Ok(())
        }
        (base_kind, incoming_kind) => {
            let base_is_table = matches!(base_kind, Kind::Table(_));
            let incoming_is_table = matches!(incoming_kind, Kind::Table(_));
            let incoming = Node {
                kind: incoming_kind,
                origins: incoming_origins,
            };
            if base_is_table || incoming_is_table {
                return Err(ConfigError::TypeClash {
                    key: path.clone(),
                    existing: base.origin().clone(),
                    existing_kind: base.value_kind(),
                    incoming: incoming.origin().clone(),
                    incoming_kind: incoming.value_kind(),
                });
            }
            // Gray fragments add their rules up, in file-name order, so that two fragments
            // cannot silently cancel each other; everywhere else an array replaces.
            let fragments_add_up = path == "gray.rules"
                && base.origin().layer == Layer::Gray
                && incoming.origin().layer == Layer::Gray;
            match (&mut base.kind, incoming.kind) {
                (Kind::Array(items), Kind::Array(more)) if fragments_add_up => items.extend(more),
                (kind, incoming_kind) => *kind = incoming_kind,
            }
            base.origins.extend(incoming.origins);
            Ok(())
        }
    }
}

/// Byte offset to 1-based (line, column).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
        LineIndex { starts }
    }

    fn position(&self, offset: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&start| start <= offset).max(1);
        let column = offset - self.starts[line - 1] + 1;
        (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_maps_offsets_to_lines_and_columns() {
        let index = LineIndex::new("a\nbc\n\nd");
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(2), (2, 1));
        assert_eq!(index.position(3), (2, 2));
        assert_eq!(index.position(5), (3, 1));
        assert_eq!(index.position(6), (4, 1));
    }

    #[test]
    fn lookup_follows_tables_and_indices() {
        let node = parse_document(Layer::Base, "t.toml", "[a]\nb = [1, {c = 'x'}]\n").unwrap();
        assert_eq!(node.lookup("a.b[1].c").unwrap().as_str(), Some("x"));
        assert_eq!(node.lookup("a.b[1].c").unwrap().origin().line, Some(2));
        assert!(node.lookup("a.b[2]").is_none());
        assert!(node.lookup("a.b[x]").is_none());
        assert!(node.lookup("a.z").is_none());
        assert!(node.lookup("a.b[0]x").is_none());
    }
}
