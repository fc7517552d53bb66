//! The one rule for what configuration output hides: values under secret-looking key names, at
//! any depth, and passwords in URLs in any string.
//!
//! Every output that shows configuration values goes through here: the gateway's
//! `/debug/config`, `gateway config show` and `gateway gray explain`, the explanations of
//! inactive rules, and the messages of deserialization errors that logs print. So a value hidden
//! in one place is hidden in all of them.
//!
//! A key is judged by its name, case-insensitively, split into words at `_`, `-`, `.`, spaces
//! and camelCase humps:
//!
//! - a name whose last word is `env` (`password_env`, `tokenEnv`) holds the *name* of an
//!   environment variable and is shown;
//! - a name containing `password`, `passwd`, `passphrase`, `pwd`, `secret`, `token`,
//!   `credential`, `apikey`, `privatekey`, `accesskey`, `signingkey` or `authorization` (with the
//!   separators removed: `api_key`, `API-KEY` and `apiKey` alike), or with the word `pass`, or
//!   whose last word is `key` or `keys` (`key`, `hmac_key`), hides its value whatever its shape:
//!   a table or array under such a name is hidden whole;
//! - a name whose last word is `auth` (`auth`, `basic_auth`) hides a value that is not a table;
//!   a table of that name (the gateway's `[auth]` section) is judged key by key.
//!
//! Any other string value is shown with the password of every URL in it hidden
//! (`postgres://app:<redacted>@db/invoices`).

use std::borrow::Cow;

/// What a hidden value shows.
pub const REDACTED: &str = "<redacted>";

/// `value`, set at the dotted `path` (`db.replicas`, `gray.rules[0].headers`), as output may
/// show it: hidden whole when a part of the path names a secret, otherwise with every secret
/// inside it (in tables, arrays of tables, URLs in strings) hidden.
pub fn redact_value(path: &str, value: &toml::Value) -> toml::Value {
    match path_secrecy(path) {
        Secrecy::Secret => hidden(),
        Secrecy::SecretUnlessTable if !value.is_table() => hidden(),
        _ => redact_inside(value),
    }
}

/// The string `value`, set at the dotted `path`, as output may show it: [`REDACTED`] when the
/// path names a secret, otherwise `value` with the passwords of its URLs hidden.
pub fn redact_str<'a>(path: &str, value: &'a str) -> Cow<'a, str> {
    match path_secrecy(path) {
        Secrecy::Secret | Secrecy::SecretUnlessTable => Cow::Borrowed(REDACTED),
        Secrecy::Shown => redact_urls(value),
    }
}

/// Whether the value of the dotted `path` is hidden whole, whatever it holds (a table named
/// `auth` is not; a string named `auth` is).
pub fn is_secret_path(path: &str) -> bool {
    path_secrecy(path) != Secrecy::Shown
}

/// `text` with the password of every URL in it (`scheme://user:password@host`) replaced by
/// [`REDACTED`]; borrowed when there is none.
pub fn redact_urls(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find("://") {
        let authority_start = search + found + 3;
        search = authority_start;
        let scheme = text[..authority_start - 3]
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .next()
            .unwrap_or("");
        if !scheme.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        // The userinfo ends at the last `@` before the URL ends (whitespace, a quote, or the
        // next URL); a password with a `/` or `@` in it is still hidden whole.
        let rest = &text[authority_start..];
        let mut end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .unwrap_or(rest.len());
        if let Some(next) = rest[..end].find("://") {
            end = next;
        }
        let Some(at) = rest[..end].rfind('@') else {
            continue;
        };
        let Some(colon) = rest[..at].find(':') else {
            continue;
        };
        let password_start = authority_start + colon + 1;
        let password_end = authority_start + at;
        if password_start == password_end || &text[password_start..password_end] == REDACTED {
            continue;
        }
        out.push_str(&text[copied..password_start]);
        out.push_str(REDACTED);
        copied = password_end;
        search = password_end;
    }
    if copied == 0 {
        Cow::Borrowed(text)
    } else {
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }
}

/// How a key name is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Secrecy {
    /// Shown (strings with URL passwords hidden).
    Shown,
    /// Hidden whatever the value's shape.
    Secret,
    /// Hidden unless the value is a table, which is judged key by key.
    SecretUnlessTable,
}

/// Name stems that mark a secret anywhere in a name, matched with separators removed.
const SECRET_STEMS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "credential",
    "apikey",
    "privatekey",
    "accesskey",
    "signingkey",
    "authorization",
];

fn name_secrecy(name: &str) -> Secrecy {
    let words = words(name);
    let Some(last) = words.last() else {
        return Secrecy::Shown;
    };
    if last == "env" {
        return Secrecy::Shown;
    }
    let joined: String = words.concat();
    if SECRET_STEMS.iter().any(|stem| joined.contains(stem))
        || words.iter().any(|word| word == "pass")
        || last == "key"
        || last == "keys"
    {
        return Secrecy::Secret;
    }
    if last == "auth" {
        return Secrecy::SecretUnlessTable;
    }
    Secrecy::Shown
}

/// How the value at a dotted path is treated: a secret ancestor hides everything under it; the
/// last part decides otherwise.
fn path_secrecy(path: &str) -> Secrecy {
    let mut parts = path_names(path).peekable();
    while let Some(name) = parts.next() {
        let secrecy = name_secrecy(name);
        if parts.peek().is_none() {
            return secrecy;
        }
        if secrecy == Secrecy::Secret {
            return Secrecy::Secret;
        }
    }
    Secrecy::Shown
}

/// The key names of a dotted path with `[n]` indices: `a.b[0].c` gives `a`, `b`, `c`.
fn path_names(path: &str) -> impl Iterator<Item = &str> {
    path.split('.')
        .map(|segment| segment.split('[').next().unwrap_or(segment))
        .filter(|name| !name.is_empty())
}

/// Lowercase words of a name, split at separators and at lowercase-to-uppercase humps.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if matches!(c, '_' | '-' | '.' | ' ') {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

fn hidden() -> toml::Value {
    toml::Value::String(REDACTED.to_owned())
}

/// The secrets inside `value` hidden: keys of its tables (in arrays too) by their names,
/// strings by their URLs.
fn redact_inside(value: &toml::Value) -> toml::Value {
    match value {
        toml::Value::String(text) => toml::Value::String(redact_urls(text).into_owned()),
        toml::Value::Array(items) => toml::Value::Array(items.iter().map(redact_inside).collect()),
        toml::Value::Table(table) => toml::Value::Table(
            table
                .iter()
                .map(|(key, child)| {
                    let shown = match name_secrecy(key) {
                        Secrecy::Secret => hidden(),
                        Secrecy::SecretUnlessTable if !child.is_table() => hidden(),
                        _ => redact_inside(child),
                    };
                    (key.clone(), shown)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> toml::Value {
        toml::Value::Table(toml::from_str(text).unwrap())
    }

    #[test]
    fn secret_names_are_hidden_in_any_case_and_spelling() {
        for path in [
            "db.password",
            "db.PASSWORD",
            "db.passwd",
            "db.pwd",
            "db.pass",
            "vault.secret",
            "oauth.client_secret",
            "github.token",
            "cloud.credentials",
            "cloud.credential",
            "stripe.api_key",
            "stripe.apiKey",
            "stripe.API-KEY",
            "stripe.apikey",
            "tls.private_key",
            "tls.key",
            "keys.primary",
            "secrets.db",
            "proxy.authorization",
            "proxy.basic_auth",
            "ssh.passphrase",
        ] {
            assert!(is_secret_path(path), "{path}");
            assert_eq!(redact_str(path, "hunter2"), REDACTED, "{path}");
        }
    }

    #[test]
    fn variable_names_and_plain_keys_are_shown() {
        for path in [
            "admin.token_env",
            "auth.secret_env",
            "etcd.password_env",
            "payments.tokenEnv",
            "auth.key_id",
            "etcd.username",
            "server.listen",
            "gray.rules[0].name",
            "storage.path",
            "monkey.business",
            "bypass.enabled",
        ] {
            assert!(!is_secret_path(path), "{path}");
            assert_eq!(redact_str(path, "shown"), "shown", "{path}");
        }
    }

    #[test]
    fn a_table_named_auth_is_judged_key_by_key_but_an_auth_string_is_hidden() {
        let config = value("[auth]\nkey_id = 'k'\nsecret_env = 'S'\nsigning_key = 'x'\n");
        assert_eq!(
            redact_value("", &config),
            value("[auth]\nkey_id = 'k'\nsecret_env = 'S'\nsigning_key = '<redacted>'\n")
        );
        assert_eq!(
            redact_value("proxy.auth", &toml::Value::String("user:pw".into())),
            hidden()
        );
    }

    #[test]
    fn secrets_inside_arrays_of_tables_are_hidden_at_any_depth() {
        let replicas = value(
            "[[replicas]]\nhost = 'a'\npassword = 'p1'\n[[replicas]]\nhost = 'b'\n[replicas.login]\nPwd = 'p2'\nuser = 'u'\n",
        );
        let shown = redact_value("db", &replicas).to_string();
        assert!(!shown.contains("p1") && !shown.contains("p2"), "{shown}");
        assert!(
            shown.contains("host = \"a\"") && shown.contains("user = \"u\""),
            "{shown}"
        );
    }

    #[test]
    fn a_secret_ancestor_hides_everything_under_it() {
        assert_eq!(
            redact_value("credentials.replicas", &value("[[x]]\nhost = 'a'\n")),
            hidden()
        );
    }

    #[test]
    fn url_passwords_are_hidden_in_any_string() {
        let cases = [
            (
                "postgres://user:secret@host/db",
                "postgres://user:<redacted>@host/db",
            ),
            (
                "redis://:s3cret@cache:6379",
                "redis://:<redacted>@cache:6379",
            ),
            (
                "mongodb+srv://app:p@ss/w0rd@cluster.example/x",
                "mongodb+srv://app:<redacted>@cluster.example/x",
            ),
            (
                "primary http://a:1@x, replica http://b:2@y",
                "primary http://a:<redacted>@x, replica http://b:<redacted>@y",
            ),
            ("https://example.com/@user", "https://example.com/@user"),
            ("https://user@example.com", "https://user@example.com"),
            ("no url here: a:b@c", "no url here: a:b@c"),
            ("", ""),
        ];
        for (text, expected) in cases {
            assert_eq!(redact_urls(text), expected, "{text}");
            assert_eq!(redact_str("db.url", text), expected, "{text}");
        }
        assert!(matches!(redact_urls("http://host/x"), Cow::Borrowed(_)));
        let nested = value("[[db]]\nurl = 'postgres://u:pw@h/d'\n");
        assert!(!redact_value("", &nested).to_string().contains("pw@"));
    }

    #[test]
    fn names_split_into_words_at_separators_and_humps() {
        assert_eq!(words("apiKey"), ["api", "key"]);
        assert_eq!(words("DB_PASSWORD"), ["db", "password"]);
        assert_eq!(words("x-api-key"), ["x", "api", "key"]);
        assert_eq!(words("tokenEnv"), ["token", "env"]);
        assert_eq!(words("HTTPServer"), ["httpserver"]);
    }
}
