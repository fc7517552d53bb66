//! Fuzz target: merging any base, environment and gray documents plus overrides never panics.
#![no_main]

use gray::{Document, Layer, LoadOptions, load_documents};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Sections separated by NUL: base, env file, gray file, then `NAME=VALUE` override lines.
    let mut parts = text.split('\0');
    let base = parts.next().unwrap_or_default();
    let env = parts.next().unwrap_or_default();
    let gray = parts.next().unwrap_or_default();
    let mut options = LoadOptions::new("unused").with_routes("billing", &["v1", "v2"]);
    for line in parts.next().unwrap_or_default().lines() {
        if let Some((name, value)) = line.split_once('=') {
            options = options.with_var(&format!("APP__{name}"), value);
        }
    }
    let documents = [
        Document {
            layer: Layer::Base,
            name: "base.toml",
            text: base,
        },
        Document {
            layer: Layer::Environment,
            name: "prod.toml",
            text: env,
        },
        Document {
            layer: Layer::Gray,
            name: "gray/a.toml",
            text: gray,
        },
    ];
    if let Ok(snapshot) = load_documents(&documents, &options) {
        let _ = snapshot.entries();
        let _ = snapshot.deserialize::<std::collections::BTreeMap<String, toml::Value>>();
    }
});
