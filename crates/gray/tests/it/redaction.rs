//! Secrets never reach the texts a snapshot hands out for display: deserialization errors (which
//! logs and 422 answers print) and the explanations of inactive rules.

use gray::load;

use crate::{config_dir, options};

#[test]
fn a_value_that_does_not_fit_a_secret_key_is_not_quoted_in_the_error() {
    let dir = config_dir(&[(
        "base.toml",
        "[db]\npassword = 'hunter2'\nurl = 'postgres://app:hunter3@db/x'\nport = 'hunter4'\n",
    )]);
    let snapshot = load(&options(dir.path())).unwrap();
    let error = snapshot.get::<u16>("db.password").unwrap_err();
    assert_eq!(error.key(), Some("db.password"));
    assert!(!error.to_string().contains("hunter"), "{error}");
    assert!(error.to_string().contains("base.toml:2"), "{error}");
    // Another key's value is quoted as serde words it, with a URL's password hidden.
    let error = snapshot.get::<u16>("db.url").unwrap_err().to_string();
    assert!(!error.contains("hunter"), "{error}");
    assert!(error.contains("postgres://app:<redacted>@db/x"), "{error}");
    let error = snapshot.get::<u16>("db.port").unwrap_err().to_string();
    assert!(error.contains("hunter4"), "{error}");
}

#[test]
fn inactive_rules_do_not_show_the_values_of_secret_labels() {
    let dir = config_dir(&[(
        "base.toml",
        "[gray.labels]\napi_token = 'hunter-have'\nzone = 'cn-east'\n\n[[gray.rules]]\nname = 'by-token'\nlabels = { api_token = 'hunter-want' }\nroute = { billing = 'v2' }\n\n[[gray.rules]]\nname = 'by-zone'\nlabels = { zone = 'cn-west' }\nroute = { billing = 'v2' }\n",
    )]);
    let snapshot = load(&options(dir.path())).unwrap();
    let reasons: Vec<&str> = snapshot
        .rules()
        .iter()
        .map(|rule| rule.inactive_because.as_deref().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "label api_token=<redacted>, rule needs <redacted>",
            "label zone=cn-east, rule needs cn-west",
        ]
    );
}
