//! Suggestions for a mistyped name (a member, a contract, a dependency): one rule for every
//! command, so `did you mean` means the same everywhere.

/// The known name closest to `name`, when one is close enough to be what was meant
/// (Jaro-Winkler similarity of 0.8 or more, which takes a dropped, doubled or swapped letter
/// and rejects unrelated names).
pub fn closest_name<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, candidate)| candidate)
}

/// `known: a, b; did you mean `a`?`: the sorted known names and the closest one, to follow an
/// "unknown NAME" error; `there are none` when nothing is known.
pub fn known_names_hint<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let mut known: Vec<&str> = known.into_iter().collect();
    known.sort_unstable();
    known.dedup();
    if known.is_empty() {
        return "there are none".to_owned();
    }
    let mut hint = format!("known: {}", known.join(", "));
    if let Some(closest) = closest_name(name, known.iter().copied()) {
        hint.push_str(&format!("; did you mean `{closest}`?"));
    }
    hint
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(closest_name("biling", ["auth", "billing"]), Some("billing"));
        assert_eq!(closest_name("ap", ["app", "core", "tool"]), Some("app"));
        assert_eq!(closest_name("tol", ["app", "core", "tool"]), Some("tool"));
        assert_eq!(closest_name("zzz", ["auth"]), None);
        assert_eq!(closest_name("x", []), None);
    }

    #[test]
    fn hint_lists_the_names_sorted_once() {
        assert_eq!(
            known_names_hint("biling", ["notification", "billing", "auth", "billing"]),
            "known: auth, billing, notification; did you mean `billing`?"
        );
        assert_eq!(known_names_hint("zzz", ["auth"]), "known: auth");
        assert_eq!(known_names_hint("x", []), "there are none");
    }
}
