//! Headless GUI tests (egui_kittest): the demo loads, Space plays, clicking the timeline
//! moves the playhead, dragging selects a region and L loops it.

use crate::support;

use std::time::{Duration, Instant};

use eframe::egui::{self, Key, Pos2, pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use sori::audio::playback::Player;
use sori::gui::SoriApp;
use sori::session::Settings;

/// The app on its demo, the tagger off so that the lanes stay as the lens first measured
/// them (the tagger's own test turns it on).
fn harness() -> Harness<'static, SoriApp> {
    harness_with(Settings {
        tagger: false,
        ..Settings::default()
    })
}

/// Steps the harness (worker threads at work meanwhile) until `done` holds; fails with `what`
/// after `limit_s` seconds.
fn step_until(
    h: &mut Harness<'_, SoriApp>,
    limit_s: u64,
    what: &str,
    done: impl Fn(&Harness<'_, SoriApp>) -> bool,
) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(limit_s), "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn harness_with(settings: Settings) -> Harness<'static, SoriApp> {
    // Keep the demo's notes, recovery copies and pictures out of the real user folder.
    support::use_test_data_dir();
    let app = SoriApp::new(settings, Player::silent(), None);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut SoriApp| app.show(ui), app);
    // Let the loader thread finish the demo (the GUI keeps running meanwhile).
    step_until(&mut h, 120, "demo did not load", |h| {
        h.state().session.track().is_some_and(|t| t.analysis_done())
            && !h.state().session.is_loading()
    });
    // Tests run in parallel and share one data folder: a recovery copy another test left
    // would put the "restore?" question in front of this one.
    if h.state().session.notes().pending_recovery.is_some() {
        h.state_mut().session.apply(sori::session::Command::Notes(
            sori::session::NotesCmd::Restore(false),
        ));
    }
    h.step();
    h
}

/// Changes the demo's note titled `title` through the session's notes command.
fn edit_note(
    h: &mut Harness<'_, SoriApp>,
    title: &str,
    change: impl FnOnce(&mut sori::notes::Note),
) {
    let notes = &h.state().session.notes().doc().notes;
    let index = notes
        .iter()
        .position(|n| n.title == title)
        .unwrap_or_else(|| panic!("the demo has a note titled {title}"));
    let mut note = notes[index].clone();
    change(&mut note);
    let selected = h.state().session.notes().selected;
    let session = &mut h.state_mut().session;
    session.apply(sori::session::Command::Notes(
        sori::session::NotesCmd::Update {
            index,
            note,
            coalesce: false,
        },
    ));
    // the edit selects the note; the test goes on from the selection it had
    session.apply(sori::session::Command::Notes(
        sori::session::NotesCmd::Select(selected),
    ));
}

fn click(h: &mut Harness<'_, SoriApp>, p: Pos2) {
    h.hover_at(p);
    h.step();
    h.drag_at(p);
    h.step();
    h.drop_at(p);
    h.step();
    h.step();
}

fn press(h: &mut Harness<'_, SoriApp>, key: Key) {
    h.key_press(key);
    h.step();
}

/// Presses at `x0`, moves to `x1` in `steps` frames and releases, all at height `y`.
fn drag(h: &mut Harness<'_, SoriApp>, x0: f32, x1: f32, y: f32, steps: usize) {
    h.hover_at(pos2(x0, y));
    h.step();
    h.drag_at(pos2(x0, y));
    h.step();
    for k in 1..=steps {
        h.hover_at(pos2(x0 + (x1 - x0) * k as f32 / steps as f32, y));
        h.step();
    }
    h.drop_at(pos2(x1, y));
    h.step();
}

fn timeline_rect(h: &Harness<'_, SoriApp>) -> egui::Rect {
    h.get_by_label("Timeline").rect()
}

#[test]
fn demo_loads_and_space_plays() {
    let mut h = harness();
    let dur = h.state().session.duration_s();
    assert!(
        (dur - sori::demo::DURATION_S).abs() < 0.01,
        "demo length {dur}"
    );
    assert!(h.query_by_label("Paused").is_some());
    press(&mut h, Key::Space);
    assert!(h.state().session.is_playing(), "Space starts playback");
    assert!(
        h.query_by_label("Playing").is_some(),
        "the transport shows the playing state"
    );
    press(&mut h, Key::Space);
    assert!(!h.state().session.is_playing(), "Space again pauses");
}

#[test]
fn clicking_the_timeline_moves_the_playhead() {
    let mut h = harness();
    let r = timeline_rect(&h);
    let view = h.state().session.view();
    assert_eq!(h.state().session.position_s(), 0.0);
    let x = r.left() + r.width() * 0.5;
    click(&mut h, pos2(x, r.center().y));
    let want = view.start_s + view.len_s * 0.5;
    let got = h.state().session.position_s();
    assert!(
        (got - want).abs() < view.len_s / r.width() as f64 * 2.0,
        "playhead at {got}, clicked at {want}"
    );
    // and a second click further left moves it back, in the very frame that receives the
    // release (the seek reaches the player then: the sound follows within its buffer)
    let p = pos2(r.left() + r.width() * 0.25, r.center().y);
    h.hover_at(p);
    h.step();
    h.drag_at(p);
    h.step();
    assert!(
        (h.state().session.position_s() - got).abs() < 1e-9,
        "pressing alone does not seek"
    );
    h.drop_at(p);
    h.step();
    let got2 = h.state().session.position_s();
    assert!(
        (got2 - (view.start_s + view.len_s * 0.25)).abs() < 0.2,
        "playhead at {got2}"
    );
}

#[test]
fn drag_selects_a_region_and_l_loops_it() {
    let mut h = harness();
    let r = timeline_rect(&h);
    let view = h.state().session.view();
    let (x0, x1) = (r.left() + r.width() * 0.2, r.left() + r.width() * 0.4);
    let y = r.center().y;
    drag(&mut h, x0, x1, y, 10);
    let (a, b) = h
        .state()
        .session
        .selection()
        .expect("dragging selects a region");
    let (wa, wb) = (
        view.start_s + view.len_s * 0.2,
        view.start_s + view.len_s * 0.4,
    );
    assert!(
        (a - wa).abs() < 0.2 && (b - wb).abs() < 0.2,
        "selection {a}..{b}, dragged {wa}..{wb}"
    );
    assert!(!h.state().session.loop_on());
    press(&mut h, Key::L);
    assert!(h.state().session.loop_on(), "L turns the loop on");
    let (la, lb) = h.state().session.loop_range();
    let rate = sori::demo::SAMPLE_RATE as f64;
    assert!(
        ((la as f64 / rate) - a).abs() < 1e-3 && ((lb as f64 / rate) - b).abs() < 1e-3,
        "loop follows the selection"
    );
    let pos = h.state().session.position_s();
    assert!(
        pos >= a - 1.0 / rate && pos <= b,
        "the playhead jumps into the loop"
    );
    press(&mut h, Key::L);
    assert!(!h.state().session.loop_on(), "L again turns it off");
}

#[test]
fn spectrogram_shows_the_finished_analysis_at_every_zoom() {
    let mut h = harness();
    for zoom_steps in [0, 3, 9] {
        for _ in 0..zoom_steps {
            h.key_press(Key::Plus);
        }
        h.key_press(Key::End); // playhead to the end: the view zooms around it
        let what = format!("tiles never settled after {zoom_steps} zoom steps");
        step_until(&mut h, 60, &what, |h| h.state().spectrogram_settled());
        press(&mut h, Key::F);
    }
}

#[test]
fn zoom_keys_and_overview_change_the_visible_range() {
    let mut h = harness();
    let full = h.state().session.view();
    press(&mut h, Key::Plus);
    let zoomed = h.state().session.view();
    assert!(
        (zoomed.len_s - full.len_s / 2.0).abs() < 1e-6,
        "+ halves the visible range"
    );
    // zoom to single samples and the view stops at the minimum
    for _ in 0..30 {
        press(&mut h, Key::Plus);
    }
    let deep = h.state().session.view();
    let frames = deep.len_s * sori::demo::SAMPLE_RATE as f64;
    assert!(frames <= 25.0, "deepest zoom shows {frames} samples");
    press(&mut h, Key::F);
    assert!(
        (h.state().session.view().len_s - full.len_s).abs() < 1e-6,
        "F fits the whole track"
    );
}

#[derive(Debug)]
struct Dropped(std::path::PathBuf);
impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

fn drop_file(h: &mut Harness<'_, SoriApp>, path: &std::path::Path) {
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(path.to_path_buf())));
    step_until(h, 60, "loading never ended", |h| {
        !h.state().session.is_loading() && h.state().session.job().is_none()
    });
    h.step();
}

#[test]
fn dropping_a_file_opens_it_and_a_broken_one_leaves_a_notice() {
    let mut h = harness();
    let dir = support::tmpdir("gui-drop");
    let wav = dir.join("dropped tone.wav");
    support::wav(
        &wav,
        22050,
        1,
        support::WavFmt::I16,
        false,
        &support::tone(22050, 1, 3.0),
    );
    drop_file(&mut h, &wav);
    let track = h.state().session.track().cloned().expect("a track");
    assert_eq!(track.title(), "dropped tone.wav");
    assert!((track.duration_s() - 3.0).abs() < 1e-6);
    assert_eq!(
        h.state().session.settings().recent.first(),
        Some(&wav),
        "it joins the recent files"
    );
    assert!(
        h.query_by_label_contains("dropped tone.wav").is_some(),
        "the status bar names the file"
    );

    let junk = dir.join("junk.wav");
    std::fs::write(&junk, b"not really audio at all").expect("write");
    drop_file(&mut h, &junk);
    assert_eq!(
        h.state().session.track().map(|t| t.id),
        Some(track.id),
        "the open track stays"
    );
    assert!(
        h.query_by_label_contains("junk.wav is not an audio file")
            .is_some(),
        "a notice says why"
    );
}

fn note_titles(h: &Harness<'_, SoriApp>) -> Vec<String> {
    h.state()
        .session
        .notes()
        .doc()
        .notes
        .iter()
        .map(|n| n.title.clone())
        .collect()
}

#[test]
fn the_current_note_follows_the_playhead_and_clicking_a_note_seeks() {
    let mut h = harness();
    let notes = h.state().session.notes().doc().notes.clone();
    assert!(notes.len() >= 5, "the demo comes with its notes");
    press(&mut h, Key::Space); // playing: the card shows the note at the playhead
    for (t, want) in [
        (5.0, "Gayageum-like plucks"),
        (20.0, "Janggu-like drum in 12/8 (장구)"),
        (45.0, "Haegeum-like bowed line (해금)"),
        (59.0, "Discussion"),
    ] {
        h.state_mut().session.apply(sori::session::Command::Seek(t));
        h.step();
        h.step();
        let cur = h.state().session.current_note().expect("a current note");
        assert_eq!(
            h.state().session.notes().doc().notes[cur].title,
            want,
            "at {t} s"
        );
        assert!(
            h.query_all_by_label(want).count() >= 2,
            "the list and the card at {t} s show {want:?}"
        );
    }
    press(&mut h, Key::Space);
    // Clicking a note in the list seeks to its start.
    let target = notes
        .iter()
        .find(|n| n.title.starts_with("808"))
        .expect("bass note")
        .clone();
    h.get_by_label(&format!("Note {}", target.title)).click();
    h.step();
    h.step();
    assert!(
        (h.state().session.position_s() - target.start).abs() < 1e-3,
        "position {}",
        h.state().session.position_s()
    );
    // Shift+→ goes to the next note's start.
    h.key_press_modifiers(egui::Modifiers::SHIFT, Key::ArrowRight);
    h.step();
    let next = notes
        .iter()
        .map(|n| n.start)
        .filter(|&s| s > target.start + 1e-6)
        .fold(f64::MAX, f64::min);
    assert!((h.state().session.position_s() - next).abs() < 1e-3);
}

#[test]
fn m_adds_a_note_ctrl_z_removes_it_and_ctrl_s_saves() {
    let mut h = harness();
    let before = note_titles(&h);
    h.state_mut()
        .session
        .apply(sori::session::Command::Seek(30.0));
    h.step();
    press(&mut h, Key::M);
    let after = note_titles(&h);
    assert_eq!(after.len(), before.len() + 1, "M adds a note");
    let added = h
        .state()
        .session
        .notes()
        .doc()
        .notes
        .iter()
        .find(|n| n.title == "New note")
        .expect("the new note")
        .clone();
    assert!(
        (added.start - 30.0).abs() < 1e-3 && added.end.is_none(),
        "a point note at the playhead"
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::Z);
    h.step();
    assert_eq!(note_titles(&h), before, "Ctrl+Z removes it");
    h.key_press_modifiers(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, Key::Z);
    h.step();
    assert_eq!(
        note_titles(&h).len(),
        before.len() + 1,
        "Ctrl+Shift+Z brings it back"
    );
    assert!(h.state().session.notes().is_dirty());
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::S);
    h.step();
    assert!(!h.state().session.notes().is_dirty(), "saved");
    let path = h
        .state()
        .session
        .notes()
        .path
        .clone()
        .expect("a notes path");
    let saved = sori::notes::native::read(&path).expect("the saved file parses");
    assert_eq!(saved.notes.len(), before.len() + 1);
    assert!(saved.notes.iter().any(|n| n.title == "New note"));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_long_notes_list_lays_out_only_the_rows_in_view_and_brings_the_played_note_into_it() {
    // 1500 notes, one every 40 ms of the demo: a musicologist's long annotation.
    let dir = support::tmpdir("many-notes");
    let path = dir.join("many.sori.toml");
    let mut doc = String::from("version = 1\n");
    for k in 0..1500 {
        doc.push_str(&format!(
            "\n[[note]]\nstart = \"{}\"\ntitle = \"N{k:04}\"\n",
            sori::notes::time::format(k as f64 * 0.04)
        ));
    }
    std::fs::write(&path, doc).expect("notes file");
    let mut h = harness();
    h.state_mut().session.apply(sori::session::Command::Notes(
        sori::session::NotesCmd::Open(path),
    ));
    h.step();
    h.step();
    assert_eq!(h.state().session.notes().doc().notes.len(), 1500);
    let rows = |h: &Harness<'_, SoriApp>| h.query_all_by_label_contains("Note N").count();
    let shown = rows(&h);
    assert!(
        (1..60).contains(&shown),
        "{shown} of 1500 note rows laid out"
    );
    // Playing from 50 s: the note there comes into the list.
    press(&mut h, Key::Space);
    h.state_mut()
        .session
        .apply(sori::session::Command::Seek(50.01));
    for _ in 0..4 {
        h.step();
    }
    let cur = h.state().session.current_note().expect("a current note");
    let title = h.state().session.notes().doc().notes[cur].title.clone();
    assert_eq!(title, "N1250");
    assert!(
        h.query_by_label(&format!("Note {title}")).is_some(),
        "the played note is not in the list's view"
    );
    assert!(rows(&h) < 60);
    press(&mut h, Key::Space);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn dragging_a_region_edge_on_the_lane_is_one_undo_step() {
    let mut h = harness();
    let lane = h.get_by_label("Notes lane").rect();
    let view = h.state().session.view();
    let x_of = |t: f64| lane.left() + ((t - view.start_s) / view.len_s) as f32 * lane.width();
    let before = h.state().session.notes().doc().clone();
    // The coda region (1:04–1:11) is alone in its row: drag its end from 71 s to about 69 s.
    let coda = before
        .notes
        .iter()
        .find(|n| n.title.starts_with("Coda"))
        .expect("coda")
        .clone();
    let y = lane.top() + 6.0;
    let (x0, x1) = (x_of(coda.end.expect("region")), x_of(69.0));
    drag(&mut h, x0, x1, y, 8);
    let after = h
        .state()
        .session
        .notes()
        .doc()
        .notes
        .iter()
        .find(|n| n.title.starts_with("Coda"))
        .expect("coda")
        .clone();
    let end = after.end.expect("still a region");
    assert!((end - 69.0).abs() < 0.3, "end dragged to {end}");
    assert_eq!(after.start, coda.start, "the start stays");
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::Z);
    h.step();
    assert_eq!(
        h.state().session.notes().doc(),
        &before,
        "one Ctrl+Z undoes the whole drag"
    );
}

#[test]
fn the_glossary_window_shows_instruments_in_hangul() {
    let mut h = harness();
    h.get_by_label("Help").click();
    h.run_steps(3);
    h.get_by_label("Glossary of instruments and terms").click();
    h.step();
    h.step();
    assert!(h.query_by_label_contains("해금 (haegeum)").is_some());
    assert!(h.query_by_label_contains("장구 (janggu)").is_some());
}

/// Steps the harness until the fusion lens of the open track is ready.
fn wait_for_lens(h: &mut Harness<'_, SoriApp>) -> std::sync::Arc<sori::analysis::lens::Analysis> {
    let lens = |h: &Harness<'_, SoriApp>| h.state().session.track().and_then(|t| t.lens());
    step_until(h, 120, "the lens was not measured", |h| lens(h).is_some());
    h.step();
    lens(h).expect("the lens, once measured, stays")
}

/// Centre of lane `k`'s row at time `t`.
fn lane_point(h: &Harness<'_, SoriApp>, k: usize, t: f64) -> Pos2 {
    let lanes = h.get_by_label("Fusion lens lanes").rect();
    let tl = timeline_rect(h);
    let view = h.state().session.view();
    let x = tl.left() + ((t - view.start_s) / view.len_s) as f32 * tl.width();
    let row = lanes.height() / sori::analysis::lens::LANES.len() as f32;
    pos2(x, lanes.top() + (k as f32 + 0.5) * row)
}

/// The first segment of the first Korean lane that has one, with that lane's index.
fn first_korean_segment(
    lens: &sori::analysis::lens::Analysis,
) -> (usize, sori::analysis::lens::Segment) {
    lens.lanes
        .iter()
        .enumerate()
        .find_map(|(k, l)| {
            (l.family == sori::analysis::lens::Family::Korean)
                .then(|| l.segments.first().map(|s| (k, s.clone())))
                .flatten()
        })
        .expect("the demo has a Korean segment")
}

#[test]
fn lens_lanes_show_evidence_on_hover_tint_on_click_and_draft_a_note() {
    let mut h = harness();
    let lens = wait_for_lens(&mut h);
    // The demo opens with plucks: the plucked-string lane has a segment there.
    let (k, seg) = first_korean_segment(&lens);
    let mid = (seg.start_s + seg.end_s) / 2.0;
    let p = lane_point(&h, k, mid);

    // Hover (and rest past the tooltip delay): the segment's evidence.
    h.hover_at(p);
    for _ in 0..60 {
        h.step();
    }
    let words: String = seg.evidence.chars().take(30).collect();
    assert!(
        h.query_by_label_contains(&words).is_some(),
        "hovering the segment shows its evidence ({words}…)"
    );

    // Click: the spectrogram is tinted with that lane; again: untinted.
    click(&mut h, p);
    assert_eq!(h.state().session.tint(), Some(k));
    click(&mut h, p);
    assert_eq!(h.state().session.tint(), None);

    // Right-click → Draft a note from this segment.
    let before = h.state().session.notes().doc().notes.len();
    h.hover_at(p);
    h.step();
    h.event(egui::Event::PointerButton {
        pos: p,
        button: egui::PointerButton::Secondary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
    h.event(egui::Event::PointerButton {
        pos: p,
        button: egui::PointerButton::Secondary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
    h.step();
    h.get_by_label("Draft a note from this segment").click();
    h.step();
    h.step();
    let notes = &h.state().session.notes().doc().notes;
    assert_eq!(notes.len(), before + 1, "one draft note added");
    let n = notes
        .iter()
        .find(|n| n.body.contains(&seg.evidence))
        .expect("the draft's body is the evidence");
    assert!((n.start - seg.start_s).abs() < 1e-3);
    assert_eq!(n.end.map(|e| (e - seg.end_s).abs() < 1e-3), Some(true));
    assert_eq!(n.category, sori::notes::Category::Traditional);
    assert_eq!(
        n.instruments,
        vec![sori::analysis::lens::LANES[k].instrument.to_string()]
    );
    // One undo step takes it back.
    h.state_mut()
        .session
        .apply(sori::session::Command::Notes(sori::session::NotesCmd::Undo));
    assert_eq!(h.state().session.notes().doc().notes.len(), before);
}

#[test]
fn ctrl_f_finds_regions_of_similar_timbre_to_the_selection() {
    let mut h = harness();
    wait_for_lens(&mut h);
    // The demo's opening plucks (1–3 s) return alone in the coda (64–71 s).
    h.state_mut()
        .session
        .apply(sori::session::Command::SetSelection(Some((1.0, 3.0))));
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::F);
    h.step();
    let found = h.state().session.similar().to_vec();
    assert!(!found.is_empty(), "Ctrl+F lit up similar regions");
    assert!(
        found[0].start_s >= 60.0,
        "the best match is in the coda, where the plucks are alone again: {found:?}"
    );
    let best = h
        .get_by_label_contains("Similar region 1 · ")
        .rect()
        .center();
    click(&mut h, best);
    assert_eq!(
        h.state().session.selection(),
        Some((found[0].start_s, found[0].end_s)),
        "clicking the ranked match selects it"
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::F);
    h.step();
    assert!(
        h.state().session.similar().is_empty(),
        "Ctrl+F again clears them"
    );
}

#[test]
fn a_note_picture_is_loaded_beside_the_ui_and_a_missing_one_says_so() {
    let mut h = harness();
    let base = h
        .state()
        .session
        .notes()
        .base_dir()
        .expect("the demo's notes have a folder");
    let dir = base.join("images");
    std::fs::create_dir_all(&dir).expect("images folder");
    let name = format!("kittest-card-{}.png", std::process::id());
    let pic = dir.join(&name);
    image::RgbaImage::from_pixel(64, 32, image::Rgba([200, 40, 40, 255]))
        .save(&pic)
        .expect("test picture");
    let rel = format!("images/{name}");
    edit_note(&mut h, "Gayageum-like plucks", |n| {
        n.image = Some(rel.clone())
    });
    h.state_mut()
        .session
        .apply(sori::session::Command::Seek(5.0));
    let alt = format!("Picture: {rel}");
    step_until(&mut h, 10, "the picture never showed", |h| {
        h.query_by_role_and_label(egui::accesskit::Role::Image, &alt)
            .is_some()
    });
    assert!(
        h.query_all_by_label_contains("Loading the picture")
            .next()
            .is_none()
    );
    assert!(
        h.query_all_by_label_contains("Image not found")
            .next()
            .is_none()
    );
    // A picture that is not there: the card says so, and the app goes on.
    let missing = format!("images/kittest-none-{}.png", std::process::id());
    edit_note(&mut h, "Gayageum-like plucks", |n| {
        n.image = Some(missing.clone())
    });
    step_until(
        &mut h,
        10,
        "the card never said the picture is missing",
        |h| {
            h.query_all_by_label_contains("Image not found")
                .next()
                .is_some()
        },
    );
    let _ = std::fs::remove_file(&pic);
}

#[test]
fn a_note_links_only_web_addresses_and_shows_no_image_from_outside_its_folder() {
    let mut h = harness();
    edit_note(&mut h, "Gayageum-like plucks", |n| {
        n.sources = vec![
            "https://www.gugak.go.kr/".into(),
            "file:///etc/passwd".into(),
        ];
        n.image = Some("../../../etc/sori-secret.png".into());
    });
    h.state_mut()
        .session
        .apply(sori::session::Command::Seek(5.0));
    h.step();
    h.step();
    // The web address is a link; the file: address is text, not a link.
    let link = egui::accesskit::Role::Link;
    assert!(
        h.query_by_role_and_label(link, "https://www.gugak.go.kr/")
            .is_some()
    );
    assert!(
        h.query_by_role_and_label(link, "file:///etc/passwd")
            .is_none()
    );
    assert!(h.query_by_label("• file:///etc/passwd").is_some());
    assert!(
        h.query_all_by_label_contains("leads out of the notes file's folder")
            .next()
            .is_some(),
        "the card says why the image is not shown"
    );
    // Nothing opens until the link is clicked.
    let opened = |h: &Harness<'_, SoriApp>| {
        h.output().platform_output.commands.iter().any(
            |c| matches!(c, egui::OutputCommand::OpenUrl(u) if u.url == "https://www.gugak.go.kr/"),
        )
    };
    assert!(!opened(&h));
    h.get_by_role_and_label(link, "https://www.gugak.go.kr/")
        .click();
    h.step();
    assert!(opened(&h), "a click on the link asks to open it");
}

#[test]
fn f5_presents_pagedown_plays_the_next_note_b_blanks_esc_returns_and_the_text_scale_persists() {
    let mut h = harness();
    h.state_mut()
        .session
        .apply(sori::session::Command::Seek(5.0));
    h.step();
    assert!(
        h.query_by_label("Add note (M)").is_some(),
        "the editor shows its notes panel"
    );
    press(&mut h, Key::F5);
    h.step();
    assert!(h.state().session.presenting(), "F5 enters presentation");
    assert!(
        h.query_by_label("Add note (M)").is_none(),
        "no editing chrome while presenting"
    );
    assert!(
        h.query_by_label("Gayageum-like plucks").is_some(),
        "the card shows the note at the playhead"
    );
    let notes = h.state().session.notes().doc().notes.clone();
    let mut starts: Vec<(f64, String)> = notes.iter().map(|n| (n.start, n.title.clone())).collect();
    starts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let k = starts
        .iter()
        .position(|(_, t)| t == "Gayageum-like plucks")
        .expect("the first note");
    let (next_start, next_title) = starts[k + 1].clone();
    press(&mut h, Key::PageDown);
    h.step();
    assert!(
        (h.state().session.position_s() - next_start).abs() < 1e-3,
        "PageDown goes to the next note's start ({next_start} s), got {}",
        h.state().session.position_s()
    );
    assert!(h.state().session.is_playing(), "and plays it");
    assert!(
        h.query_by_label(&next_title).is_some(),
        "the card shows {next_title:?}"
    );
    // Playback pauses at the end of the note, so the teacher can talk.
    let end = notes
        .iter()
        .find(|n| n.title == next_title)
        .and_then(|n| n.end)
        .unwrap_or(starts[k + 2].0);
    h.state_mut()
        .session
        .apply(sori::session::Command::Seek(end + 0.01));
    h.step();
    assert!(
        !h.state().session.is_playing(),
        "paused at the end of the note"
    );
    press(&mut h, Key::PageUp);
    assert!(
        (h.state().session.position_s() - starts[k].0).abs() < 1e-3,
        "PageUp goes back"
    );
    // B blanks the screen, B again brings it back.
    press(&mut h, Key::B);
    h.step();
    assert!(h.query_by_label("Blank screen").is_some());
    assert!(
        h.query_by_label("Gayageum-like plucks").is_none(),
        "nothing shows on a blank screen"
    );
    press(&mut h, Key::B);
    h.step();
    assert!(h.query_by_label("Blank screen").is_none());
    assert!(h.query_by_label("Gayageum-like plucks").is_some());
    press(&mut h, Key::Escape);
    h.step();
    assert!(!h.state().session.presenting(), "Esc leaves presentation");
    assert!(
        h.query_by_label("Add note (M)").is_some(),
        "the editor is back"
    );

    // Ctrl+= twice: larger text, remembered in the settings that persist.
    for _ in 0..2 {
        h.key_press_modifiers(egui::Modifiers::COMMAND, Key::Equals);
        h.step();
    }
    h.step();
    let scale = h.state().session.settings().text_scale;
    assert!((scale - 1.125 * 1.125).abs() < 1e-4, "text scale {scale}");
    assert!(
        (h.ctx.zoom_factor() - scale).abs() < 1e-4,
        "the window shows it"
    );
    // A restart: the settings go through their stored form into a new harness.
    let stored = serde_json::to_string(&h.state().session.settings()).expect("settings serialize");
    drop(h);
    let settings: Settings = serde_json::from_str(&stored).expect("settings deserialize");
    let mut h = harness_with(settings);
    h.step();
    assert!((h.state().session.settings().text_scale - scale).abs() < 1e-6);
    assert!(
        (h.ctx.zoom_factor() - scale).abs() < 1e-4,
        "the new window starts at the remembered scale"
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::Num0);
    h.step();
    h.step();
    assert_eq!(
        h.state().session.settings().text_scale,
        1.0,
        "Ctrl+0 resets"
    );
}

#[test]
fn the_presentation_card_body_is_at_least_28_pixels_at_1280x720() {
    let mut h = harness();
    h.set_size(egui::vec2(1280.0, 720.0));
    // A one-line body, so its label is exactly one line of body text.
    edit_note(&mut h, "Gayageum-like plucks", |n| {
        n.body = "가야금 소리".into()
    });
    h.state_mut()
        .session
        .apply(sori::session::Command::Seek(5.0));
    press(&mut h, Key::F5);
    h.step();
    for scale in [1.0, sori::session::TEXT_SCALE_MIN] {
        let app = h.state_mut();
        app.session.apply(sori::session::Command::ScaleText(1.0));
        if scale != 1.0 {
            app.session.apply(sori::session::Command::ScaleText(scale));
        }
        assert_eq!(app.session.settings().text_scale, scale);
        h.step();
        h.step();
        let ppp = h.ctx.pixels_per_point();
        let line_px = h.get_by_label("가야금 소리").rect().height() * ppp;
        assert!(
            line_px >= sori::gui::present::MIN_BODY_PX,
            "at text scale {scale} the body line is {line_px} px"
        );
    }
}

#[test]
fn the_tagger_strip_shows_the_top_tags_and_the_lens_menu_turns_the_tagger_off() {
    let mut h = harness_with(Settings::default());
    wait_for_lens(&mut h);
    step_until(&mut h, 300, "the tagger did not finish", |h| {
        h.state().session.track().and_then(|t| t.tags()).is_some()
    });
    let tags = h
        .state()
        .session
        .track()
        .and_then(|t| t.tags())
        .expect("the tags, once heard, stay");
    h.step();
    // The demo is 72 s: eight windows, and the strip names the first one's five classes.
    assert_eq!(tags.len(), 8);
    h.get_by_label_contains("Top AudioSet tags 0:00");
    let names = sori::analysis::tagger::labels();
    for (i, score) in sori::analysis::tagger::top(&tags[0].scores, 5) {
        h.get_by_label(&format!("{} {score:.2}", names[i]));
    }
    // The lanes took the tagger's opinion: a segment's evidence says what it heard.
    let evidence = |h: &Harness<'_, SoriApp>| -> Vec<String> {
        let lens = h.state().session.track().and_then(|t| t.lens());
        lens.expect("lens")
            .lanes
            .iter()
            .flat_map(|l| l.segments.iter().map(|s| s.evidence.clone()))
            .collect()
    };
    let ev = evidence(&h);
    assert!(!ev.is_empty());
    assert!(ev.iter().all(|e| e.starts_with("tagger: ")), "{ev:?}");
    // Hovering a Korean segment names the reference recordings it sounds closest to.
    let lens = h
        .state()
        .session
        .track()
        .and_then(|t| t.lens())
        .expect("lens");
    let (k, seg) = first_korean_segment(&lens);
    let cited = seg
        .closest
        .first()
        .expect("a tagged Korean segment cites a reference");
    h.hover_at(lane_point(&h, k, (seg.start_s + seg.end_s) / 2.0));
    for _ in 0..60 {
        h.step();
    }
    h.get_by_label_contains("Sounds closest to");
    h.get_by_label_contains(&cited.describe());

    // Lens → off: the strip says so and the lanes go back to the signal cues alone.
    h.get_by_label("Lens").click();
    for _ in 0..3 {
        h.step();
    }
    h.get_by_label("Second opinion from the AudioSet tagger")
        .click();
    h.step();
    h.step();
    assert!(!h.state().session.settings().tagger);
    h.get_by_label("AudioSet tagger off (Lens menu)");
    assert!(evidence(&h).iter().all(|e| !e.contains("tagger:")));
    assert!(
        h.state()
            .session
            .track()
            .is_some_and(|t| t.tags().is_none())
    );
}
