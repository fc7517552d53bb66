//! A file system the storage tests can make read-only for real: an ext4 image on a loop device
//! (or, where the machine has no loop devices, a tmpfs), mounted in a private mount namespace.
//!
//! Chmod does not stop root, and SQLite's own read-only modes are not what a read-only disk
//! does, so the tests need a mount. Mounting it in a namespace of its own keeps it out of
//! everyone else's sight, and when the namespace's last process exits the kernel unmounts it
//! and frees the loop device, even if the test process is killed.

use std::ffi::OsString;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;

/// What the volume is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// ext4 on a loop device, mounted `errors=remount-ro`: it can be forced read-only under
    /// open files, as the kernel does after an I/O error.
    Ext4,
    /// A tmpfs: it can only be remounted read-only while no file is open for writing.
    Tmpfs,
}

/// A mounted volume, alive until dropped.
pub struct Volume {
    /// Holds the mount namespace: `cat` on a pipe, so it exits when the pipe closes.
    holder: Child,
    /// Where the volume is mounted, inside the namespace (outside it the directory is empty).
    pub mount_point: PathBuf,
    /// The loop device, for ext4.
    device: Option<String>,
    /// What it is.
    pub kind: Kind,
    _dir: TempDir,
}

impl Volume {
    /// An ext4 volume, else a tmpfs; `Err` says why this machine can make neither.
    pub fn new() -> Result<Volume, String> {
        match Volume::mount(Kind::Ext4) {
            Ok(volume) => Ok(volume),
            Err(ext4) => Volume::mount(Kind::Tmpfs)
                .map_err(|tmpfs| format!("no ext4 volume ({ext4}) and no tmpfs ({tmpfs})")),
        }
    }

    fn mount(kind: Kind) -> Result<Volume, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mount_point = dir.path().join("mnt");
        std::fs::create_dir(&mount_point).map_err(|e| e.to_string())?;
        let mount = match kind {
            Kind::Ext4 => {
                let image = dir.path().join("ext4.img");
                let file = std::fs::File::create(&image).map_err(|e| e.to_string())?;
                file.set_len(32 * 1024 * 1024).map_err(|e| e.to_string())?;
                run(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&image))?;
                format!(
                    "mount -o loop,errors=remount-ro '{}' \"$1\"",
                    image.display()
                )
            }
            Kind::Tmpfs => "mount -t tmpfs -o size=32m tmpfs \"$1\"".to_owned(),
        };
        let script =
            format!("{mount} || exit 1; echo \"ready $(findmnt -n -o SOURCE \"$1\")\"; exec cat");
        let mut holder = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(&script)
            .arg("sh")
            .arg(&mount_point)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        let mut line = String::new();
        let _ = BufReader::new(holder.stdout.take().unwrap()).read_line(&mut line);
        let Some(source) = line.trim().strip_prefix("ready ") else {
            let _ = holder.kill();
            let _ = holder.wait();
            let mut stderr = String::new();
            let _ = holder.stderr.take().unwrap().read_to_string(&mut stderr);
            return Err(format!("cannot mount {kind:?}: {}", stderr.trim()));
        };
        let device = (kind == Kind::Ext4).then(|| source.trim().to_owned());
        Ok(Volume {
            holder,
            mount_point,
            device,
            kind,
            _dir: dir,
        })
    }

    /// The command prefix that runs a program inside the volume's mount namespace.
    pub fn enter(&self) -> Vec<OsString> {
        ["nsenter", "-t", &self.holder.id().to_string(), "-m", "--"]
            .iter()
            .map(OsString::from)
            .collect()
    }

    /// A command running `program` inside the volume's mount namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let prefix = self.enter();
        let mut command = Command::new(&prefix[0]);
        command.args(&prefix[1..]).arg(program);
        command
    }

    /// Whether `path` exists, as seen inside the namespace.
    pub fn exists(&self, path: &Path) -> bool {
        self.command("test")
            .arg("-e")
            .arg(path)
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Remounts the volume read-only; it must have no file open for writing.
    pub fn remount_read_only(&self) {
        run(self
            .command("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.mount_point))
        .unwrap();
    }

    /// Makes the kernel force the file system read-only under the files open on it, as ext4
    /// mounted `errors=remount-ro` does after an I/O error; `Err` on a tmpfs, which cannot.
    pub fn force_read_only(&self) -> Result<(), String> {
        let device = self
            .device
            .as_deref()
            .ok_or("a tmpfs cannot be forced read-only under open files")?;
        let name = Path::new(device).file_name().unwrap().to_string_lossy();
        std::fs::write(
            format!("/sys/fs/ext4/{name}/trigger_fs_error"),
            "storage test\n",
        )
        .map_err(|e| format!("cannot trigger an ext4 error on {device}: {e}"))?;
        let mounts = std::fs::read_to_string(format!("/proc/{}/mounts", self.holder.id()))
            .map_err(|e| e.to_string())?;
        let options = mounts
            .lines()
            .find(|line| line.split(' ').nth(1) == Some(&*self.mount_point.to_string_lossy()))
            .and_then(|line| line.split(' ').nth(3))
            .unwrap_or_default()
            .to_owned();
        if options
            .split(',')
            .any(|option| option == "ro" || option == "emergency_ro")
        {
            Ok(())
        } else {
            Err(format!(
                "{device} is still mounted {options} after an ext4 error"
            ))
        }
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// Runs `command`, `Err` with its stderr when it fails.
fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
