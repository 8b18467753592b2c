//! The command line: `sori render` writes a PNG of the asked size; `sori analyze` writes the
//! JSON of DESIGN.md section 3 (and CSV segments); bad input exits non-zero with one line on
//! stderr and no panic.

use crate::support;

use std::process::Command;

fn sori() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sori"))
}

/// Runs `cmd`, which must succeed (its stderr is shown otherwise).
fn run_ok(cmd: &mut Command) -> std::process::Output {
    let st = cmd.output().expect("run sori");
    assert!(
        st.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    st
}

#[test]
fn render_per_note_writes_one_slide_per_note_and_the_notes_lane_in_category_colours() {
    let dir = support::tmpdir("cli-per-note");
    let slides = dir.join("slides");
    let main = dir.join("demo.png");
    let notes_file = dir.join("demo.sori.toml");
    std::fs::write(&notes_file, sori::session::notes_state::DEMO_NOTES).expect("write notes");
    run_ok(
        sori()
            .args([
                "render",
                "--demo",
                "--width",
                "1280",
                "--height",
                "720",
                "--per-note",
            ])
            .arg(&slides)
            .arg("--notes")
            .arg(&notes_file)
            .arg("-o")
            .arg(&main),
    );
    let doc =
        sori::notes::native::parse(sori::session::notes_state::DEMO_NOTES).expect("demo notes");
    let mut files: Vec<_> = std::fs::read_dir(&slides)
        .expect("slides folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    files.sort();
    assert_eq!(files.len(), doc.notes.len(), "one slide per note");
    for (f, n) in files.iter().zip(&doc.notes) {
        let img = image::open(f).expect("a PNG").to_rgba8();
        assert_eq!((img.width(), img.height()), (1280, 720), "{}", f.display());
        // the slide's left band is the note's category colour
        let band = img.get_pixel(2, 360).0;
        assert_eq!(
            &band[..3],
            &sori::render::category_rgb(n.category),
            "{}",
            f.display()
        );
    }
    // The main picture's notes lane: each region note's colour at its x position.
    let img = image::open(&main).expect("a PNG").to_rgba8();
    let opts = sori::render::picture::PictureOptions {
        width: 1280,
        height: 720,
        notes: doc.notes.clone(),
        ..Default::default()
    };
    let (from, to, left, plot_w, top, bottom) = sori::render::picture::notes_lane_geometry(
        &opts,
        sori::demo::DURATION_S,
        sori::demo::SAMPLE_RATE,
    )
    .expect("a notes lane");
    let x_of = |t: f64| left + ((t - from) / (to - from) * plot_w as f64).round() as i64;
    let lane_bg = [28.0f32, 31.0, 37.0];
    let (rows, n_rows) = sori::notes::lane_rows(&doc.notes);
    let row_h = (bottom - top) / n_rows as i64;
    let mut checked = 0;
    for (n, row) in doc.notes.iter().zip(rows) {
        let Some(end) = n.end else { continue };
        // near the region's right end, at the bottom of its row (below its title)
        let x = x_of(end) - 3;
        if x_of(end) - x_of(n.start) < 12 {
            continue;
        }
        let y = top + (row as i64 + 1) * row_h - 3;
        let got = img.get_pixel(x as u32, y as u32).0;
        let c = sori::render::category_rgb(n.category);
        for k in 0..3 {
            // a translucent fill of the category colour over the lane's background
            let want = lane_bg[k] * 0.45 + c[k] as f32 * 0.55;
            assert!(
                (got[k] as f32 - want).abs() <= 3.0,
                "note {:?} at x {x}: pixel {got:?}, category colour {c:?}",
                n.title
            );
        }
        assert!(y > top);
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} notes checked");
}

#[test]
fn render_writes_a_png_of_the_requested_size() {
    let dir = support::tmpdir("cli-render");
    let wav = dir.join("tone.wav");
    support::wav(
        &wav,
        44100,
        2,
        support::WavFmt::I16,
        false,
        &support::tone(44100, 2, 3.0),
    );
    let out = dir.join("tone.png");
    run_ok(
        sori()
            .args(["render"])
            .arg(&wav)
            .args(["-o"])
            .arg(&out)
            .args([
                "--width", "800", "--height", "500", "--from", "0.5", "--to", "2.5",
            ]),
    );
    let img = image::open(&out).expect("a PNG").to_rgba8();
    assert_eq!((img.width(), img.height()), (800, 500));
    // The spectrogram is coloured: some pixel is far from the background grey.
    assert!(
        img.pixels().any(|p| p.0[0] > 150 && p.0[2] < 120),
        "no spectrogram colour in the picture"
    );
}

#[test]
fn bad_input_gives_one_line_and_a_failure_code() {
    let dir = support::tmpdir("cli-bad");
    let junk = dir.join("junk.mp3");
    std::fs::write(&junk, vec![0x55u8; 5000]).expect("write");
    let out = dir.join("x.png");
    let cases: Vec<Vec<std::ffi::OsString>> = vec![
        vec![
            "render".into(),
            junk.clone().into(),
            "-o".into(),
            out.clone().into(),
        ],
        vec![
            "render".into(),
            dir.join("missing.wav").into(),
            "-o".into(),
            out.clone().into(),
        ],
        vec![
            "render".into(),
            "--demo".into(),
            "-o".into(),
            out.clone().into(),
            "--from".into(),
            "500".into(),
        ],
        vec![
            "render".into(),
            "--demo".into(),
            "-o".into(),
            out.clone().into(),
            "--width".into(),
            "5".into(),
        ],
        vec![
            "render".into(),
            "--demo".into(),
            "-o".into(),
            dir.join("no/such/dir/x.png").into(),
        ],
        vec!["analyze".into(), junk.clone().into()],
        vec![
            "analyze".into(),
            dir.join("missing.wav").into(),
            "--json".into(),
        ],
        vec!["eval".into(), dir.join("missing.csv").into()],
    ];
    for args in cases {
        let st = sori().args(&args).output().expect("run sori");
        let err = String::from_utf8_lossy(&st.stderr);
        assert!(!st.status.success(), "{args:?} succeeded");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: stderr is not one line: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn analyze_writes_the_lane_json_of_the_design_and_csv_segments() {
    let dir = support::tmpdir("cli-analyze");
    let wav = dir.join("tone.wav");
    let rate = 44_100;
    support::wav(
        &wav,
        rate,
        2,
        support::WavFmt::I16,
        false,
        &support::tone(rate, 2, 3.0),
    );
    let st = run_ok(sori().arg("analyze").arg(&wav).arg("--json"));
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).expect("JSON on stdout");
    assert_eq!(v["sample_rate"], 44_100);
    assert_eq!(v["channels"], 2);
    assert!((v["duration_s"].as_f64().unwrap_or(0.0) - 3.0).abs() < 0.01);
    assert_eq!(v["hop_s"], 0.01);
    let rms = v["features"]["rms_db"].as_array().expect("rms_db");
    assert_eq!(rms.len(), 300, "one value per 10 ms");
    for key in ["centroid_hz", "flatness", "f0_hz"] {
        assert_eq!(
            v["features"][key].as_array().map(|a| a.len()),
            Some(300),
            "{key}"
        );
    }
    let ids: Vec<&str> = v["lanes"]
        .as_array()
        .expect("lanes")
        .iter()
        .filter_map(|l| l["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "korean.silk_plucked",
            "korean.bowed",
            "korean.wind",
            "korean.drum",
            "korean.metal",
            "pop.sub_bass",
            "pop.drum_machine",
            "pop.synth",
            "pop.tuned_vocal",
            "pop.pumping"
        ]
    );
    for lane in v["lanes"].as_array().into_iter().flatten() {
        assert_eq!(lane["hop_s"], 0.1);
        let scores = lane["scores"].as_array().expect("scores");
        assert_eq!(scores.len(), 30);
        assert!(
            scores
                .iter()
                .all(|s| s.as_f64().is_some_and(|x| (0.0..=1.0).contains(&x))),
            "{}",
            lane["id"]
        );
        assert!(lane["family"] == "korean" || lane["family"] == "pop");
    }
    // The tagger's strongest classes: one window for 3 s, five classes, strongest first; a
    // pure tone is heard as one.
    let tags = v["tags"].as_array().expect("tags");
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0]["start_s"], 0.0);
    assert!((tags[0]["end_s"].as_f64().unwrap_or(0.0) - 3.0).abs() < 0.01);
    let top = tags[0]["top"].as_array().expect("top");
    assert_eq!(top.len(), 5);
    let scores: Vec<f64> = top.iter().filter_map(|t| t["score"].as_f64()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]) && scores.iter().all(|s| (0.0..=1.0).contains(s))
    );
    assert!(top.iter().any(|t| t["label"] == "Sine wave"), "{top:?}");
    let st = run_ok(sori().arg("analyze").arg(&wav).arg("--no-tagger"));
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).expect("JSON on stdout");
    assert!(v.get("tags").is_none() && v.get("lanes").is_some());

    // Two files: a JSON array; CSV: the segment header.
    let out = dir.join("both.json");
    let st = sori()
        .arg("analyze")
        .arg(&wav)
        .arg(&wav)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run sori");
    assert!(st.status.success());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("JSON");
    assert_eq!(v.as_array().map(|a| a.len()), Some(2));
    let st = sori()
        .arg("analyze")
        .arg(&wav)
        .arg("--csv")
        .output()
        .expect("run sori");
    assert!(
        String::from_utf8_lossy(&st.stdout).starts_with("file,lane,start_s,end_s,score,evidence\n")
    );
}
