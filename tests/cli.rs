//! The command line: `sori render` writes a PNG of the asked size; `sori analyze` writes the
//! JSON of DESIGN.md section 3 (and CSV segments); bad input exits non-zero with one line on
//! stderr and no panic.

mod support;

use std::process::Command;

fn sori() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sori"))
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
    let st = sori()
        .args(["render"])
        .arg(&wav)
        .args(["-o"])
        .arg(&out)
        .args([
            "--width", "800", "--height", "500", "--from", "0.5", "--to", "2.5",
        ])
        .output()
        .expect("run sori");
    assert!(
        st.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&st.stderr)
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
    let st = sori()
        .arg("analyze")
        .arg(&wav)
        .arg("--json")
        .output()
        .expect("run sori");
    assert!(
        st.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&st.stderr)
    );
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
