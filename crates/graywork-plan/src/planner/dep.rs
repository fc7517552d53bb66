//! `--dep NAME@VERSION`: shared `[workspace.dependencies]` entries (lockstep or side by side),
//! members' own requirements layered by their dependencies, and the tie that keeps a member
//! exposing the dependency's types in one stage with its dependents that use it.

use super::*;

/// Each declaration of a dependency, with its uses as `(member, dependency index)`.
type DependencySites = BTreeMap<Site, (Declared, Vec<(usize, usize)>)>;

/// Members tied to move together because one hands a dependency's types to the others.
#[derive(Debug, Default)]
struct ExposureTies {
    /// Exposer -> the dependents that use the dependency too, sorted by name.
    moves_with: BTreeMap<usize, Vec<usize>>,
    /// Exposer -> its name.
    exposer_names: BTreeMap<usize, String>,
    /// Exposer -> the code change that says why its stage holds its dependents.
    notes: BTreeMap<usize, Change>,
}

impl ExposureTies {
    /// Why `member` moves with others, to follow a placement reason (empty when it does not).
    fn why(&self, member: usize, name: &str) -> String {
        let exposers: Vec<&str> = self
            .moves_with
            .iter()
            .filter(|(exposer, dependents)| **exposer == member || dependents.contains(&member))
            .map(|(exposer, _)| self.exposer_names[exposer].as_str())
            .collect();
        if exposers.is_empty() {
            return String::new();
        }
        format!(
            "; {} names {name} types in its public API, so it moves in one stage with its dependents that use {name} too",
            exposers.join(" and ")
        )
    }
}

impl<'a> Builder<'a> {
    /// [`Builder::add_layered`] with each member that exposes a dependency's types moving in
    /// one layer with its dependents that use the dependency too (see [`ExposureTies`]).
    ///
    /// Each member's placement is `reason`, followed by why it is tied to others, if it is.
    fn add_layered_tied(
        &mut self,
        affected: &[bool],
        ties: &ExposureTies,
        name: &str,
        reason: &str,
        describe: &mut dyn FnMut(&Builder<'a>, LayerStage<'_>) -> StageDraft,
    ) {
        self.warn_cycles(affected);
        let reason = |member: usize| format!("{reason}{}", ties.why(member, name));
        if ties.moves_with.is_empty() {
            self.add_layers(affected, &reason, describe);
            return;
        }
        let pairs: Vec<(usize, usize)> = ties
            .moves_with
            .iter()
            .flat_map(|(&exposer, dependents)| dependents.iter().map(move |&n| (exposer, n)))
            .collect();
        let tied = self.graph.ordering_with_ties(&pairs);
        let untied = std::mem::replace(&mut self.ordering, tied);
        self.add_layers(affected, &reason, describe);
        self.ordering = untied;
    }

    /// A member whose public API names `name`'s types hands them to its users: a value of the
    /// old major does not fit where the new one is expected, so it moves in one stage with
    /// every dependent (direct or not) in `affected`. `exposers` are the members that can
    /// expose (they move to a semver-incompatible version); `done` says whether a group's
    /// change is made.
    fn exposure_ties(
        &self,
        exposers: &[bool],
        affected: &[bool],
        name: &str,
        version: &Version,
        done: &dyn Fn(&[usize]) -> bool,
    ) -> ExposureTies {
        let mut ties = ExposureTies::default();
        for (&exposer, exposures) in &self.facts.exposures {
            let Some(exposure) = exposures.first() else {
                continue;
            };
            if !exposers.get(exposer).copied().unwrap_or(false) {
                continue;
            }
            let closure = self.graph.ordering_dependents_closure(&[exposer]);
            let mut dependents: Vec<usize> = (0..affected.len())
                .filter(|&n| n != exposer && closure[n] && affected[n])
                .collect();
            if dependents.is_empty() {
                continue;
            }
            dependents.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
            let file = &exposure.file;
            let mut group = dependents.clone();
            group.push(exposer);
            let note = Change {
                crate_name: Some(self.name(exposer).to_owned()),
                kind: ChangeKind::Code,
                file: Some(file.clone()),
                line: Some(exposure.line),
                change: format!(
                    "{}, so it moves to {name} {version} in this stage with {}, which use{} {name} too: a value of the old major does not fit where the new one is expected",
                    if exposure.item.is_empty() {
                        format!(
                            "the public API of `{}` could not be read ({}) and is taken to name {name} types",
                            self.name(exposer),
                            exposure.text
                        )
                    } else {
                        format!(
                            "`{}` names {name} types in its public API (`{}`: `{}`, {file}:{})",
                            self.name(exposer),
                            exposure.item,
                            exposure.text,
                            exposure.line
                        )
                    },
                    self.member_list(&dependents),
                    if dependents.len() == 1 { "s" } else { "" },
                ),
                done: done(&group),
                ..Change::default()
            };
            ties.notes.insert(exposer, note);
            ties.exposer_names
                .insert(exposer, self.name(exposer).to_owned());
            ties.moves_with.insert(exposer, dependents);
        }
        ties
    }

    /// The members with a requirement of their own on `name` that must move in the lockstep
    /// stage of the shared entry, each with why: when the target is a new major for them, one
    /// that names `name`'s types in its public API and has a dependent in that stage, or one
    /// that depends on a member of that stage which does. Found to a fixed point, since each
    /// member pulled in can pull others.
    fn pulled_into_shared(
        &self,
        shared_users: &[usize],
        own: &BTreeMap<usize, Vec<(Declared, usize)>>,
        name: &str,
        version: &Version,
    ) -> BTreeMap<usize, String> {
        let mut pulled = BTreeMap::new();
        if !own_major_move(self.workspace, name, version) {
            return pulled;
        }
        let mut group: BTreeSet<usize> = shared_users.iter().copied().collect();
        // Each exposer's dependents, computed once.
        let closures: BTreeMap<usize, Vec<bool>> = self
            .facts
            .exposures
            .keys()
            .map(|&exposer| (exposer, self.graph.ordering_dependents_closure(&[exposer])))
            .collect();
        loop {
            let mut added = Vec::new();
            for &member in own.keys().filter(|m| !group.contains(m)) {
                // It exposes, and a member of the group depends on it.
                if let Some(closure) = closures.get(&member)
                    && let Some(&user) = group.iter().find(|&&g| closure[g])
                {
                    added.push((
                        member,
                        format!(
                            "it names {name} types in its public API, and `{}` uses them",
                            self.name(user)
                        ),
                    ));
                    continue;
                }
                // It depends on a member of the group that exposes.
                if let Some(&exposer) = group
                    .iter()
                    .find(|&g| closures.get(g).is_some_and(|closure| closure[member]))
                {
                    added.push((
                        member,
                        format!(
                            "it uses the {name} types `{}` names in its public API",
                            self.name(exposer)
                        ),
                    ));
                }
            }
            if added.is_empty() {
                return pulled;
            }
            for (member, why) in added {
                group.insert(member);
                pulled.insert(member, why);
            }
        }
    }

    /// Members with requirements of their own move before the side-by-side stages: a tie
    /// between one of them and a user of the shared entry (one exposes `name`'s types, the
    /// other uses them) cannot be kept, so the plan says so.
    fn warn_split_ties(
        &mut self,
        own: &BTreeMap<usize, Vec<(Declared, usize)>>,
        side_by_side: &[(usize, usize)],
        name: &str,
    ) {
        let side: BTreeSet<usize> = side_by_side.iter().map(|&(m, _)| m).collect();
        let mut warnings = Vec::new();
        for &early in own.keys().filter(|m| !side.contains(m)) {
            for &late in &side {
                let exposes = |exposer: usize, user: usize| {
                    self.facts.exposures.contains_key(&exposer)
                        && self.graph.ordering_dependents_closure(&[exposer])[user]
                };
                let (exposer, user) = if exposes(early, late) {
                    (early, late)
                } else if exposes(late, early) {
                    (late, early)
                } else {
                    continue;
                };
                warnings.push(format!(
                    "`{}` names {name} types in its public API and `{}` uses them, but `{}` moves with its own requirement before the side-by-side stages move `{}`: in between the two do not build together; declare {name} alike in both (both inherit the shared entry, or both declare their own)",
                    self.name(exposer),
                    self.name(user),
                    self.name(early),
                    self.name(late)
                ));
            }
        }
        self.warnings.extend(warnings);
    }

    pub(super) fn dep(&mut self, name: &str, version: &Version) -> anyhow::Result<()> {
        let target = format!("{name}@{version}");
        if self.workspace.member_index(name).is_some() {
            anyhow::bail!(
                "--dep {target}: `{name}` is a workspace member; bump it with --crate {name}@VERSION"
            );
        }
        let declarations = &self.workspace.declarations;
        let mut external: BTreeSet<&str> = BTreeSet::new();
        // Each declaration of the dependency, with the members using it.
        let mut sites: DependencySites = BTreeMap::new();
        for (position, member) in self.workspace.members.iter().enumerate() {
            for (index, dependency) in member.dependencies.iter().enumerate() {
                if dependency.member.is_none() {
                    external.insert(&dependency.name);
                    if dependency.name == name {
                        let declared = &declarations.members[position].dependencies[index];
                        sites
                            .entry(declared.site.clone())
                            .or_insert_with(|| (declared.clone(), Vec::new()))
                            .1
                            .push((position, index));
                    }
                }
            }
        }
        if sites.is_empty() {
            anyhow::bail!(
                "--dep {target}: no member depends on `{name}` ({})",
                known_names_hint(name, external.iter().copied())
            );
        }
        let dependency_done = |member: usize, index: usize| {
            requirement_meets(
                &self.workspace.members[member].dependencies[index].req,
                version,
            )
        };
        let downgrade = sites.values().any(|(_, uses)| {
            uses.iter().any(|&(m, i)| {
                let req = &self.workspace.members[m].dependencies[i].req;
                !dependency_done(m, i)
                    && requirement_floor(req).is_some_and(|floor| floor > *version)
            })
        });
        if downgrade {
            let message = format!(
                "{target} is below what the workspace requires today: this plan is a downgrade"
            );
            if !self.options.allow_downgrade {
                anyhow::bail!("--dep {message} (pass --allow-downgrade to plan it anyway)");
            }
            self.warnings.push(message);
        }
        // A semver-compatible target for every use changes no code, and cargo builds one copy
        // for everyone: one stage makes every edit.
        let compatible = sites.values().all(|(_, uses)| {
            uses.iter().all(|&(m, i)| {
                semver_compatible(&self.workspace.members[m].dependencies[i].req, version)
            })
        });
        // A side-by-side move under way (its second entry is there) keeps its stages.
        if compatible
            && !self
                .workspace
                .declarations
                .workspace_dependencies
                .contains_key(&side_by_side_key(name, version))
        {
            self.dep_compatible(name, version, &sites);
            return Ok(());
        }
        // Shared entries in [workspace.dependencies] move all their users in one edit and one
        // stage; declarations of a member's own move with that member, layered.
        // Side-by-side stages come last: members with requirements of their own move first,
        // so a finished side-by-side upgrade (which then reads as one shared entry) changes
        // no earlier stage.
        let mut side_by_side_uses: Option<Vec<(usize, usize)>> = None;
        let mut shared: Vec<(Declared, Vec<(usize, usize)>)> = sites
            .values()
            .filter(|(declared, _)| declared.inherited)
            .cloned()
            .collect();
        // Side by side: the entries of the package in [workspace.dependencies] (the old one
        // and the renamed new one, once added) move their users in stages.
        let new_key = side_by_side_key(name, version);
        if shared_entry_side_by_side(self.workspace, name, version, self.options.strategy) {
            let uses: Vec<(usize, usize)> = std::mem::take(&mut shared)
                .into_iter()
                .flat_map(|(_, uses)| uses)
                .collect();
            side_by_side_uses = Some(uses);
        }
        let mut affected = vec![false; self.workspace.members.len()];
        let mut own: BTreeMap<usize, Vec<(Declared, usize)>> = BTreeMap::new();
        for (declared, uses) in sites.values().filter(|(declared, _)| !declared.inherited) {
            for &(member, index) in uses {
                affected[member] = true;
                own.entry(member)
                    .or_default()
                    .push((declared.clone(), index));
            }
        }
        if !shared.is_empty() {
            let mut members: Vec<usize> = shared
                .iter()
                .flat_map(|(_, uses)| uses.iter().map(|&(m, _)| m))
                .collect();
            // Members with a requirement of their own that hand types to a user of the shared
            // entry, or take them from one, move in its stage too.
            let pulled = self.pulled_into_shared(&members, &own, name, version);
            for &member in pulled.keys() {
                affected[member] = false;
            }
            members.extend(pulled.keys().copied());
            members.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
            members.dedup();
            let mut changes = Vec::new();
            for (declared, uses) in &shared {
                let mut users: Vec<usize> = uses.iter().map(|&(m, _)| m).collect();
                users.sort_unstable();
                users.dedup();
                let compatible = uses.iter().all(|&(m, i)| {
                    semver_compatible(&self.workspace.members[m].dependencies[i].req, version)
                });
                let how = if compatible {
                    "a semver-compatible target: one edit".to_owned()
                } else {
                    "a semver-incompatible target, moved in lockstep (--strategy lockstep; see --strategy side-by-side)"
                        .to_owned()
                };
                let to = requirement_to(&declared.value, version);
                changes.push(Self::edit(
                    ChangeKind::Requirement,
                    None,
                    declared,
                    &to,
                    format!(
                        "`{name}` `{}` -> `{to}` in the shared entry ({how}); it moves {}",
                        declared.value,
                        self.member_list(&users)
                    ),
                    uses.iter().all(|&(m, i)| dependency_done(m, i)),
                ));
            }
            for (&member, why) in &pulled {
                for (declared, index) in own.get(&member).into_iter().flatten() {
                    let dependency = &self.workspace.members[member].dependencies[*index];
                    let to = requirement_to(&declared.value, version);
                    changes.push(Self::edit(
                        ChangeKind::Requirement,
                        Some(self.name(member).to_owned()),
                        declared,
                        &to,
                        format!(
                            "`{name}` `{}` -> `{to}` ({}), with the shared entry: {why}",
                            dependency.req,
                            dependency.kind.as_str()
                        ),
                        dependency_done(member, *index),
                    ));
                }
            }
            let done = changes.iter().all(|change| change.done);
            changes.push(Change::code(
                None,
                format!(
                    "adapt the code of {} to {name} {version}",
                    self.member_list(&members)
                ),
                done,
            ));
            for &member in &members {
                let reason = match pulled.get(&member) {
                    Some(why) => format!("it moves with the shared {name} entry: {why}"),
                    None => format!(
                        "it inherits {name} from [workspace.dependencies]: every user of the shared entry moves in one stage"
                    ),
                };
                self.place(member, self.stages.len() + 1, reason, Vec::new(), false);
            }
            let mut gates = Vec::new();
            for &member in &members {
                gates.extend(self.feature_gates("cargo", member, &[]));
            }
            let rollback_point = self.prior_stage_rollback();
            self.push_stage(
                StageDraft {
                    name: format!("upgrade the shared {name} entry to {version}"),
                    phase: Phase::Upgrade,
                    changes,
                    gates,
                    extra_gates: Vec::new(),
                    cargo: "cargo".to_owned(),
                    rollback: format!(
                        "revert this stage's commit (the requirement and Cargo.lock); rollback point: {rollback_point}"
                    ),
                    rollout: Vec::new(),
                },
                &members,
            );
        }
        if affected.iter().any(|&a| a) {
            // When the target is a new major for some of them, members that name its types
            // in their public API take their dependents that use it along (those already on
            // it too, so the plan keeps its shape while it is carried out).
            let major_move = own_major_move(self.workspace, name, version);
            let exposers: Vec<bool> = affected.iter().map(|&a| a && major_move).collect();
            let ties =
                self.exposure_ties(&exposers, &affected, name, version, &|group: &[usize]| {
                    group.iter().all(|&m| {
                        own.get(&m)
                            .into_iter()
                            .flatten()
                            .all(|&(_, index)| dependency_done(m, index))
                    })
                });
            let reason = format!("it depends on {name} directly");
            self.add_layered_tied(&affected, &ties, name, &reason, &mut |builder, layer| {
            let mut changes = Vec::new();
            let mut gates = Vec::new();
            for &member in layer.members {
                changes.extend(ties.notes.get(&member).cloned());
                let member_ref = builder.member(member);
                for (declared, index) in own.get(&member).into_iter().flatten() {
                    let dependency = &member_ref.dependencies[*index];
                    let mut details = vec![dependency.kind.as_str().to_owned()];
                    if let Some(rename) = &dependency.rename {
                        details.push(format!("as `{rename}`"));
                    }
                    if let Some(target) = &dependency.target {
                        details.push(target.clone());
                    }
                    let to = requirement_to(&declared.value, version);
                    changes.push(Self::edit(
                        ChangeKind::Requirement,
                        Some(member_ref.name.clone()),
                        declared,
                        &to,
                        format!(
                            "`{name}` `{}` -> `{to}` ({}); {}",
                            dependency.req,
                            details.join(", "),
                            if semver_compatible(&dependency.req, version) {
                                "semver-compatible: no code changes"
                            } else {
                                "adapt the code to its changes"
                            }
                        ),
                        dependency_done(member, *index),
                    ));
                }
                gates.extend(builder.feature_gates("cargo", member, &[]));
            }
            let rollback_point = builder.prior_stage_rollback();
            StageDraft {
                name: layer.title(&format!("upgrade {name} to {version}")),
                phase: Phase::Upgrade,
                changes,
                gates,
                extra_gates: Vec::new(),
                cargo: "cargo".to_owned(),
                rollback: format!(
                    "revert this stage's commit (the requirements and Cargo.lock); rollback point: {rollback_point}"
                ),
                rollout: Vec::new(),
            }
        });
        }
        if let Some(uses) = side_by_side_uses {
            self.warn_split_ties(&own, &uses, name);
            self.side_by_side(name, version, &new_key, &uses)?;
        }
        Ok(())
    }

    /// A semver-compatible `--dep` target: one stage with every edit (each shared entry and
    /// each member's own requirement), no code changes, and the gate the edits need.
    fn dep_compatible(&mut self, name: &str, version: &Version, sites: &DependencySites) {
        let mut members: Vec<usize> = Vec::new();
        let mut changes = Vec::new();
        for (declared, uses) in sites.values() {
            let mut users: Vec<usize> = uses.iter().map(|&(m, _)| m).collect();
            users.sort_unstable();
            users.dedup();
            members.extend(&users);
            let done = uses.iter().all(|&(m, i)| {
                requirement_meets(&self.workspace.members[m].dependencies[i].req, version)
            });
            let to = requirement_to(&declared.value, version);
            let change = if declared.inherited {
                format!(
                    "`{name}` `{}` -> `{to}` in the shared entry; it moves {}",
                    declared.value,
                    self.member_list(&users)
                )
            } else {
                let dependency = &self.workspace.members[uses[0].0].dependencies[uses[0].1];
                let mut details = vec![dependency.kind.as_str().to_owned()];
                if let Some(rename) = &dependency.rename {
                    details.push(format!("as `{rename}`"));
                }
                if let Some(target) = &dependency.target {
                    details.push(target.clone());
                }
                format!(
                    "`{name}` `{}` -> `{to}` ({})",
                    declared.value,
                    details.join(", ")
                )
            };
            let owner = (!declared.inherited).then(|| self.name(users[0]).to_owned());
            changes.push(Self::edit(
                ChangeKind::Requirement,
                owner,
                declared,
                &to,
                change,
                done,
            ));
        }
        members.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        members.dedup();
        for &member in &members {
            self.place(
                member,
                self.stages.len() + 1,
                format!(
                    "it depends on {name}, and {version} is semver-compatible with what it requires: every requirement moves in one stage, with no code changes"
                ),
                Vec::new(),
                false,
            );
        }
        let mut gates = Vec::new();
        for &member in &members {
            gates.extend(self.feature_gates("cargo", member, &[]));
        }
        let rollback_point = self.prior_stage_rollback();
        self.push_stage(
            StageDraft {
                name: format!("upgrade {name} to {version} (semver-compatible)"),
                phase: Phase::Upgrade,
                changes,
                gates,
                extra_gates: Vec::new(),
                cargo: "cargo".to_owned(),
                rollback: format!(
                    "revert this stage's commit (the requirements and Cargo.lock); rollback point: {rollback_point}"
                ),
                rollout: Vec::new(),
            },
            &members,
        );
    }

    /// `--dep NAME@VERSION --strategy side-by-side` for the members that inherit the package
    /// from [workspace.dependencies]: add a renamed entry for the new version beside the old
    /// one (cargo builds two semver-incompatible versions of a crate side by side), move the
    /// members to it in dependency order, then remove the old entry and rename the new one
    /// back. Each stage leaves valid manifests.
    fn side_by_side(
        &mut self,
        name: &str,
        version: &Version,
        new_key: &str,
        uses: &[(usize, usize)],
    ) -> anyhow::Result<()> {
        let declarations = &self.workspace.declarations;
        let members = &self.workspace.members;
        let on_new = |m: usize, i: usize| members[m].dependencies[i].local_name() == new_key;
        let meets =
            |m: usize, i: usize| requirement_meets(&members[m].dependencies[i].req, version);
        // The upgrade is over once no member uses the new entry and the old one meets it.
        let finished = !declarations.workspace_dependencies.contains_key(new_key)
            && uses.iter().all(|&(m, i)| meets(m, i));
        let Some(&(first, first_index)) =
            uses.iter().find(|&&(m, i)| !on_new(m, i)).or(uses.first())
        else {
            return Ok(());
        };
        let old_declared = declarations.members[first].dependencies[first_index].clone();
        let old_key = members[first].dependencies[first_index]
            .local_name()
            .to_owned();
        let old_key = if old_key == new_key {
            name.to_owned()
        } else {
            old_key
        };
        let root_file = old_declared.site.file.clone();
        let entry_keys = |key: &str| {
            vec![
                "workspace".to_owned(),
                "dependencies".to_owned(),
                key.to_owned(),
            ]
        };
        let version_text = version.to_string();
        let snake = |key: &str| key.replace('-', "_");

        // Expand: the new entry beside the old one.
        let added = declarations.workspace_dependencies.contains_key(new_key) || finished;
        let add = Change {
            impact: None,
            crate_name: None,
            kind: ChangeKind::Requirement,
            op: Some(EditOp::AddEntry),
            file: Some(root_file.clone()),
            line: old_declared.site.line,
            toml_path: Some(format!("workspace.dependencies.{new_key}")),
            from: None,
            to: Some(version_text.clone()),
            change: format!(
                "add `{new_key} = {{ package = \"{name}\", version = \"{version}\" }}` beside `{old_key}` (with its other keys): both majors build side by side, nothing uses the new one yet"
            ),
            done: added,
            keys: entry_keys(new_key),
            copy_of: Some(old_key.clone()),
            inherited_by: Vec::new(),
        };
        let rollback_point = self.prior_stage_rollback();
        self.push_stage(
            StageDraft {
                name: format!("side by side: add {name} {version} beside the old entry"),
                phase: Phase::Expand,
                changes: vec![add],
                gates: vec!["cargo check --workspace --all-targets".to_owned()],
                extra_gates: Vec::new(),
                cargo: "cargo".to_owned(),
                rollback: format!(
                    "revert this stage's commit: nothing uses the new entry yet; rollback point: {rollback_point}"
                ),
                rollout: Vec::new(),
            },
            &[],
        );

        // Migrate: each member moves to the new entry, in dependency order.
        let mut affected = vec![false; members.len()];
        for &(m, _) in uses {
            affected[m] = true;
        }
        let ties = self.exposure_ties(&affected, &affected, name, version, &|group: &[usize]| {
            finished
                || uses
                    .iter()
                    .filter(|(m, _)| group.contains(m))
                    .all(|&(m, i)| on_new(m, i))
        });
        let reason = format!(
            "it inherits {name} from [workspace.dependencies]: side by side, each user moves to the new entry in dependency order"
        );
        let new_key_owned = new_key.to_owned();
        let old_key_owned = old_key.clone();
        self.add_layered_tied(&affected, &ties, name, &reason, &mut |builder, layer| {
            let mut changes = Vec::new();
            let mut gates = Vec::new();
            for &member in layer.members {
                changes.extend(ties.notes.get(&member).cloned());
                for &(m, i) in uses.iter().filter(|&&(m, _)| m == member) {
                    let declared = &builder.workspace.declarations.members[m].dependencies[i];
                    let Some(via) = &declared.via else { continue };
                    let current = builder.workspace.members[m].dependencies[i].local_name();
                    let done = finished || on_new(m, i);
                    changes.push(Change {
                        impact: None,
                        crate_name: Some(builder.name(m).to_owned()),
                        kind: ChangeKind::Requirement,
                        op: Some(EditOp::RenameKey),
                        file: Some(via.file.clone()),
                        line: via.line,
                        toml_path: Some(via.toml_path()),
                        from: Some(old_key_owned.clone()),
                        to: Some(new_key_owned.clone()),
                        change: format!(
                            "use the `{new_key_owned}` entry: rename the key `{current}` to `{new_key_owned}` (its other keys stay), and in the code `{}::` for `{}::` (or `use {} as {};`)",
                            snake(&new_key_owned),
                            snake(&old_key_owned),
                            snake(&new_key_owned),
                            snake(&old_key_owned)
                        ),
                        done,
                        keys: via.keys.clone(),
                        copy_of: None,
                        inherited_by: Vec::new(),
                    });
                }
                gates.extend(builder.feature_gates("cargo", member, &[]));
            }
            let rollback_point = builder.prior_stage_rollback();
            StageDraft {
                name: layer.title(&format!("side by side: move to {name} {version}")),
                phase: Phase::Migrate,
                changes,
                gates,
                extra_gates: Vec::new(),
                cargo: "cargo".to_owned(),
                rollback: format!(
                    "revert this stage's commit: the old entry is still there; rollback point: {rollback_point}"
                ),
                rollout: Vec::new(),
            }
        });

        // Contract: the old entry takes the new version where it stands (its comments and
        // place stay), the second entry goes, and members rename their keys back.
        let mut users: Vec<usize> = uses.iter().map(|&(m, _)| m).collect();
        users.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        users.dedup();
        let old_entry = declarations.workspace_dependencies.get(&old_key);
        let mut changes = vec![
            Change {
                impact: None,
                crate_name: None,
                kind: ChangeKind::Requirement,
                op: Some(EditOp::Set),
                file: Some(root_file.clone()),
                line: old_entry.map(|(_, line)| *line),
                toml_path: Some(format!("workspace.dependencies.{old_key}")),
                from: old_entry.map(|(requirement, _)| requirement.clone()),
                to: Some(version_text.clone()),
                change: format!(
                    "set the old `{old_key}` entry to {version}: no member uses it any more, and it takes the members back under its name"
                ),
                done: finished,
                keys: entry_keys(&old_key),
                copy_of: None,
                inherited_by: Vec::new(),
            },
            Change {
                impact: None,
                crate_name: None,
                kind: ChangeKind::Requirement,
                op: Some(EditOp::RemoveEntry),
                file: Some(root_file),
                line: declarations
                    .workspace_dependencies
                    .get(new_key)
                    .map(|(_, line)| *line),
                toml_path: Some(format!("workspace.dependencies.{new_key}")),
                from: declarations
                    .workspace_dependencies
                    .get(new_key)
                    .map(|(requirement, _)| requirement.clone()),
                to: None,
                change: format!("remove the `{new_key}` entry"),
                done: finished,
                keys: entry_keys(new_key),
                copy_of: None,
                inherited_by: Vec::new(),
            },
        ];
        for &(m, i) in uses {
            let Some(via) = &declarations.members[m].dependencies[i].via else {
                continue;
            };
            let mut keys = via.keys.clone();
            if let Some(last) = keys.last_mut() {
                *last = new_key.to_owned();
            }
            changes.push(Change {
                impact: None,
                crate_name: Some(self.name(m).to_owned()),
                kind: ChangeKind::Requirement,
                op: Some(EditOp::RenameKey),
                file: Some(via.file.clone()),
                line: via.line,
                toml_path: Some(
                    graywork_workspace::Site {
                        keys: keys.clone(),
                        ..via.clone()
                    }
                    .toml_path(),
                ),
                from: Some(new_key.to_owned()),
                to: Some(old_key.clone()),
                change: format!(
                    "rename the key `{new_key}` back to `{old_key}`, and `{}::` back to `{}::` in the code",
                    snake(new_key),
                    snake(&old_key)
                ),
                done: finished,
                keys,
                copy_of: None,
                inherited_by: Vec::new(),
            });
        }
        let mut gates = Vec::new();
        for &member in &users {
            gates.extend(self.feature_gates("cargo", member, &[]));
        }
        let rollback_point = self.prior_stage_rollback();
        self.push_stage(
            StageDraft {
                name: format!("side by side: retire the old {name} entry"),
                phase: Phase::Retire,
                changes,
                gates,
                extra_gates: Vec::new(),
                cargo: "cargo".to_owned(),
                rollback: format!("revert this stage's commit; rollback point: {rollback_point}"),
                rollout: Vec::new(),
            },
            &users,
        );
        Ok(())
    }
}

/// The uses of `name` that are external dependencies (not members), as `(member, index)`,
/// each with whether the member inherits it from `[workspace.dependencies]`.
fn external_uses<'w>(
    workspace: &'w Workspace,
    name: &'w str,
) -> impl Iterator<Item = (usize, usize, bool)> + 'w {
    workspace
        .members
        .iter()
        .enumerate()
        .flat_map(move |(position, member)| {
            member
                .dependencies
                .iter()
                .enumerate()
                .filter(move |(_, d)| d.member.is_none() && d.name == name)
                .map(move |(index, _)| {
                    let inherited = workspace
                        .declarations
                        .members
                        .get(position)
                        .and_then(|declared| declared.dependencies.get(index))
                        .is_some_and(|declared| declared.inherited);
                    (position, index, inherited)
                })
        })
}

/// Whether moving members' own requirements on `name` to `version` is a new major for one of
/// them: then they move in layers, and a member exposing its types takes its users along.
fn own_major_move(workspace: &Workspace, name: &str, version: &Version) -> bool {
    external_uses(workspace, name).any(|(m, i, inherited)| {
        !inherited && !semver_compatible(&workspace.members[m].dependencies[i].req, version)
    })
}

/// Whether the shared `[workspace.dependencies]` entry of `name` moves side by side: asked
/// for, and the target is a new major for it (or the move is under way).
fn shared_entry_side_by_side(
    workspace: &Workspace,
    name: &str,
    version: &Version,
    strategy: Strategy,
) -> bool {
    strategy == Strategy::SideBySide
        && (workspace
            .declarations
            .workspace_dependencies
            .contains_key(&side_by_side_key(name, version))
            || external_uses(workspace, name).any(|(m, i, inherited)| {
                inherited && !semver_compatible(&workspace.members[m].dependencies[i].req, version)
            }))
}

/// The members whose public API decides where they move (one that names `name`'s types must
/// move with its users): members with their own requirement, and the users of the shared entry,
/// when the target is a new major for one of the former; the users of the shared entry when
/// it moves side by side. The caller reads their public APIs ([`crate::TreeFacts::exposures`]).
/// A member that no other user of `name` depends on (through normal or build edges, directly
/// or not) is left out: its public API ties it to nothing, so reading it decides nothing. So is
/// a user of the shared entry moving in lockstep whose dependents that use `name` all inherit
/// it too: one edit moves them all in one stage, whatever their APIs name.
pub fn staged_members(
    workspace: &Workspace,
    name: &str,
    version: &Version,
    strategy: Strategy,
) -> BTreeSet<usize> {
    let own = own_major_move(workspace, name, version);
    let shared = shared_entry_side_by_side(workspace, name, version, strategy);
    let users: BTreeSet<usize> = external_uses(workspace, name).map(|(m, _, _)| m).collect();
    // The users in the lockstep stage of the shared entry (any use inherited).
    let lockstep: BTreeSet<usize> = external_uses(workspace, name)
        .filter(|&(_, _, inherited)| inherited && !shared)
        .map(|(m, _, _)| m)
        .collect();
    let graph = DepGraph::build(workspace);
    external_uses(workspace, name)
        // With a new major for own requirements, the shared entry's users are read too: a
        // tie between the two groups moves the own ones into the shared entry's stage.
        .filter(|&(_, _, inherited)| if inherited { shared || own } else { own })
        .map(|(m, _, _)| m)
        .filter(|&m| {
            let dependents = graph.ordering_dependents_closure(&[m]);
            users.iter().any(|&user| {
                user != m
                    && dependents[user]
                    && !(lockstep.contains(&m) && lockstep.contains(&user))
            })
        })
        .collect()
}

/// The key of the second `[workspace.dependencies]` entry that holds `version` side by side
/// with the old one: `bytes-v2`, or `rand-v0-9` below 1.0.
fn side_by_side_key(name: &str, version: &Version) -> String {
    match compatibility_class(version) {
        (0, 0, patch) => format!("{name}-v0-0-{patch}"),
        (0, minor, _) => format!("{name}-v0-{minor}"),
        (major, _, _) => format!("{name}-v{major}"),
    }
}

/// The requirement that moves a declaration written `written` to `version`, written the same
/// way (`=0.1.12` -> `=0.2.3`, `~1.4` -> `~2.0.0`); a range or a wildcard becomes the bare
/// version (cargo's caret).
fn requirement_to(written: &str, version: &Version) -> String {
    let operator = graywork_workspace::requirement_operator(written).unwrap_or("");
    format!("{operator}{version}")
}
