//! The temporary folders of [`crate::testdir`] go away (kept apart from it, which the
//! integration tests include too, so that these run once).

use crate::testdir::*;
use std::path::{Path, PathBuf};

#[test]
fn a_test_dir_is_removed_when_dropped_even_by_a_panic() {
    let kept = TestDir::new("drop-check");
    let path = kept.path().to_path_buf();
    std::fs::write(path.join("f"), b"x").expect("write");
    drop(kept);
    assert!(!path.exists());

    let path = std::thread::spawn(|| {
        let d = TestDir::new("panic-check");
        let p = d.path().to_path_buf();
        std::fs::write(p.join("f"), b"x").expect("write");
        std::panic::panic_any(p)
    })
    .join()
    .expect_err("the thread panicked")
    .downcast::<PathBuf>()
    .expect("the panic carries the path");
    assert!(!path.exists(), "{}", path.display());
}

#[test]
fn folders_of_dead_processes_are_swept() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    // A pid far above any the kernel hands out (pid_max is at most 2^22).
    let stale = std::env::temp_dir().join(format!("{PREFIX}{}-left", 1u32 << 30));
    std::fs::create_dir_all(stale.join("sub")).expect("mkdir");
    let mine = TestDir::new("sweep-check");
    sweep_stale();
    assert!(!stale.exists());
    assert!(mine.exists());
}
