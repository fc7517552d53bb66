//! Fuzz target: parsing any `[gray]` section and deciding on it never panics.
#![no_main]

use gray::{Document, Layer, LoadOptions, RequestView, load_documents};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The document, then after a NUL the request path and a user id for the decision.
    let mut parts = text.split('\0');
    let document = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or("/");
    let user = parts.next().unwrap_or_default();
    let options = LoadOptions::new("unused")
        .with_routes("billing", &["v1", "v2"])
        .with_var("INSTANCE_LABELS", "env=prod,zone=cn-east,canary=true")
        .with_var("ENABLE_FEATURE_X", "true");
    let documents = [
        Document {
            layer: Layer::Base,
            name: "base.toml",
            text: "[gray.default]\nbilling = \"v1\"\n",
        },
        Document {
            layer: Layer::Gray,
            name: "gray/rules.toml",
            text: document,
        },
    ];
    if let Ok(snapshot) = load_documents(&documents, &options) {
        let headers = [("X-Canary", "v2"), ("X-User-Id", user)];
        let decision = snapshot.decide(
            "billing",
            &RequestView {
                path,
                headers: &headers,
            },
        );
        assert!(
            decision.route.is_some(),
            "a default is configured, so every decision has a route"
        );
    }
});
