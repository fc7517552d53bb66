//! Which public items of a crate name another crate's items: in signatures, fields, bounds,
//! associated types and consts, or by `pub use`. A crate whose public API names a dependency's
//! types hands those types to its users, so it cannot move to a semver-incompatible version of
//! that dependency without them.

use std::collections::{BTreeMap, BTreeSet};

use super::{Crate, RawKind, Reach, Target};
use crate::surface::model::{FnSig, Location, Surface};

/// A public item whose API names another crate's items.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mention {
    /// The item's public path in the crate (`Frame`, `codec::Decoder::decode`).
    pub item: String,
    /// Where the naming is written.
    pub loc: Location,
    /// What names the other crate: a type as the surface records it, or the `pub use`.
    pub text: String,
}

impl Crate {
    /// The public items that name items of the crate known in this one as `extern_crate`
    /// (its name in code: `bytes`, or the rename of a renamed dependency): written as a path
    /// from it (`bytes::Bytes`), or by a name a `use` of it brings into the item's module.
    /// One mention per item, the first found; trait impls of public types
    /// (`impl From<Bytes> for Frame`) and re-exports (`pub use bytes::Bytes`) too.
    ///
    /// A glob import (`use bytes::*`) brings names the checker cannot list, so items using
    /// them are not seen.
    pub fn mentions_of(&self, extern_crate: &str) -> Vec<Mention> {
        let surface = self.surface();
        let Reach {
            reached, external, ..
        } = self.reach();
        let mut mentions = Vec::new();
        // The public items already mentioned: one mention per item.
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for (path, def_path) in &reached {
            let Some(def) = self.defs.get(def_path) else {
                continue;
            };
            let names = self.names_of(&def.module, extern_crate);
            let shadowed = self.shadows(&def.module, extern_crate);
            let alias = match &def.kind {
                RawKind::TypeAlias(target, loc) => Some((target.as_str(), loc)),
                _ => None,
            };
            let found = item_types(&surface, path)
                .into_iter()
                .chain(alias.map(|(target, _)| (None, target)))
                .find(|(_, text)| names_any(text, extern_crate, shadowed, &names));
            if let Some((member, text)) = found {
                seen.insert(path.clone());
                let loc = match alias {
                    Some((_, loc)) => loc.clone(),
                    None => location_of(&surface, path, member),
                };
                mentions.push(Mention {
                    item: member.map_or_else(|| path.clone(), |m| format!("{path}::{m}")),
                    loc,
                    text: text.to_owned(),
                });
            }
        }
        // `impl bytes::Buf for Frame`, `impl From<Bytes> for Frame`: users of a public type
        // reach the dependency's items through its trait impls too.
        let mut public_of: BTreeMap<&[String], &String> = BTreeMap::new();
        for (path, def_path) in &reached {
            public_of.entry(def_path.as_slice()).or_insert(path);
        }
        // Inherent methods and consts are read with the imports of their `impl`'s module.
        for block in &self.impls {
            let Some(self_path) = &block.self_path else {
                continue;
            };
            let Some(Target::Def(def_path)) = self.resolve(&block.module, self_path) else {
                continue;
            };
            let Some(&public) = public_of.get(&def_path[..]) else {
                continue;
            };
            if seen.contains(public) {
                continue;
            }
            let names = self.names_of(&block.module, extern_crate);
            let shadowed = self.shadows(&block.module, extern_crate);
            let names_it = |text: &str| names_any(text, extern_crate, shadowed, &names);
            // The impl's own generics and its type's arguments (`impl<B: bytes::Buf> Frame<B>`)
            // are API of every item in it.
            let header = [block.generics.as_str(), block.self_text.as_str()]
                .into_iter()
                .find(|text| names_it(text));
            let found = match (&block.trait_text, header) {
                (trait_text, Some(_)) => Some((
                    public.clone(),
                    block.loc.clone(),
                    match trait_text {
                        Some(trait_text) => {
                            format!(
                                "impl{} {trait_text} for {}",
                                block.generics, block.self_text
                            )
                        }
                        None => format!("impl{} {}", block.generics, block.self_text),
                    },
                )),
                (Some(trait_text), None) => names_it(trait_text).then(|| {
                    (
                        public.clone(),
                        block.loc.clone(),
                        format!("impl {trait_text} for {}", self_path.join("::")),
                    )
                }),
                (None, None) => {
                    let visible = |name: &String| !name.starts_with(super::HIDDEN_MARK);
                    let methods = block.methods.iter().filter(|(name, _)| visible(name));
                    let consts = block.consts.iter().filter(|(name, _)| visible(name));
                    methods
                        .flat_map(|(name, sig)| {
                            std::iter::once(sig.generics.as_str())
                                .chain(sig.params.iter().map(String::as_str))
                                .chain([sig.output.as_str()])
                                .map(move |text| (name, &sig.loc, text))
                        })
                        .chain(consts.map(|(name, def)| (name, &def.loc, def.ty.as_str())))
                        .find(|(_, _, text)| names_it(text))
                        .map(|(name, loc, text)| {
                            (format!("{public}::{name}"), loc.clone(), text.to_owned())
                        })
                }
            };
            if let Some((item, loc, text)) = found {
                seen.insert(public.clone());
                mentions.push(Mention { item, loc, text });
            }
        }
        for external in external {
            if external
                .target
                .first()
                .is_some_and(|first| first == extern_crate)
            {
                let star = if external.glob { "::*" } else { "" };
                mentions.push(Mention {
                    item: external.path,
                    loc: external.loc,
                    text: format!("pub use {}{star}", external.target.join("::")),
                });
            }
        }
        mentions
    }

    /// Whether a local item or module named `name` hides the crate of that name in `module`.
    fn shadows(&self, module: &[String], name: &str) -> bool {
        matches!(
            self.resolve(module, &[name.to_owned()]),
            Some(Target::Def(_) | Target::Module(_))
        )
    }

    /// The names that stand for `extern_crate`'s items in `module`: brought by its own `use`,
    /// by a glob of a module of this crate, or by a `use` of a name this crate re-exports
    /// (`use crate::util::Bytes` where `util` has `pub use bytes::Bytes`); and the crate's type
    /// aliases of its items (`type Body = bytes::Bytes`) that the module can name.
    fn names_of(&self, module: &[String], extern_crate: &str) -> BTreeSet<&str> {
        self.map
            .bindings(module)
            .into_iter()
            .filter(|(_, binding)| match &binding.target {
                Target::External(path) => path.first().is_some_and(|first| first == extern_crate),
                Target::Def(path) => self.alias_names(path, extern_crate),
                Target::Module(_) => false,
            })
            .map(|(name, _)| name)
            .collect()
    }

    /// Whether the definition at `path` is a type alias whose target names `extern_crate`.
    fn alias_names(&self, path: &[String], extern_crate: &str) -> bool {
        let Some(def) = self.defs.get(path) else {
            return false;
        };
        let RawKind::TypeAlias(target, _) = &def.kind else {
            return false;
        };
        // The alias's own module decides what its target's names are; an alias to an alias is
        // followed no further (no name of its module stands for the crate through it).
        let direct: BTreeSet<&str> = self
            .map
            .bindings(&def.module)
            .into_iter()
            .filter(|(_, binding)| {
                matches!(&binding.target, Target::External(p) if p.first().is_some_and(|f| f == extern_crate))
            })
            .map(|(name, _)| name)
            .collect();
        names_any(
            target,
            extern_crate,
            self.shadows(&def.module, extern_crate),
            &direct,
        )
    }
}

/// Keywords that can stand right before an absolute path (`&mut ::x::Y`, `dyn ::x::T`).
const PATH_KEYWORDS: &[&str] = &[
    "mut", "dyn", "impl", "as", "const", "unsafe", "for", "where",
];

/// Whether `text` names `extern_crate`'s items: a path starting with the crate's name (unless
/// `shadowed`, when a local item of that name hides the crate), or one of `imported` as a
/// path's first segment.
fn names_any(text: &str, extern_crate: &str, shadowed: bool, imported: &BTreeSet<&str>) -> bool {
    let bytes = text.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut start = 0;
    while start < bytes.len() {
        if !is_ident(bytes[start]) {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < bytes.len() && is_ident(bytes[end]) {
            end += 1;
        }
        let word = &text[start..end];
        // A segment after `::` belongs to some other path (`other::Bytes`), unless the path
        // is absolute (`::bytes::Bytes`).
        let before = text[..start].trim_end();
        let after_path = before.strip_suffix("::").is_some_and(|head| {
            let head = head.trim_end();
            let last_word = head
                .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            // `&mut ::bytes::Bytes`, `dyn ::bytes::Buf`: a keyword is not a path segment.
            head.ends_with('>') || (!last_word.is_empty() && !PATH_KEYWORDS.contains(&last_word))
        });
        if !after_path {
            let followed_by_path = text[end..].trim_start().starts_with("::");
            let absolute = before.ends_with("::");
            if (word == extern_crate && followed_by_path && (absolute || !shadowed))
                || imported.contains(word)
            {
                return true;
            }
        }
        start = end;
    }
    false
}

/// Every type text of the surface item at `path`, each with the member it belongs to (a
/// field, variant or trait item), `None` for the item itself. Inherent methods and consts are
/// read from their `impl` blocks instead, with that module's imports.
fn item_types<'s>(surface: &'s Surface, path: &str) -> Vec<(Option<&'s str>, &'s str)> {
    let mut out = Vec::new();
    if let Some(def) = surface.traits.get(path) {
        out.push((None, def.generics.as_str()));
        out.extend(def.supertraits.iter().map(|s| (None, s.as_str())));
        for (name, sig) in &def.methods {
            sig_types(Some(name), sig, &mut out);
        }
        for (name, assoc) in &def.types {
            out.push((Some(name.as_str()), assoc.bounds.as_str()));
        }
        for (name, assoc) in &def.consts {
            out.push((Some(name.as_str()), assoc.ty.as_str()));
        }
    }
    if let Some(def) = surface
        .structs
        .get(path)
        .or_else(|| surface.unions.get(path))
    {
        out.push((None, def.generics.as_str()));
        for (name, field) in &def.fields {
            out.push((Some(name.as_str()), field.ty.as_str()));
        }
    }
    if let Some(def) = surface.enums.get(path) {
        out.push((None, def.generics.as_str()));
        for (name, variant) in &def.variants {
            for field in variant.fields.values() {
                out.push((Some(name.as_str()), field.ty.as_str()));
            }
        }
    }
    if let Some(sig) = surface.functions.get(path) {
        sig_types(None, sig, &mut out);
    }
    if let Some(def) = surface.consts.get(path) {
        out.push((None, def.ty.as_str()));
    }
    out
}

fn sig_types<'s>(
    member: Option<&'s str>,
    sig: &'s FnSig,
    out: &mut Vec<(Option<&'s str>, &'s str)>,
) {
    out.push((member, sig.generics.as_str()));
    out.extend(sig.params.iter().map(|p| (member, p.as_str())));
    out.push((member, sig.output.as_str()));
}

/// Where the item at `path` (or its `member`) is declared.
fn location_of(surface: &Surface, path: &str, member: Option<&str>) -> Location {
    if let Some(def) = surface.traits.get(path) {
        return member
            .and_then(|m| {
                def.methods
                    .get(m)
                    .map(|sig| sig.loc.clone())
                    .or_else(|| def.types.get(m).map(|t| t.loc.clone()))
                    .or_else(|| def.consts.get(m).map(|c| c.loc.clone()))
            })
            .unwrap_or_else(|| def.loc.clone());
    }
    if let Some(def) = surface
        .structs
        .get(path)
        .or_else(|| surface.unions.get(path))
    {
        return member
            .and_then(|m| def.fields.get(m).map(|f| f.loc.clone()))
            .unwrap_or_else(|| def.loc.clone());
    }
    if let Some(def) = surface.enums.get(path) {
        return member
            .and_then(|m| def.variants.get(m).map(|v| v.loc.clone()))
            .unwrap_or_else(|| def.loc.clone());
    }
    if let Some(sig) = surface.functions.get(path) {
        return sig.loc.clone();
    }
    surface
        .consts
        .get(path)
        .map(|def| def.loc.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::surface::MemoryTree;

    fn mentions(lib: &str) -> Vec<(String, String)> {
        let tree = MemoryTree {
            files: [(PathBuf::from("src/lib.rs"), lib.to_owned())].into(),
        };
        Crate::load(&tree, Path::new("src/lib.rs"))
            .unwrap()
            .mentions_of("bytes")
            .into_iter()
            .map(|m| (m.item, m.text))
            .collect()
    }

    #[test]
    fn paths_imports_and_reexports_name_the_crate() {
        let found = mentions(
            "use bytes::Bytes;\n\
             use bytes::BufMut as Sink;\n\
             pub fn frame(body: bytes::Bytes) {}\n\
             pub struct Packet { pub body: Bytes }\n\
             pub trait Writer { fn write<S: Sink>(&self, sink: S); }\n\
             pub struct Wrapper(Bytes);\n\
             impl Wrapper { pub fn inner(&self) -> &::bytes::Bytes { &self.0 } }\n\
             pub fn sink(b: &mut ::bytes::BytesMut) {}\n\
             pub struct Frame;\n\
             impl From<Bytes> for Frame { fn from(_: Bytes) -> Frame { Frame } }\n\
             pub struct Local;\n\
             mod methods { use bytes::Bytes; impl super::Local { pub fn get(&self) -> Bytes { todo!() } } }\n\
             pub use bytes::Buf;\n",
        );
        assert_eq!(
            found,
            vec![
                ("Packet::body".to_owned(), "Bytes".to_owned()),
                ("Writer::write".to_owned(), "<S> where S: Sink".to_owned()),
                ("frame".to_owned(), "bytes::Bytes".to_owned()),
                ("sink".to_owned(), "&mut bytes::BytesMut".to_owned()),
                ("Wrapper::inner".to_owned(), "&bytes::Bytes".to_owned()),
                ("Frame".to_owned(), "impl From<Bytes> for Frame".to_owned()),
                ("Local::get".to_owned(), "Bytes".to_owned()),
                ("Buf".to_owned(), "pub use bytes::Buf".to_owned()),
            ]
        );
    }

    #[test]
    fn bounds_impl_generics_aliases_and_names_bound_through_the_crate_are_mentions() {
        let found = mentions(
            "pub fn read_buf<B: bytes::BufMut>(buf: &mut B) {}\n\
             pub fn drain<B>(buf: B) where B: bytes::Buf {}\n\
             pub struct Frame<B>(B);\n\
             impl<B: bytes::Buf> Frame<B> { pub fn len(&self) -> usize { 0 } }\n\
             pub type Body = bytes::Bytes;\n\
             type Raw = bytes::BytesMut;\n\
             pub fn raw() -> Raw { todo!() }\n\
             mod util { pub use bytes::Bytes as Chunk; }\n\
             use util::Chunk;\n\
             pub fn chunk() -> Chunk { todo!() }\n\
             mod globbed { use crate::util::*; pub fn via_glob() -> Chunk { todo!() } }\n\
             pub use globbed::via_glob;\n\
             extern crate bytes as b;\n\
             pub fn renamed() -> b::Bytes { todo!() }\n",
        );
        assert_eq!(
            found,
            vec![
                ("Body".to_owned(), "bytes::Bytes".to_owned()),
                ("chunk".to_owned(), "Chunk".to_owned()),
                ("drain".to_owned(), "<B> where B: bytes::Buf".to_owned()),
                ("raw".to_owned(), "Raw".to_owned()),
                (
                    "read_buf".to_owned(),
                    "<B> where B: bytes::BufMut".to_owned()
                ),
                ("renamed".to_owned(), "b::Bytes".to_owned()),
                ("via_glob".to_owned(), "Chunk".to_owned()),
                (
                    "Frame".to_owned(),
                    "impl<B> where B: bytes::Buf Frame<B>".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn private_uses_and_other_crates_paths_are_not_mentions() {
        let found = mentions(
            "use bytes::Bytes;\n\
             mod inner { pub fn hidden(b: bytes::Bytes) {} }\n\
             pub struct Opaque { body: Bytes }\n\
             pub fn other(b: other::Bytes) -> other::bytes::Thing { todo!() }\n\
             fn private(b: Bytes) {}\n\
             pub fn count(n: usize) -> usize { let _ = Bytes::new(); n }\n\
             struct Private;\n\
             impl From<Bytes> for Private { fn from(_: Bytes) -> Private { Private } }\n\
             pub struct Plain;\n\
             impl Clone for Plain { fn clone(&self) -> Plain { Plain } }\n\
             pub mod bytes { pub struct Local; }\n\
             pub fn local() -> bytes::Local { todo!() }\n",
        );
        assert_eq!(found, Vec::<(String, String)>::new());
    }
}
