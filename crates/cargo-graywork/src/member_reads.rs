//! Members' sources read once and shared: by the plans' public-API reading and the impact
//! prediction, and across every update `outdated --plan` plans.

use graywork_workspace::Workspace;

/// A member's crate as read, or why it could not be read.
pub(crate) type MemberRead = std::sync::Arc<Result<graywork_contracts::Crate, String>>;

/// Members' sources read once for several plans (`outdated --plan` plans every
/// incompatible update): member index -> the crate as read.
#[derive(Default)]
pub(crate) struct MemberReads {
    read: std::sync::Mutex<std::collections::BTreeMap<usize, MemberRead>>,
}

impl MemberReads {
    /// The member's crate, read on first use.
    pub(crate) fn get(&self, workspace: &Workspace, position: usize) -> MemberRead {
        if let Some(found) = self.lock().get(&position) {
            return found.clone();
        }
        let dir = workspace.members[position].manifest_dir();
        let read = std::sync::Arc::new(
            graywork_contracts::read_member(workspace.root.as_std_path(), dir.as_std_path())
                .map_err(|error| format!("{error:#}")),
        );
        self.lock().entry(position).or_insert(read).clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<usize, MemberRead>> {
        // A reader that panicked left whole entries behind, never a half-written one.
        self.read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
