//! Temporary folders for tests and benchmarks, so that a run leaves nothing in the temp
//! folder: a [`TestDir`] is removed when it is dropped (also when its test panics), a
//! [`process_dir`] when the process exits, and the first folder a process makes sweeps away
//! the folders of earlier runs that were killed before they could clean up.
//!
//! Compiled into the library's unit tests and included by `tests/support` and the benchmark
//! with `#[path]`, so there is one copy.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once, OnceLock};

/// Every folder made here starts with this, then the process id and a dash.
pub const PREFIX: &str = "sori-tmp-";

/// A temporary folder, removed with everything in it when dropped.
#[derive(Debug)]
pub struct TestDir(PathBuf);

impl TestDir {
    /// A new, empty folder named after the process and `name`.
    pub fn new(name: &str) -> Self {
        Self(make(name))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for TestDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TestDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A folder that lives as long as the process (for state shared by every test of a binary,
/// such as `SORI_DATA_DIR`); removed when the process exits, whether its tests passed or not.
pub fn process_dir(name: &str) -> PathBuf {
    static AT_EXIT: Once = Once::new();
    let dir = make(name);
    if let Ok(mut dirs) = AT_EXIT_DIRS.lock() {
        dirs.push(dir.clone());
    }
    AT_EXIT.call_once(|| {
        // SAFETY: `atexit` is the C standard library's; the handler only removes folders and
        // does not unwind.
        unsafe { atexit(remove_process_dirs) };
    });
    dir
}

static AT_EXIT_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

unsafe extern "C" {
    fn atexit(f: extern "C" fn()) -> std::ffi::c_int;
}

extern "C" fn remove_process_dirs() {
    let dirs = match AT_EXIT_DIRS.lock() {
        Ok(mut d) => std::mem::take(&mut *d),
        Err(_) => return,
    };
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

fn make(name: &str) -> PathBuf {
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(sweep_stale);
    let dir = std::env::temp_dir().join(format!("{PREFIX}{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot make the test folder {}: {e}", dir.display());
    }
    dir
}

/// Removes folders of this kind left by processes that no longer run (a run stopped by
/// Ctrl-C or killed). Where a process can't be looked up, a folder older than a day counts as
/// left behind.
pub fn sweep_stale() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    let me = std::process::id();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != me && !running(pid, &e.path()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn running(pid: u32, dir: &Path) -> bool {
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        return proc.join(pid.to_string()).exists();
    }
    let day = std::time::Duration::from_secs(24 * 3600);
    std::fs::metadata(dir)
        .and_then(|m| m.modified())
        .map(|t| t.elapsed().is_ok_and(|age| age < day))
        .unwrap_or(true)
}
