//! Nothing is ever lost: a writer killed mid-save leaves the complete old or the complete new
//! file; unsaved edits come back from the recovery copy after a crash.

use crate::support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sori::notes::history::Editor;
use sori::notes::interchange::{Format, export};
use sori::notes::{Document, Note, native, recovery};

fn big_doc(n: usize, tag: &str) -> Document {
    let notes = (0..n)
        .map(|i| {
            let mut note = Note::region(i as f64, i as f64 + 0.5, format!("{tag} note {i} — 해금"));
            note.body =
                format!("{tag} body {i}\nsecond line with some length to make the file bigger …\n");
            note
        })
        .collect();
    Document {
        title: tag.into(),
        notes,
    }
}

#[test]
fn killing_a_writer_mid_save_never_leaves_a_partial_file() {
    let dir = support::tmpdir("kill-save");
    // Two sources of different sizes; the target starts as a complete copy of one.
    let (a, b) = (big_doc(6000, "A"), big_doc(9000, "B"));
    let src_a = dir.join("a.jams");
    let src_b = dir.join("b.jams");
    std::fs::write(&src_a, export(&a, Format::Jams).0).expect("write a");
    std::fs::write(&src_b, export(&b, Format::Jams).0).expect("write b");
    let target = dir.join("target.sori.toml");
    std::fs::write(&target, native::to_string(&a)).expect("seed target");

    let writer = |src: &std::path::Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sori"));
        c.args(["notes", "convert"])
            .arg(src)
            .arg(&target)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    // Kill times are drawn over twice what a whole save of the larger source takes on this
    // machine now (a loaded machine is slower), so that they straddle the save.
    let mut full: Vec<Duration> = (0..3)
        .map(|_| {
            let t = Instant::now();
            let ok = writer(&src_b).status().expect("run writer").success();
            assert!(ok, "a complete save succeeds");
            t.elapsed()
        })
        .collect();
    full.sort();
    let span_us = (full[1].as_micros() as u64 * 2).max(1);
    let mut seed = 12345u64;
    let mut saw_new = 0;
    let mut saw_old = 0;
    for i in 0..100 {
        let src = if i % 2 == 0 { &src_b } else { &src_a };
        let before = native::read(&target).expect("target parses").notes.len();
        let mut child = writer(src).spawn().expect("spawn writer");
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait = Duration::from_micros((seed >> 33) % span_us);
        let t = Instant::now();
        while t.elapsed() < wait {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let _ = child.kill();
        let _ = child.wait();
        let after =
            native::read(&target).unwrap_or_else(|e| panic!("round {i}: the file is damaged: {e}"));
        let n = after.notes.len();
        assert!(
            n == a.notes.len() || n == b.notes.len(),
            "round {i}: {n} notes is neither document"
        );
        if n == before {
            saw_old += 1;
        } else {
            saw_new += 1;
        }
    }
    // A save that completes clears the temporaries of killed ones.
    sori::notes::save::atomic_write(&target, native::to_string(&a).as_bytes()).expect("final save");
    let stray: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
    // The kill times straddle the save: both outcomes happen.
    assert!(
        saw_old > 0 && saw_new > 0,
        "old kept {saw_old} times, new written {saw_new} times"
    );
}

#[test]
fn edits_survive_a_crash_through_the_recovery_copy() {
    let dir = support::tmpdir("recovery");
    support::use_test_data_dir();
    let notes_path = dir.join("song.sori.toml");
    std::fs::write(
        &notes_path,
        native::to_string(&Document {
            title: "saved".into(),
            notes: vec![Note::point(1.0, "saved note")],
        }),
    )
    .expect("write");
    // First run: load, edit, autosave, then "crash" (drop everything without saving).
    {
        let mut ed = Editor::new(native::read(&notes_path).expect("read"));
        ed.edit(|d| {
            d.notes
                .push(Note::region(5.0, 7.5, "가야금 — unsaved edit"))
        });
        ed.edit(|d| d.notes[0].body = "changed body".into());
        assert!(ed.is_dirty());
        recovery::write(&notes_path, ed.doc()).expect("autosave");
    }
    // Second run, as the app relaunches: loading the notes offers the recovery copy.
    let (mut relaunched, _) = sori::session::NotesState::load_for(
        &sori::session::Source::File(dir.join("song.wav")),
        None,
    );
    assert!(
        relaunched.pending_recovery.is_some(),
        "the relaunched app offers to restore"
    );
    relaunched.answer_recovery(true);
    assert_eq!(relaunched.doc().notes.len(), 2, "restored edits");
    assert!(relaunched.is_dirty(), "restored edits still need saving");
    let restored = recovery::find(&notes_path).expect("a recovery copy is offered");
    assert_eq!(restored.notes.len(), 2);
    assert_eq!(restored.notes[1].title, "가야금 — unsaved edit");
    assert_eq!(restored.notes[0].body, "changed body");
    assert_eq!(
        native::read(&notes_path).expect("read").notes.len(),
        1,
        "the notes file was not overwritten"
    );
    // After a save the copy is stale and is not offered again.
    std::thread::sleep(Duration::from_millis(20));
    sori::notes::save::atomic_write(&notes_path, native::to_string(&restored).as_bytes())
        .expect("save");
    assert!(
        recovery::find(&notes_path).is_none(),
        "a copy older than the saved file is not offered"
    );
    recovery::clear(&notes_path);
}

#[test]
fn notes_convert_names_what_the_target_cannot_hold() {
    let dir = support::tmpdir("convert");
    let mut n = Note::region(1.0, 2.0, "title");
    n.body = "a body".into();
    let src = dir.join("in.sori.toml");
    std::fs::write(
        &src,
        native::to_string(&Document {
            title: "t".into(),
            notes: vec![n],
        }),
    )
    .expect("write");
    let out = dir.join("out.txt");
    let run = Command::new(env!("CARGO_BIN_EXE_sori"))
        .args(["notes", "convert"])
        .arg(&src)
        .arg(&out)
        .output()
        .expect("run");
    assert!(run.status.success());
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "1.000000\t2.000000\ttitle\n"
    );
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("bodies of 1 note"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // A malformed input: one line naming line and column, non-zero exit, output untouched.
    std::fs::write(&src, "[[note]]\nstart = \"x\"\n").expect("write");
    let run = Command::new(env!("CARGO_BIN_EXE_sori"))
        .args(["notes", "convert"])
        .arg(&src)
        .arg(&out)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(err.contains("line 2, column 9"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1);
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "1.000000\t2.000000\ttitle\n"
    );
}

#[test]
fn a_file_changed_by_another_program_is_noticed_and_reloaded_on_request() {
    use sori::session::{NotesState, Source};
    let dir = support::tmpdir("disk-change");
    support::use_test_data_dir();
    let audio = dir.join("song.wav");
    let notes = native::sidecar_for(&audio);
    std::fs::write(
        &notes,
        native::to_string(&Document {
            title: "v1".into(),
            notes: vec![Note::point(1.0, "one")],
        }),
    )
    .expect("write");
    let (mut st, notice) = NotesState::load_for(&Source::File(audio.clone()), None);
    assert!(notice.is_none());
    assert_eq!(st.doc().title, "v1");
    st.check_disk(Instant::now());
    assert!(!st.changed_on_disk);
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(
        &notes,
        native::to_string(&Document {
            title: "v2".into(),
            notes: vec![],
        }),
    )
    .expect("write");
    st.check_disk(Instant::now());
    assert!(st.changed_on_disk, "the change is noticed");
    st.answer_disk_change(true, &Source::File(audio.clone()));
    assert_eq!(st.doc().title, "v2", "reloaded");
    assert!(!st.changed_on_disk);
    // A malformed file is reported with its line and never overwritten by Save.
    std::fs::write(&notes, "version = 1\n[[note]]\nstart = \"oops\"\n").expect("write");
    let (mut st, notice) = NotesState::load_for(&Source::File(audio), None);
    assert!(notice.is_some_and(|n| n.contains("line 3")));
    assert!(st.save().is_err());
    assert_eq!(
        std::fs::read_to_string(&notes).expect("read"),
        "version = 1\n[[note]]\nstart = \"oops\"\n"
    );
}

#[test]
fn notes_for_a_track_in_an_unwritable_folder_are_saved_to_the_data_folder() {
    use sori::session::{NotesState, Source};
    support::use_test_data_dir();
    // A folder that cannot be written (here: one that cannot exist under a regular file).
    let dir = support::tmpdir("unwritable");
    let blocker = dir.join("usb-stick");
    std::fs::write(&blocker, b"a file, not a folder").expect("write");
    let audio = blocker.join("song.mp3");
    let (mut st, _) = NotesState::load_for(&Source::File(audio), None);
    st.editor
        .edit(|d| d.notes.push(Note::point(3.0, "written in class")));
    let msg = st.save().expect("saved somewhere");
    let saved_to = st.path.clone().expect("a path");
    assert!(
        !saved_to.starts_with(&blocker),
        "saved to {}",
        saved_to.display()
    );
    assert!(
        msg.contains(&saved_to.display().to_string()),
        "the message says where: {msg}"
    );
    let back = native::read(&saved_to).expect("the saved notes parse");
    assert!(back.notes.iter().any(|n| n.title == "written in class"));
    assert!(!st.is_dirty());
}
