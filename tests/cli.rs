//! The command line: `sori render` writes a PNG of the asked size; bad input exits non-zero
//! with one line on stderr and no panic.

mod support;

use std::process::Command;

fn sori() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sori"))
}

#[test]
fn render_writes_a_png_of_the_requested_size() {
    let dir = support::tmpdir("cli-render");
    let wav = dir.join("tone.wav");
    support::wav(&wav, 44100, 2, support::WavFmt::I16, false, &support::tone(44100, 2, 3.0));
    let out = dir.join("tone.png");
    let st = sori()
        .args(["render"])
        .arg(&wav)
        .args(["-o"])
        .arg(&out)
        .args(["--width", "800", "--height", "500", "--from", "0.5", "--to", "2.5"])
        .output()
        .expect("run sori");
    assert!(st.status.success(), "stderr: {}", String::from_utf8_lossy(&st.stderr));
    let img = image::open(&out).expect("a PNG").to_rgba8();
    assert_eq!((img.width(), img.height()), (800, 500));
    // The spectrogram is coloured: some pixel is far from the background grey.
    assert!(img.pixels().any(|p| p.0[0] > 150 && p.0[2] < 120), "no spectrogram colour in the picture");
}

#[test]
fn bad_input_gives_one_line_and_a_failure_code() {
    let dir = support::tmpdir("cli-bad");
    let junk = dir.join("junk.mp3");
    std::fs::write(&junk, vec![0x55u8; 5000]).expect("write");
    let out = dir.join("x.png");
    let cases: Vec<Vec<std::ffi::OsString>> = vec![
        vec!["render".into(), junk.clone().into(), "-o".into(), out.clone().into()],
        vec!["render".into(), dir.join("missing.wav").into(), "-o".into(), out.clone().into()],
        vec!["render".into(), "--demo".into(), "-o".into(), out.clone().into(), "--from".into(), "500".into()],
        vec!["render".into(), "--demo".into(), "-o".into(), out.clone().into(), "--width".into(), "5".into()],
        vec!["render".into(), "--demo".into(), "-o".into(), dir.join("no/such/dir/x.png").into()],
    ];
    for args in cases {
        let st = sori().args(&args).output().expect("run sori");
        let err = String::from_utf8_lossy(&st.stderr);
        assert!(!st.status.success(), "{args:?} succeeded");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: stderr is not one line: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
