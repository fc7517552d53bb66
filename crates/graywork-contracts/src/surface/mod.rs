//! Surface extraction: parse a crate's sources with syn and record its public API as
//! normalised token strings (traits, structs, enums, functions and consts).
//!
//! The crate is walked from its root file through `mod` declarations (files on disk or inline,
//! with `#[path]`), and the public surface is what can be named from outside: `pub` items in
//! `pub` modules, plus everything reached through `pub use` re-exports (single names, renames,
//! groups and globs). `#[doc(hidden)]` and private items are left out; hidden paths are kept
//! apart so the diff can say "now doc-hidden" instead of "missing".
//!
//! One concern per module: [`model`] (the data), [`source`] (reading and parsing files),
//! [`resolve`] (the module walker and name resolution), `extract` (one syn item to its
//! record) and [`render`] (tokens to normalised text).

pub(crate) mod cfg;
mod expand;
mod extract;
pub(crate) mod model;
pub(crate) mod render;
pub(crate) mod resolve;
pub(crate) mod source;

use std::path::Path;

use anyhow::Context;

pub(crate) use cfg::CfgEnv;
pub use model::*;
pub use render::tidy;
pub use resolve::{Crate, Mention};
pub(crate) use resolve::{TraitImpl, UseKind, UseSite};
pub(crate) use source::{DiskTree, MemoryTree, SourceTree, Told, crate_root, slash_path};

/// Extracts the public surface of the crate whose root file is `root_file` (relative to the tree,
/// usually `src/lib.rs`).
///
/// Errors name the file and line of a parse error, or the `mod` whose file is missing.
pub(crate) fn extract(tree: &dyn SourceTree, root_file: &Path) -> anyhow::Result<Surface> {
    Ok(Crate::load(tree, root_file)?.surface())
}

/// Reads and extracts a crate directory on disk, rooted at `src/lib.rs` (or `src/main.rs`).
pub fn extract_dir(dir: &Path) -> anyhow::Result<Surface> {
    let tree = DiskTree {
        root: dir.to_path_buf(),
    };
    let root = crate_root(&tree)
        .with_context(|| format!("crate directory `{}` has no src/lib.rs", dir.display()))?;
    extract(&tree, &root)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn tree_of(files: &[(&str, &str)]) -> MemoryTree {
        MemoryTree {
            files: files
                .iter()
                .map(|(path, text)| (PathBuf::from(path), text.to_string()))
                .collect(),
        }
    }

    fn surface_of(files: &[(&str, &str)]) -> Surface {
        extract(&tree_of(files), Path::new("src/lib.rs")).expect("fixture parses")
    }

    /// The error extracting the crate rooted at `src/lib.rs` gives.
    /// What the surface did not read, a line each: `file:line kind: detail`.
    fn unread_lines(surface: &Surface) -> Vec<String> {
        surface
            .unread
            .iter()
            .map(|u| format!("{} {}: {}", u.loc, u.kind.name(), u.detail))
            .collect()
    }

    fn error_of(files: &[(&str, &str)]) -> String {
        extract(&tree_of(files), Path::new("src/lib.rs"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn follows_files_inline_modules_and_reexports() {
        let surface = surface_of(&[
            (
                "src/lib.rs",
                "pub mod billing; mod inner { pub struct Hidden; pub struct Shown; } pub use inner::Shown as Visible;",
            ),
            ("src/billing/mod.rs", "pub mod v1;"),
            (
                "src/billing/v1.rs",
                "pub const VERSION: &str = \"1.2.0\"; pub trait Service { fn go(&self, amount: u64) -> u64; } pub use crate::money::*;",
            ),
            ("src/money.rs", ""),
        ]);
        // `money` is not declared as a module, so the glob resolves to nothing.
        assert!(surface.traits.contains_key("billing::v1::Service"));
        assert!(surface.structs.contains_key("Visible"));
        assert!(!surface.structs.contains_key("inner::Hidden"));
        assert_eq!(
            surface.versions.get("billing::v1").map(String::as_str),
            Some("1.2.0")
        );
        let method = &surface.traits["billing::v1::Service"].methods["go"];
        assert_eq!(method.params, vec!["u64".to_string()]);
        assert_eq!(method.loc.file, "src/billing/v1.rs");
    }

    #[test]
    fn private_supertrait_seals_and_is_not_listed() {
        let surface = surface_of(&[(
            "src/lib.rs",
            "mod private { pub trait Sealed {} } pub trait Api: private::Sealed + Send { fn a(&self); }",
        )]);
        let api = &surface.traits["Api"];
        assert!(api.sealed);
        assert_eq!(
            api.supertraits.iter().cloned().collect::<Vec<_>>(),
            vec!["Send".to_string()]
        );
    }

    #[test]
    fn hidden_members_are_recorded_apart() {
        let surface = surface_of(&[(
            "src/lib.rs",
            "pub trait T { #[doc(hidden)] fn h(&self); fn v(&self); } pub struct S { pub a: u8, #[doc(hidden)] pub b: u8 } #[doc(hidden)] pub fn f() {}",
        )]);
        assert!(surface.traits["T"].methods.contains_key("v"));
        assert!(!surface.traits["T"].methods.contains_key("h"));
        assert!(surface.hidden.contains("T::h"));
        assert!(surface.hidden.contains("S::b"));
        assert!(surface.hidden.contains("f"));
        assert!(surface.structs["S"].private_fields);
    }

    #[test]
    fn cfg_of_module_and_item_is_joined() {
        let surface = surface_of(&[(
            "src/lib.rs",
            "#[cfg(feature = \"v2\")] pub mod v2 { #[cfg(unix)] pub fn f() {} pub struct S; }",
        )]);
        assert_eq!(
            surface.functions["v2::f"].cfg.as_deref(),
            Some("all(feature = \"v2\", unix)")
        );
        assert_eq!(
            surface.structs["v2::S"].cfg.as_deref(),
            Some("feature = \"v2\"")
        );
    }

    #[test]
    fn function_bodies_are_skipped_but_defaults_and_lines_are_kept() {
        let surface = surface_of(&[(
            "src/lib.rs",
            "#!/usr/bin/env run\npub trait T {\n    fn a(&self) -> u8 { let x = 1; x }\n    fn b(&self);\n}\npub fn f() { fn inner() {} }\nmod m { pub fn g() {} }\npub use m::g;\n",
        )]);
        let t = &surface.traits["T"];
        assert!(t.methods["a"].default);
        assert!(!t.methods["b"].default);
        assert_eq!(t.methods["b"].loc.line, 4);
        assert_eq!(surface.functions["g"].loc.line, 7);
        assert!(surface.functions.contains_key("f"));
    }

    #[test]
    fn lexer_error_names_file_and_line() {
        let err = error_of(&[("src/lib.rs", "pub fn f() {\n\n")]);
        assert!(err.starts_with("src/lib.rs:"), "{err}");
        assert!(err.contains("parse error"), "{err}");
    }

    #[test]
    fn raw_identifiers_and_paths_inside_inline_modules_are_followed() {
        let surface = surface_of(&[
            (
                "src/lib.rs",
                "pub mod r#type; pub mod outer { #[path = \"inner_file.rs\"] pub mod inner; } pub mod a;",
            ),
            ("src/type.rs", "pub struct T; pub fn r#match() {}"),
            ("src/outer/inner_file.rs", "pub struct I;"),
            // In a file that is not a mod.rs, an inline module's directory is under the
            // file's own module directory.
            ("src/a.rs", "pub mod b { #[path = \"c.rs\"] pub mod c; }"),
            ("src/a/b/c.rs", "pub struct C;"),
        ]);
        assert!(surface.structs.contains_key("type::T"), "{surface:?}");
        assert!(surface.functions.contains_key("type::match"));
        assert!(surface.structs.contains_key("outer::inner::I"));
        assert!(surface.structs.contains_key("a::b::c::C"));

        // A `path` given through `cfg_attr` whose predicate may hold is followed.
        let surface = surface_of(&[
            (
                "src/lib.rs",
                "#[cfg_attr(unix, path = \"sys/unix.rs\")] pub mod sys;",
            ),
            ("src/sys/unix.rs", "pub struct Fd;"),
        ]);
        assert!(surface.structs.contains_key("sys::Fd"), "{surface:?}");
    }

    #[test]
    fn item_wrapping_macros_are_expanded_with_their_cfgs() {
        let surface = surface_of(&[
            (
                "src/lib.rs",
                "#[macro_use] mod macros;\n\
                 cfg_codec! { pub mod codec; pub use codec::Codec; }\n\
                 one_item! { pub fn unix_only() {} }\n\
                 trees! { pub struct InTrees; }\n\
                 cfg_if::cfg_if! { if #[cfg(unix)] { pub fn a() {} } \
                 else if #[cfg(windows)] { pub fn b() {} } else { pub fn c() {} } }",
            ),
            (
                "src/macros.rs",
                "macro_rules! cfg_codec { ($($item:item)*) => { $( #[cfg(feature = \"codec\")] \
                 #[cfg_attr(docsrs, doc(cfg(feature = \"codec\")))] $item )* } }\n\
                 macro_rules! one_item { () => {}; ($item:item) => { #[cfg(unix)] $item } }\n\
                 macro_rules! trees { ($($t:tt)*) => { pub mod wrapped { $($t)* } } }",
            ),
            ("src/codec.rs", "pub struct Codec;"),
        ]);
        let cfg_of = |path: &str| surface.structs.get(path).map(|s| s.cfg.clone());
        assert_eq!(
            cfg_of("codec::Codec"),
            Some(Some("feature = \"codec\"".to_string())),
            "{surface:?}"
        );
        assert_eq!(
            cfg_of("Codec"),
            Some(Some("feature = \"codec\"".to_string()))
        );
        assert_eq!(surface.functions["unix_only"].cfg.as_deref(), Some("unix"));
        assert!(surface.structs.contains_key("wrapped::InTrees"));
        let fn_cfg = |name: &str| surface.functions[name].cfg.clone().unwrap_or_default();
        assert_eq!(fn_cfg("a"), "all(unix)");
        assert_eq!(fn_cfg("b"), "all(not(unix), windows)");
        assert_eq!(fn_cfg("c"), "all(not(unix), not(windows))");
        assert!(surface.unread.is_empty(), "{:?}", surface.unread);
    }

    #[test]
    fn macros_that_cannot_be_expanded_are_reported_unread() {
        let surface = surface_of(&[(
            "src/lib.rs",
            "bitflags::bitflags! { pub struct Flags: u32 { const A = 1; } }\n\
             pub use some_derive::*;\n\
             macro_rules! custom { ($name:ident) => { pub struct $name; } }\n\
             custom!(Made);\n\
             thread_local! { pub static LOCAL: u8 = 0; }\n\
             thread_local! { static PRIVATE_ONLY: u8 = 0; }",
        )]);
        let parts = unread_lines(&surface);
        insta::assert_debug_snapshot!(parts, @r#"
        [
            "src/lib.rs:1 macro: `bitflags::bitflags!` may declare `A`, `Flags`",
            "src/lib.rs:4 macro: `custom!` may declare `Made`",
            "src/lib.rs:5 macro: `thread_local!` may declare `LOCAL`",
            "src/lib.rs:2 external glob: `pub use some_derive::*` re-exports names of another crate, which cannot be listed",
        ]
        "#);
    }

    #[test]
    fn rust_2015_anonymous_trait_parameters_are_read() {
        let surface = surface_of(&[(
            "src/lib.rs",
            "pub trait Reseed<Seed> { fn reseed(&mut self, Seed); fn pair(&self, u8, Vec<(u8, u16)>) -> u8; \
             fn named(&self, callback: fn(u8) -> u8, map: std::collections::HashMap<u8, u8>); \
             fn generic<F: Fn(&u8, &[u8]) -> usize>(&self, f: F); }",
        )]);
        let methods = &surface.traits["Reseed"].methods;
        assert_eq!(methods["reseed"].params, ["Seed"]);
        assert_eq!(methods["pair"].params, ["u8", "Vec<(u8, u16)>"]);
        assert_eq!(
            methods["named"].params,
            ["fn(u8) -> u8", "std::collections::HashMap<u8, u8>"]
        );
        assert_eq!(methods["generic"].params, ["F"]);
    }

    #[test]
    fn parse_error_names_file_and_line() {
        let err = error_of(&[("src/lib.rs", "pub struct A;\npub fn (")]);
        assert!(err.starts_with("src/lib.rs:2:"), "{err}");
        // A module file that cannot be parsed is reported unread; the rest is still read.
        let surface = surface_of(&[
            ("src/lib.rs", "pub mod a;\npub struct Kept;"),
            ("src/a.rs", "\npub fn ("),
        ]);
        assert!(surface.structs.contains_key("Kept"));
        let [unread] = surface.unread.as_slice() else {
            panic!("{:?}", surface.unread)
        };
        assert_eq!(unread.kind, UnreadKind::Unparsed);
        assert_eq!(unread.loc.to_string(), "src/lib.rs:1");
        assert!(unread.detail.contains("src/a.rs:2:"), "{}", unread.detail);
    }

    #[test]
    fn module_file_that_encloses_itself_is_an_error() {
        let again = "#[path = \"../src/./a.rs\"]\npub mod again;";
        for files in [
            vec![("src/lib.rs", "#[path = \"lib.rs\"]\npub mod a;")],
            // A disk tree reads the second spelling as the same file.
            vec![
                ("src/lib.rs", "pub mod a;"),
                ("src/a.rs", again),
                ("src/../src/./a.rs", again),
            ],
        ] {
            let err = error_of(&files);
            assert!(err.contains("which encloses it"), "{err}");
        }
    }

    #[test]
    fn included_files_are_read_where_they_are_included() {
        // `include!` of a literal file: its items in the including module, at its own lines,
        // its `mod` files beside it and its cfgs applied; a file the build names, a file that
        // is not there, one that does not parse and one including itself are reported unread.
        let surface = surface_of(&[
            (
                "src/lib.rs",
                "pub mod api {\n    include!(\"../gen/api.rs\");\n}\n                 include!(concat!(env!(\"OUT_DIR\"), \"/bindings.rs\"));\n                 std::include!(\"missing.rs\");\n                 include!(\"broken.rs\");\n                 include!(\"again.rs\");\n",
            ),
            (
                "gen/api.rs",
                "pub fn generated() {}\n#[cfg(any())]\npub fn never() {}\npub mod nested;\n",
            ),
            ("gen/nested.rs", "pub struct Deep;\n"),
            ("src/broken.rs", "pub fn (\n"),
            (
                "src/again.rs",
                "include!(\"again.rs\");\npub struct Once;\n",
            ),
        ]);
        assert_eq!(
            surface.functions["api::generated"].loc.to_string(),
            "gen/api.rs:1"
        );
        assert!(!surface.functions.contains_key("api::never"));
        assert_eq!(
            surface.structs["api::nested::Deep"].loc.to_string(),
            "gen/nested.rs:1"
        );
        assert!(surface.structs.contains_key("Once"));
        let parts = unread_lines(&surface);
        insta::assert_debug_snapshot!(parts, @r#"
        [
            "src/lib.rs:4 macro: `include!(concat!(env!(\"OUT_DIR\"), \"/bindings.rs\"))` names a file only the build knows: the items in it are not read",
            "src/lib.rs:5 macro: `include!(\"missing.rs\")`: `src/missing.rs` is not there, so the items in it are not read",
            "src/lib.rs:6 unparsed file: `include!(\"broken.rs\")` cannot be parsed: src/broken.rs:1:8: parse error: cannot parse string into token stream",
            "src/again.rs:1 macro: `include!(\"again.rs\")` includes a file that encloses it",
        ]
        "#);
    }

    #[test]
    fn missing_module_file_is_an_error() {
        let err = error_of(&[("src/lib.rs", "pub mod gone;")]);
        assert!(err.contains("module `gone` has no file"), "{err}");
    }
}
