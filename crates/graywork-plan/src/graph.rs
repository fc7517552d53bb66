//! The members' dependency graph (petgraph) and the longest-path layering that orders stages.
//!
//! Edges point from the dependent to the dependency. One edge per member pair carries every kind
//! (normal, build, dev) and every target and rename under which the dependency is declared.
//! Only normal and build edges order stages; cycles among them are collapsed with
//! [`petgraph::algo::condensation`] and become one stage.

use std::collections::{BTreeSet, HashMap};

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef as _;

use graywork_workspace::{DepKind, Workspace};

/// Everything known about the dependency of one member on another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepEdge {
    /// Every kind it is declared with.
    pub kinds: BTreeSet<DepKind>,
    /// The names the dependent uses for it when renamed.
    pub renames: BTreeSet<String>,
    /// The targets (`cfg(...)` or triples) it is limited to; empty when it applies everywhere.
    pub targets: BTreeSet<String>,
    /// Whether some declaration of it applies on every target.
    pub unconditional: bool,
    /// Whether it was matched by name only (a registry or git dependency in `--no-deps`
    /// metadata, which workspaces redirect to the member with `[patch]`).
    pub by_name: bool,
}

impl DepEdge {
    /// Whether this edge orders stages (it has a normal or build kind).
    pub fn orders(&self) -> bool {
        self.kinds.iter().any(|kind| kind.orders())
    }

    /// The kinds as cargo writes them, joined with `+` (for example `normal+dev`).
    pub fn kinds_label(&self) -> String {
        let kinds: Vec<&str> = self.kinds.iter().map(|kind| kind.as_str()).collect();
        kinds.join("+")
    }
}

/// The members' dependency graph. Node weights are indices into [`Workspace::members`], and
/// node `i` is member `i`.
#[derive(Debug, Clone)]
pub struct DepGraph {
    /// The graph: an edge `a -> b` means `a` depends on `b`.
    pub graph: DiGraph<usize, DepEdge>,
}

impl DepGraph {
    /// Builds the graph of every member and every dependency between members.
    pub fn build(workspace: &Workspace) -> DepGraph {
        let member_count = workspace.members.len();
        let mut graph = DiGraph::with_capacity(member_count, member_count * 4);
        for position in 0..member_count {
            graph.add_node(position);
        }
        let mut edge_of: HashMap<(usize, usize), petgraph::graph::EdgeIndex> = HashMap::new();
        for (from, member) in workspace.members.iter().enumerate() {
            for dependency in &member.dependencies {
                let Some(to) = dependency.member else {
                    continue;
                };
                if to == from {
                    continue;
                }
                let edge = *edge_of.entry((from, to)).or_insert_with(|| {
                    graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), DepEdge::default())
                });
                let weight = &mut graph[edge];
                weight.kinds.insert(dependency.kind);
                if let Some(rename) = &dependency.rename {
                    weight.renames.insert(rename.clone());
                }
                match &dependency.target {
                    Some(target) => {
                        weight.targets.insert(target.clone());
                    }
                    None => weight.unconditional = true,
                }
                weight.by_name |= dependency.matched_by_name;
            }
        }
        DepGraph { graph }
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Whether the workspace has no members.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// The members `member` depends on, with the edge.
    pub fn dependencies(&self, member: usize) -> impl Iterator<Item = (usize, &DepEdge)> + '_ {
        self.graph
            .edges_directed(NodeIndex::new(member), Direction::Outgoing)
            .map(|edge| (edge.target().index(), edge.weight()))
    }

    /// The members that depend on `member`, with the edge.
    pub fn dependents(&self, member: usize) -> impl Iterator<Item = (usize, &DepEdge)> + '_ {
        self.graph
            .edges_directed(NodeIndex::new(member), Direction::Incoming)
            .map(|edge| (edge.source().index(), edge.weight()))
    }

    /// The edge from `from` to `to`, if `from` depends on `to`.
    pub fn edge(&self, from: usize, to: usize) -> Option<&DepEdge> {
        self.graph
            .find_edge(NodeIndex::new(from), NodeIndex::new(to))
            .map(|edge| &self.graph[edge])
    }

    /// Every member that depends on one of `roots` through normal or build edges, transitively,
    /// including the roots.
    pub fn ordering_dependents_closure(&self, roots: &[usize]) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<usize> = Vec::new();
        for &root in roots {
            if !seen[root] {
                seen[root] = true;
                stack.push(root);
            }
        }
        while let Some(member) = stack.pop() {
            for (dependent, edge) in self.dependents(member) {
                if edge.orders() && !seen[dependent] {
                    seen[dependent] = true;
                    stack.push(dependent);
                }
            }
        }
        seen
    }

    /// The ordering structure: normal and build edges with cycles collapsed.
    pub fn ordering(&self) -> Ordering {
        Ordering::new(self, &[])
    }

    /// [`DepGraph::ordering`] with each pair in `ties` made to move together, as if the two
    /// depended on each other: they share a component, so a layering puts them in one layer.
    pub fn ordering_with_ties(&self, ties: &[(usize, usize)]) -> Ordering {
        Ordering::new(self, ties)
    }
}

/// The normal+build dependency structure with strongly connected components collapsed: a DAG
/// of components, each one member or one true cycle.
#[derive(Debug, Clone)]
pub struct Ordering {
    /// The component of each member.
    pub component_of: Vec<usize>,
    /// Each component's members, sorted by member index.
    pub components: Vec<Vec<usize>>,
    /// Each component's direct dependency components.
    pub component_deps: Vec<Vec<usize>>,
    /// Components in dependency order: every component after all of its dependencies.
    pub topological: Vec<usize>,
}

impl Ordering {
    fn new(deps: &DepGraph, ties: &[(usize, usize)]) -> Ordering {
        let mut order_graph: DiGraph<usize, ()> =
            DiGraph::with_capacity(deps.len(), deps.graph.edge_count());
        for position in 0..deps.len() {
            order_graph.add_node(position);
        }
        for edge in deps.graph.edge_references() {
            if edge.weight().orders() {
                order_graph.add_edge(edge.source(), edge.target(), ());
            }
        }
        for &(a, b) in ties {
            let (a, b) = (NodeIndex::new(a), NodeIndex::new(b));
            order_graph.add_edge(a, b, ());
            order_graph.add_edge(b, a, ());
        }
        // `condensation` runs Kosaraju's algorithm, which is iterative: deep chains in large
        // workspaces cannot overflow the stack.
        let condensed = petgraph::algo::condensation(order_graph, true);
        let component_count = condensed.node_count();
        let mut component_of = vec![0; deps.len()];
        let mut components = Vec::with_capacity(component_count);
        for component in condensed.node_indices() {
            let mut members = condensed[component].clone();
            members.sort_unstable();
            for &member in &members {
                component_of[member] = component.index();
            }
            components.push(members);
        }
        let mut component_deps: Vec<Vec<usize>> = vec![Vec::new(); component_count];
        let mut pending_deps = vec![0usize; component_count];
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); component_count];
        for edge in condensed.edge_references() {
            let (from, to) = (edge.source().index(), edge.target().index());
            component_deps[from].push(to);
            dependents[to].push(from);
            pending_deps[from] += 1;
        }
        // Kahn's algorithm over the condensed DAG: dependencies first.
        let mut ready: Vec<usize> = (0..component_count)
            .filter(|&c| pending_deps[c] == 0)
            .collect();
        ready.reverse();
        let mut topological = Vec::with_capacity(component_count);
        while let Some(component) = ready.pop() {
            topological.push(component);
            for &dependent in &dependents[component] {
                pending_deps[dependent] -= 1;
                if pending_deps[dependent] == 0 {
                    ready.push(dependent);
                }
            }
        }
        Ordering {
            component_of,
            components,
            component_deps,
            topological,
        }
    }

    /// Every component with more than one member: the true cycles.
    pub fn cycles(&self) -> impl Iterator<Item = &[usize]> {
        self.components
            .iter()
            .filter(|members| members.len() > 1)
            .map(Vec::as_slice)
    }

    /// The longest-path layering of the members marked in `affected`.
    ///
    /// An affected member sits one layer after its deepest affected dependency, reached through
    /// any chain of normal or build edges (unaffected members on the chain pass depth through
    /// without adding to it). Members of one cycle share a layer.
    pub fn layer(&self, affected: &[bool]) -> Layering {
        let component_count = self.components.len();
        let affected_component: Vec<bool> = self
            .components
            .iter()
            .map(|members| members.iter().any(|&member| affected[member]))
            .collect();
        let mut depth = vec![0usize; component_count];
        let mut via: Vec<Option<usize>> = vec![None; component_count];
        for &component in &self.topological {
            let mut best = 0;
            let mut best_via = None;
            for &dependency in &self.component_deps[component] {
                if depth[dependency] > best {
                    best = depth[dependency];
                    best_via = Some(dependency);
                }
            }
            depth[component] = best + usize::from(affected_component[component]);
            via[component] = best_via;
        }
        let layer_count = self
            .topological
            .iter()
            .filter(|&&c| affected_component[c])
            .map(|&c| depth[c])
            .max()
            .unwrap_or(0);
        let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
        for (member, &is_affected) in affected.iter().enumerate() {
            // An affected component always has depth 1 or more; `checked_sub` only keeps a
            // broken invariant from turning into a panic.
            let layer = depth[self.component_of[member]].checked_sub(1);
            if let (true, Some(bucket)) = (is_affected, layer.and_then(|l| layers.get_mut(l))) {
                bucket.push(member);
            }
        }
        Layering {
            layers,
            depth,
            via,
            affected_component,
            dependents_first: false,
        }
    }

    /// The layering of the members marked in `affected` with dependents first: an affected
    /// member sits one layer after its deepest affected dependent (through normal or build
    /// edges, unaffected members passing depth through), so every member moves after all of
    /// its dependents. Edition and `rust-version` goals move this way, so no member's MSRV is
    /// ever below that of a member it depends on.
    pub fn layer_dependents_first(&self, affected: &[bool]) -> Layering {
        let component_count = self.components.len();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); component_count];
        for (component, deps) in self.component_deps.iter().enumerate() {
            for &dependency in deps {
                dependents[dependency].push(component);
            }
        }
        let affected_component: Vec<bool> = self
            .components
            .iter()
            .map(|members| members.iter().any(|&member| affected[member]))
            .collect();
        let mut depth = vec![0usize; component_count];
        let mut via: Vec<Option<usize>> = vec![None; component_count];
        for &component in self.topological.iter().rev() {
            let mut best = 0;
            let mut best_via = None;
            for &dependent in &dependents[component] {
                if depth[dependent] > best {
                    best = depth[dependent];
                    best_via = Some(dependent);
                }
            }
            depth[component] = best + usize::from(affected_component[component]);
            via[component] = best_via;
        }
        let layer_count = (0..component_count)
            .filter(|&c| affected_component[c])
            .map(|c| depth[c])
            .max()
            .unwrap_or(0);
        let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
        for (member, &is_affected) in affected.iter().enumerate() {
            let layer = depth[self.component_of[member]].checked_sub(1);
            if let (true, Some(bucket)) = (is_affected, layer.and_then(|l| layers.get_mut(l))) {
                bucket.push(member);
            }
        }
        Layering {
            layers,
            depth,
            via,
            affected_component,
            dependents_first: true,
        }
    }
}

/// Affected members grouped into layers: layer 0 first.
#[derive(Debug, Clone)]
pub struct Layering {
    /// The members of each layer, by member index.
    pub layers: Vec<Vec<usize>>,
    depth: Vec<usize>,
    via: Vec<Option<usize>>,
    affected_component: Vec<bool>,
    /// Whether dependents come first ([`Ordering::layer_dependents_first`]): then `via`
    /// leads to dependents, and chains are not dependency chains.
    pub dependents_first: bool,
}

impl Layering {
    /// The chain of components that puts `member`'s component at its depth: the member's own
    /// component first, then each deepest dependency in turn, ending at a component with no
    /// affected dependency. Components that are not affected are included (they pass depth
    /// through) and can be told apart with [`Layering::is_affected_component`].
    pub fn chain(&self, ordering: &Ordering, member: usize) -> Vec<usize> {
        let mut chain = vec![ordering.component_of[member]];
        while let Some(&last) = chain.last() {
            match self.via[last] {
                Some(next) if self.depth[next] > 0 => chain.push(next),
                _ => break,
            }
        }
        chain
    }

    /// The depth of `member`'s component: its 1-based layer when it is affected, else the
    /// deepest layer below it.
    pub fn depth_of(&self, ordering: &Ordering, member: usize) -> usize {
        self.depth[ordering.component_of[member]]
    }

    /// Whether a component holds an affected member.
    pub fn is_affected_component(&self, component: usize) -> bool {
        self.affected_component[component]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{SyntheticCrate, metadata_json};

    fn workspace(crates: &[SyntheticCrate]) -> Workspace {
        Workspace::from_json(&metadata_json(crates)).unwrap()
    }

    fn krate(deps: &[usize], build_deps: &[usize], dev_deps: &[usize]) -> SyntheticCrate {
        SyntheticCrate {
            deps: deps.to_vec(),
            build_deps: build_deps.to_vec(),
            dev_deps: dev_deps.to_vec(),
        }
    }

    #[test]
    fn one_edge_carries_every_kind() {
        // 1 depends on 0 as normal and dev; 0 dev-depends on 1 (a dev cycle).
        let workspace = workspace(&[krate(&[], &[], &[1]), krate(&[0], &[], &[0])]);
        let graph = DepGraph::build(&workspace);
        assert_eq!(graph.graph.edge_count(), 2);
        assert_eq!(graph.edge(1, 0).unwrap().kinds_label(), "normal+dev");
        assert!(!graph.edge(0, 1).unwrap().orders());
        assert_eq!(graph.ordering().cycles().count(), 0);
    }

    #[test]
    fn layering_skips_unaffected_members_but_keeps_their_depth() {
        // 2 -> 1 -> 0 (build), 3 alone; only 0 and 2 are affected.
        let workspace = workspace(&[
            krate(&[], &[], &[]),
            krate(&[], &[0], &[]),
            krate(&[1], &[], &[]),
            krate(&[], &[], &[]),
        ]);
        let graph = DepGraph::build(&workspace);
        let ordering = graph.ordering();
        let layering = ordering.layer(&[true, false, true, false]);
        assert_eq!(layering.layers, vec![vec![0], vec![2]]);
        assert_eq!(layering.depth_of(&ordering, 1), 1);
        assert_eq!(layering.depth_of(&ordering, 3), 0);
        let chain = layering.chain(&ordering, 2);
        let members: Vec<&[usize]> = chain
            .iter()
            .map(|&component| ordering.components[component].as_slice())
            .collect();
        assert_eq!(members, vec![&[2][..], &[1][..], &[0][..]]);
        assert!(!layering.is_affected_component(ordering.component_of[1]));
    }

    #[test]
    fn dependents_first_layering_puts_every_dependent_before_its_dependencies() {
        // 2 -> 1 -> 0 (build), 3 -> 0; all affected but 1.
        let workspace = workspace(&[
            krate(&[], &[], &[]),
            krate(&[], &[0], &[]),
            krate(&[1], &[], &[]),
            krate(&[0], &[], &[]),
        ]);
        let ordering = DepGraph::build(&workspace).ordering();
        let layering = ordering.layer_dependents_first(&[true, false, true, true]);
        assert_eq!(layering.layers, vec![vec![2, 3], vec![0]]);
        assert!(layering.dependents_first);
    }

    #[test]
    fn closure_follows_normal_and_build_edges_only() {
        // 1 -> 0 normal, 2 -> 1 build, 3 dev-depends on 0.
        let workspace = workspace(&[
            krate(&[], &[], &[]),
            krate(&[0], &[], &[]),
            krate(&[], &[1], &[]),
            krate(&[], &[], &[0]),
        ]);
        let graph = DepGraph::build(&workspace);
        assert_eq!(
            graph.ordering_dependents_closure(&[0]),
            vec![true, true, true, false]
        );
        assert!(graph.dependents(0).any(|(dependent, _)| dependent == 3));
        assert!(!graph.is_empty());
        assert_eq!(graph.len(), 4);
    }
}
