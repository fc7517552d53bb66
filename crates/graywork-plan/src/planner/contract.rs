//! `--contract NAME@MAJOR`: expand the contract crate, let providers implement the new major,
//! migrate consumers (with gray rollout steps for run-time switches) and retire the old major.

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn contract(&mut self, contract: &str, major: u64) -> anyhow::Result<()> {
        let target = format!("{contract}@{major}");
        let defined = self.workspace.defined_contracts();
        let Some(&definer) = defined.get(contract) else {
            anyhow::bail!(
                "--contract {target}: unknown contract `{contract}` ({})",
                known_names_hint(contract, defined.keys().copied())
            );
        };
        if major < 2 {
            anyhow::bail!(
                "--contract {target}: v1 is the first major, so there is nothing to migrate from; name the major to move to, for example {contract}@2"
            );
        }
        let old = major - 1;
        let members = &self.workspace.members;
        let no_majors: BTreeMap<u64, String> = BTreeMap::new();
        let providers: Vec<usize> = (0..members.len())
            .filter(|&m| members[m].contracts.provides.contains_key(contract))
            .collect();
        let consumers: Vec<usize> = (0..members.len())
            .filter(|&m| members[m].contracts.requires.contains_key(contract))
            .collect();
        let requires_new = |m: usize| {
            members[m]
                .contracts
                .requires
                .get(contract)
                .into_iter()
                .flatten()
                .any(|req| req_allows_major(req, major))
        };
        let requires_old = |m: usize| {
            members[m]
                .contracts
                .requires
                .get(contract)
                .into_iter()
                .flatten()
                .any(|req| req_allows_major(req, old))
        };
        let is_gray = |m: usize| members[m].contracts.gray.iter().any(|g| g == contract);
        // Module files are only judged when the tree is on disk: metadata saved elsewhere says
        // nothing about them, and then neither the expand nor the retire step counts as done.
        let facts = self.facts;
        let tree_visible = facts.module_exists(contract, major).is_some();
        let module_exists = |version: u64| facts.module_exists(contract, version) == Some(true);
        // The plan moves from the major just below the target. When nothing in the workspace
        // knows that major, the target skips majors and every stage would describe a fiction.
        let old_is_known = (tree_visible && module_exists(old))
            || consumers.iter().any(|&m| requires_old(m))
            || providers.iter().any(|&m| {
                members[m]
                    .contracts
                    .provides
                    .get(contract)
                    .is_some_and(|majors| majors.contains_key(&old))
            });
        if !old_is_known && (tree_visible || !consumers.is_empty() || !providers.is_empty()) {
            let newest = members
                .iter()
                .flat_map(|member| {
                    let provided = member.contracts.provides.get(contract);
                    let required = member.contracts.requires.get(contract);
                    provided
                        .into_iter()
                        .flat_map(|majors| majors.keys().copied())
                        .chain(
                            required
                                .into_iter()
                                .flatten()
                                .flat_map(|req| req.comparators.iter().map(|c| c.major)),
                        )
                })
                .max();
            let hint = newest.map_or_else(String::new, |newest| {
                format!(
                    "; move one major at a time from the newest, v{newest}: {contract}@{}",
                    newest.saturating_add(1)
                )
            });
            anyhow::bail!(
                "--contract {target}: nothing in the workspace defines, provides or requires {contract} v{old}, the major the plan would move from{hint}"
            );
        }
        // The contract check runs through whatever started the tool; a library caller that
        // names none gets no such gate.
        let check_contracts: Vec<String> = self.options.contract_check.iter().cloned().collect();
        // Members (a store) declaring schema migrations that go with this major, by name.
        let mut migrators: Vec<(usize, &MajorMigrations)> = (0..members.len())
            .filter_map(|m| {
                members[m]
                    .migrations
                    .for_major(contract, major)
                    .map(|migrations| (m, migrations))
            })
            .collect();
        migrators.sort_unstable_by(|a, b| members[a.0].name.cmp(&members[b.0].name));
        let expand_migrations: Vec<(usize, &str)> = migrators
            .iter()
            .filter_map(|&(m, migrations)| migrations.expand.as_deref().map(|name| (m, name)))
            .collect();
        let contract_migrations: Vec<(usize, &str)> = migrators
            .iter()
            .filter_map(|&(m, migrations)| migrations.contract.as_deref().map(|name| (m, name)))
            .collect();
        if providers.is_empty() {
            self.warnings.push(format!(
                "no crate provides contract {contract}: the provide stage is empty"
            ));
        }
        if consumers.is_empty() {
            self.warnings.push(format!(
                "no crate requires contract {contract}: there is nobody to migrate"
            ));
        }

        // Expand: the new major beside the old one.
        let definer_name = self.name(definer).to_owned();
        let module = format!("{definer_name}::{contract}::v{major}");
        let expand_done = tree_visible && module_exists(major);
        self.place(
            definer,
            self.stages.len() + 1,
            format!(
                "it defines contract {contract}: the new major is added beside the old one first"
            ),
            Vec::new(),
            false,
        );
        let expand_gates = Vec::new();
        let mut expand_changes = vec![Change {
            crate_name: Some(definer_name.clone()),
            kind: ChangeKind::Code,
            change: format!(
                "add module `{module}` (src/{contract}/v{major}.rs) beside v{old}, declaring `pub const VERSION: &str = \"{major}.0.0\"`"
            ),
            done: expand_done,
            ..Change::default()
        }];
        let mut expand_members = vec![definer];
        for &(member, migration) in &expand_migrations {
            self.place(
                member,
                self.stages.len() + 1,
                format!(
                    "it declares the expand migration `{migration}` for {contract} v{major}: the v{major} columns arrive before any code writes them, and v{old} ignores them"
                ),
                Vec::new(),
                false,
            );
            expand_changes.push(Change {
                crate_name: Some(self.name(member).to_owned()),
                kind: ChangeKind::Migration,
                change: format!(
                    "schema migration `{migration}` adds the v{major} columns; it runs when the store opens"
                ),
                done: self.facts.migration_written(member, migration),
                ..Change::default()
            });
            if !expand_members.contains(&member) {
                expand_members.push(member);
            }
        }
        expand_members.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        let expand_rollback = if expand_migrations.is_empty() {
            format!(
                "revert the commit that adds `{module}`: nothing uses it yet; rollback point: the tree before the plan"
            )
        } else {
            format!(
                "revert the commit that adds `{module}` and {}: nothing uses them yet, and columns already added stay in the database, where v{old} ignores them; rollback point: the tree before the plan",
                migration_list(&expand_migrations)
            )
        };
        self.push_stage(
            StageDraft {
                name: format!("expand: add {module} beside v{old}"),
                phase: Phase::Expand,
                changes: expand_changes,
                gates: expand_gates,
                extra_gates: check_contracts.clone(),
                cargo: "cargo".to_owned(),
                rollback: expand_rollback,
                rollout: Vec::new(),
            },
            &expand_members,
        );

        // Provide: every provider implements the new major behind a feature.
        let mut provider_set = vec![false; members.len()];
        for &p in &providers {
            provider_set[p] = true;
        }
        let contract_owned = contract.to_owned();
        let provide_reason = |_: usize| {
            format!(
                "it provides contract {contract_owned}: providers implement v{major} before any consumer moves"
            )
        };
        self.add_layered(&provider_set, &provide_reason, &mut |builder, layer| {
            let mut changes = Vec::new();
            let mut gates = Vec::new();
            for &member in layer.members {
                let member_ref = builder.member(member);
                let provided = member_ref
                    .contracts
                    .provides
                    .get(contract)
                    .unwrap_or(&no_majors);
                let feature = member_ref.contracts.provider_feature(contract, major);
                let mut change = format!(
                    "implement `{module}` behind feature `{feature}`; declare it in [package.metadata.contracts]: provides.{contract}.v{major} = \"{feature}\""
                );
                if !member_ref.features.contains_key(&feature) {
                    change.push_str(&format!("; add `{feature} = []` to [features]"));
                }
                changes.push(Change::code(Some(member_ref.name.clone()), change, provided.contains_key(&major)));
                gates.extend(builder.feature_gates("cargo", member, &[vec![feature.clone()]]));
            }
            let rollback_point = builder.prior_stage_rollback();
            StageDraft {
                name: format!(
                    "provide: {} implement{} {contract} v{major}",
                    names_of(builder, layer.members),
                    if layer.members.len() == 1 { "s" } else { "" }
                ),
                phase: Phase::Provide,
                changes,
                gates,
                extra_gates: check_contracts.clone(),
                cargo: "cargo".to_owned(),
                rollback: format!(
                    "the new feature is additive and v{old} is untouched: revert this stage's commit; rollback point: {rollback_point}"
                ),
                rollout: Vec::new(),
            }
        });

        // Migrate: consumers in dependency order; runtime (gray) consumers through gray steps.
        let mut consumer_set = vec![false; members.len()];
        for &c in &consumers {
            consumer_set[c] = true;
        }
        // What each gray consumer declares about its rollout: the planner renders that, and
        // invents no paths, rules or metrics.
        let declared_rollout = |m: usize| members[m].rollout.contracts.get(contract);
        for &consumer in &consumers {
            if is_gray(consumer) && declared_rollout(consumer).is_none() {
                self.warnings.push(format!(
                    "{} picks {contract} per request (gray) but declares no [package.metadata.rollout.{contract}] ({}): the plan lists no rollout steps for it",
                    members[consumer].name,
                    self.workspace.relative_manifest(&members[consumer])
                ));
            }
        }
        let fragment_of = |m: usize| {
            declared_rollout(m).map(|decl| RolloutDecl::fill(&decl.fragment, contract, major))
        };
        let migrate_reason = |m: usize| {
            let ranges: Vec<String> = members[m]
                .contracts
                .requires
                .get(contract)
                .into_iter()
                .flatten()
                .map(|r| format!("\"{r}\""))
                .collect();
            let ranges = ranges.join(", ");
            if is_gray(m) {
                format!(
                    "it requires {contract_owned} [{ranges}] and picks the major per request (gray), so it moves through gray rollout steps once every provider has v{major}"
                )
            } else {
                format!(
                    "it requires {contract_owned} [{ranges}]: consumers move once every provider has v{major}"
                )
            }
        };
        self.add_layered(&consumer_set, &migrate_reason, &mut |builder, layer| {
            let mut changes = Vec::new();
            let mut gates = Vec::new();
            let mut rollout = Vec::new();
            let mut rollback_decl: Option<&RolloutDecl> = None;
            let mut any_gray = false;
            for &member in layer.members {
                let member_ref = builder.member(member);
                let provider_features = provider_features_for(builder, member, contract, major);
                let enable = if provider_features.is_empty() {
                    String::new()
                } else {
                    format!("; enable {}", quoted_list(&provider_features))
                };
                let change = if is_gray(member) {
                    any_gray = true;
                    let source = fragment_of(member)
                        .map_or_else(|| "config".to_owned(), |fragment| fragment.clone());
                    if rollout.is_empty()
                        && let Some(decl) = declared_rollout(member)
                    {
                        rollback_decl = Some(decl);
                        for &percent in &decl.steps {
                            rollout.push(rollout_step(decl, contract, major, percent));
                        }
                    }
                    format!(
                        "accept {contract} v{major} beside v{old}: requires.{contract} gains \"^{major}.0\"{enable}; route requests to v{major} by gray rules from {source}"
                    )
                } else {
                    format!(
                        "port from `{definer_name}::{contract}::v{old}` to `{module}`: set requires.{contract} = \"^{major}.0\"{enable}"
                    )
                };
                changes.push(Change::code(Some(member_ref.name.clone()), change, requires_new(member)));
                let own_features = own_features_enabling(member_ref, &provider_features);
                gates.extend(builder.feature_gates("cargo", member, &[own_features]));
            }
            let rollback_point = builder.prior_stage_rollback();
            let rollback = if let Some(decl) = rollback_decl {
                let fragment = RolloutDecl::fill(&decl.fragment, contract, major);
                let reload = RolloutDecl::fill(&decl.reload, contract, major);
                format!(
                    "set `percent = 0` in {fragment} and reload ({reload}): traffic returns to v{old} without a deploy; to undo the code, revert this stage's commit; rollback point: {rollback_point}"
                )
            } else if any_gray {
                format!(
                    "set the gray rule for {contract} v{major} to 0% and reload: traffic returns to v{old} without a deploy; to undo the code, revert this stage's commit; rollback point: {rollback_point}"
                )
            } else {
                format!(
                    "revert this stage's commit: v{old} is still provided; rollback point: {rollback_point}"
                )
            };
            StageDraft {
                name: format!(
                    "migrate{}: {} to {contract} v{major}",
                    if any_gray { " (gray)" } else { "" },
                    names_of(builder, layer.members)
                ),
                phase: Phase::Migrate,
                changes,
                gates,
                extra_gates: check_contracts.clone(),
                cargo: "cargo".to_owned(),
                rollback,
                rollout,
            }
        });

        // Retire: the old major goes, in one stage, once no consumer needs it.
        let mut retire_members: Vec<usize> = Vec::new();
        let mut retire_changes = Vec::new();
        let mut retire_reasons: Vec<(usize, String)> = Vec::new();
        for &consumer in &consumers {
            let done = !requires_old(consumer);
            let mut change =
                format!("drop the v{old} range from requires.{contract} and the v{old} code paths");
            if is_gray(consumer) {
                match fragment_of(consumer) {
                    Some(fragment) => change.push_str(&format!(
                        "; delete {fragment} and the v{old} routes once v{major} serves 100%"
                    )),
                    None => change.push_str(&format!(
                        "; remove the gray rule and the v{old} routes once v{major} serves 100%"
                    )),
                }
            }
            retire_members.push(consumer);
            retire_changes.push((consumer, change, done));
            retire_reasons.push((consumer, format!("it still requires {contract} v{old}")));
        }
        for &provider in &providers {
            let member_ref = self.member(provider);
            let provided = member_ref
                .contracts
                .provides
                .get(contract)
                .unwrap_or(&no_majors);
            let old_feature = member_ref.contracts.provider_feature(contract, old);
            let new_feature = member_ref.contracts.provider_feature(contract, major);
            let done = !provided.contains_key(&old);
            retire_members.push(provider);
            retire_changes.push((
                provider,
                format!(
                    "remove feature `{old_feature}` and its v{old} implementation; make `{new_feature}` a default feature"
                ),
                done,
            ));
            retire_reasons.push((provider, format!("it provides {contract} v{old}")));
        }
        let old_module_exists = module_exists(old);
        retire_members.push(definer);
        retire_changes.push((
            definer,
            format!(
                "remove module `{definer_name}::{contract}::v{old}` (a breaking change of {definer_name}: bump its version)"
            ),
            tree_visible && !old_module_exists,
        ));
        retire_reasons.push((
            definer,
            format!("it defines {contract} v{old}, which goes last"),
        ));
        for &(member, migration) in &contract_migrations {
            retire_members.push(member);
            retire_reasons.push((
                member,
                format!(
                    "it declares the contract migration `{migration}`, which drops the v{old}-only columns once no instance serves v{old}"
                ),
            ));
        }
        retire_members.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        retire_members.dedup();
        let index = self.stages.len() + 1;
        for (member, reason) in retire_reasons {
            self.place(member, index, reason, Vec::new(), false);
        }
        let mut changes: Vec<Change> = retire_changes
            .into_iter()
            .map(|(member, change, done)| {
                Change::code(Some(self.name(member).to_owned()), change, done)
            })
            .collect();
        changes.sort_by(|a, b| a.crate_name.cmp(&b.crate_name));
        // The plan cannot see the database: once no code knows the old major, the store's
        // contract migration counts as done too. It runs last, so it is listed last.
        let code_done = changes.iter().all(|change| change.done);
        for &(member, migration) in &contract_migrations {
            changes.push(Change {
                crate_name: Some(self.name(member).to_owned()),
                kind: ChangeKind::Migration,
                change: format!(
                    "run the contract migration `{migration}` (drops the v{old}-only columns), after no running instance serves v{old}"
                ),
                done: code_done,
                ..Change::default()
            });
        }
        let mut gates = Vec::new();
        for &member in &retire_members {
            gates.extend(self.feature_gates("cargo", member, &[]));
        }
        let rollback_point = self.prior_stage_rollback();
        self.push_stage(
            StageDraft {
                name: format!("retire {contract} v{old}"),
                phase: Phase::Retire,
                changes,
                gates,
                extra_gates: check_contracts,
                cargo: "cargo".to_owned(),
                rollback: if contract_migrations.is_empty() {
                    format!("revert the retire commit; rollback point: {rollback_point}")
                } else {
                    format!(
                        "revert the retire commit while the v{old}-only columns still exist; after {} the columns come back only from a backup, so that migration runs last; rollback point: {rollback_point}",
                        migration_list(&contract_migrations)
                    )
                },
                rollout: Vec::new(),
            },
            &retire_members,
        );
        Ok(())
    }
}
