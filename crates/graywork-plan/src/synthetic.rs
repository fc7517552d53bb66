//! Synthetic `cargo metadata` documents: random workspaces of any size, for the planner's
//! benchmarks and property tests.

use std::fmt::Write as _;

/// One crate of a synthetic workspace; dependencies are indices of other crates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyntheticCrate {
    /// Normal dependencies.
    pub deps: Vec<usize>,
    /// Build dependencies.
    pub build_deps: Vec<usize>,
    /// Dev dependencies (may point anywhere, cycles included).
    pub dev_deps: Vec<usize>,
}

/// The name of synthetic crate `index`.
pub fn crate_name(index: usize) -> String {
    format!("crate-{index:05}")
}

/// A random workspace of `count` crates: each depends on about `average_deps` earlier crates
/// (a DAG), some through build dependencies, and about one crate in ten dev-depends on a
/// later crate, closing a dev-dependency cycle.
pub fn random_workspace(count: usize, average_deps: usize, seed: u64) -> Vec<SyntheticCrate> {
    let mut random = SplitMix64(seed);
    let mut crates = Vec::with_capacity(count);
    for index in 0..count {
        let mut krate = SyntheticCrate::default();
        if index > 0 {
            let wanted = random.below(2 * average_deps as u64 + 1) as usize;
            for _ in 0..wanted.min(index) {
                // Bias toward recent crates so chains get long, as in real workspaces.
                let back = 1 + random.below(index.min(64) as u64) as usize;
                let target = if random.below(4) == 0 {
                    random.below(index as u64) as usize
                } else {
                    index - back
                };
                if krate.deps.contains(&target) || krate.build_deps.contains(&target) {
                    continue;
                }
                if random.below(10) == 0 {
                    krate.build_deps.push(target);
                } else {
                    krate.deps.push(target);
                }
            }
        }
        if index + 1 < count && random.below(10) == 0 {
            let later = index + 1 + random.below((count - index - 1) as u64) as usize;
            krate.dev_deps.push(later);
        }
        crates.push(krate);
    }
    crates
}

/// The `cargo metadata --format-version 1 --no-deps` document of a synthetic workspace rooted
/// at `/synthetic`.
pub fn metadata_json(crates: &[SyntheticCrate]) -> String {
    let mut out = String::with_capacity(crates.len() * 1200);
    out.push_str("{\"packages\":[");
    for (index, krate) in crates.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let name = crate_name(index);
        let _ = write!(
            out,
            "{{\"name\":\"{name}\",\"version\":\"1.0.0\",\"id\":\"{}\",\"source\":null,\
             \"dependencies\":[",
            package_id(index)
        );
        let mut first = true;
        let kinds = [
            (&krate.deps, "null"),
            (&krate.build_deps, "\"build\""),
            (&krate.dev_deps, "\"dev\""),
        ];
        for (deps, kind) in kinds {
            for &dep in deps {
                if !first {
                    out.push(',');
                }
                first = false;
                let _ = write!(
                    out,
                    "{{\"name\":\"{}\",\"source\":null,\"req\":\"^1.0\",\"kind\":{kind},\
                     \"optional\":false,\"uses_default_features\":true,\"features\":[],\
                     \"target\":null,\"rename\":null,\"registry\":null,\
                     \"path\":\"/synthetic/{}\"}}",
                    crate_name(dep),
                    crate_name(dep)
                );
            }
        }
        let _ = write!(
            out,
            "],\"targets\":[{{\"kind\":[\"lib\"],\"crate_types\":[\"lib\"],\"name\":\"{lib}\",\
             \"src_path\":\"/synthetic/{name}/src/lib.rs\",\"edition\":\"2024\"}}],\
             \"features\":{{\"default\":[\"std\"],\"std\":[],\"extra\":[]}},\
             \"manifest_path\":\"/synthetic/{name}/Cargo.toml\",\"metadata\":null,\
             \"edition\":\"2024\",\"rust_version\":\"1.85\"}}",
            lib = name.replace('-', "_"),
        );
    }
    out.push_str("],\"workspace_members\":[");
    for index in 0..crates.len() {
        if index > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{}\"", package_id(index));
    }
    out.push_str(
        "],\"resolve\":null,\"workspace_root\":\"/synthetic\",\
         \"target_directory\":\"/synthetic/target\",\"version\":1}",
    );
    out
}

fn package_id(index: usize) -> String {
    format!("path+file:///synthetic/{}#1.0.0", crate_name(index))
}

/// A small, seedable generator (SplitMix64), so benchmarks are reproducible without a
/// dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { self.next() % bound }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use graywork_workspace::Workspace;

    #[test]
    fn synthetic_metadata_loads() {
        let crates = random_workspace(200, 6, 7);
        let workspace = Workspace::from_json(&metadata_json(&crates)).unwrap();
        assert_eq!(workspace.members.len(), 200);
        let declared: usize = crates
            .iter()
            .map(|c| c.deps.len() + c.build_deps.len() + c.dev_deps.len())
            .sum();
        let resolved: usize = workspace
            .members
            .iter()
            .flat_map(|m| &m.dependencies)
            .filter(|d| d.member.is_some())
            .count();
        assert_eq!(resolved, declared);
        assert!(crates.iter().any(|c| !c.dev_deps.is_empty()));
        assert!(crates.iter().any(|c| !c.build_deps.is_empty()));
    }
}
