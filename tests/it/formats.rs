//! Every listed format decodes with the right duration, rate and channel count; broken and
//! non-audio files give an error, never a panic. All files are made here by the tests.

use crate::support;

use std::path::Path;

use crate::support::*;
use sori::audio::decode_file;

/// Decodes and checks rate, channels and duration (within `tol_s`), and that the audio is
/// the test tone (RMS of a 0.5-amplitude sine ≈ 0.354) in its middle.
fn check(path: &Path, rate: u32, channels: usize, secs: f64, tol_s: f64) {
    let (store, outcome) = decode_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(store.sample_rate(), rate, "{}: rate", path.display());
    assert_eq!(store.channels(), channels, "{}: channels", path.display());
    let dur = store.duration_s();
    assert!(
        (dur - secs).abs() <= tol_s,
        "{}: duration {dur} s, expected {secs} s",
        path.display()
    );
    assert!(
        outcome.notice.is_none(),
        "{}: unexpected notice {:?}",
        path.display(),
        outcome.notice
    );
    let mid = store.frames() / 2;
    for c in 0..channels {
        let mut v = Vec::new();
        store.read_channel(c, mid - rate as u64 / 10, mid + rate as u64 / 10, &mut v);
        let rms = (v.iter().map(|x| x * x).sum::<f32>() / v.len() as f32).sqrt();
        assert!(
            (rms - 0.3536).abs() < 0.05,
            "{}: channel {c} RMS {rms}",
            path.display()
        );
    }
}

#[test]
fn wav_every_sample_format_and_extensible() {
    let dir = tmpdir("wav");
    let cases = [
        (WavFmt::U8, false, 8000, 1),
        (WavFmt::I16, false, 44100, 2),
        (WavFmt::I24, false, 48000, 2),
        (WavFmt::I32, false, 96000, 1),
        (WavFmt::F32, false, 44100, 2),
        (WavFmt::F64, false, 22050, 1),
        (WavFmt::I16, true, 48000, 6),
        (WavFmt::I24, true, 192000, 8),
        (WavFmt::F32, true, 44100, 4),
    ];
    for (i, (fmt, ext, rate, ch)) in cases.into_iter().enumerate() {
        let p = dir.join(format!("t{i}-{fmt:?}-{ext}.wav"));
        wav(&p, rate, ch, fmt, ext, &tone(rate, ch, 1.5));
        check(&p, rate, ch, 1.5, 1e-6);
    }
}

#[test]
fn aiff_16_bit() {
    let dir = tmpdir("aiff");
    let p = dir.join("t.aiff");
    aiff(&p, 44100, 2, &tone(44100, 2, 2.0));
    check(&p, 44100, 2, 2.0, 1e-6);
}

#[test]
fn flac_mono_to_six_channels() {
    let dir = tmpdir("flac");
    for (rate, ch) in [(44100, 1), (48000, 2), (96000, 6)] {
        let p = dir.join(format!("t{ch}.flac"));
        flac(&p, rate, ch, &tone(rate, ch, 2.0));
        check(&p, rate, ch, 2.0, 1e-6);
    }
}

#[test]
fn mp3() {
    let dir = tmpdir("mp3");
    for (rate, ch) in [(44100, 2), (22050, 1)] {
        let p = dir.join(format!("t{ch}.mp3"));
        support::mp3(&p, rate, ch, &tone(rate, ch, 3.0));
        // LAME without a Xing/LAME tag leaves encoder delay and padding (< 0.1 s).
        check(&p, rate, ch, 3.0, 0.1);
    }
}

#[test]
fn ogg_vorbis() {
    let dir = tmpdir("ogg");
    let p = dir.join("t.ogg");
    vorbis(&p, 44100, 2, &tone(44100, 2, 2.5));
    check(&p, 44100, 2, 2.5, 0.01);
}

#[test]
fn opus_in_ogg() {
    let dir = tmpdir("opus");
    for ch in [1, 2] {
        let p = dir.join(format!("t{ch}.opus"));
        opus(&p, ch, &tone(48000, ch, 2.0));
        check(&p, 48000, ch, 2.0, 0.001);
    }
}

#[test]
fn opus_in_webm() {
    let dir = tmpdir("webm");
    let p = dir.join("t.webm");
    webm_opus(&p, 2, &tone(48000, 2, 2.0));
    // WebM carries no end trim here: up to one 20 ms frame of padding remains.
    check(&p, 48000, 2, 2.0, 0.021);
}

#[test]
fn aac_in_m4a() {
    let dir = tmpdir("aac");
    let p = dir.join("t.m4a");
    m4a_aac(&p, 44100, 2, &tone(44100, 2, 2.0));
    // AAC carries encoder priming and padding (a few 1024-frame packets).
    check(&p, 44100, 2, 2.0, 0.15);
}

#[test]
fn alac_in_m4a() {
    let dir = tmpdir("alac");
    let p = dir.join("t.m4a");
    m4a_alac(&p, 48000, 2, &tone(48000, 2, 2.0));
    check(&p, 48000, 2, 2.0, 1e-6);
}

#[test]
fn wrong_extension_still_decodes_by_content() {
    let dir = tmpdir("mislabel");
    let p = dir.join("really-flac.mp3");
    flac(&p, 44100, 2, &tone(44100, 2, 1.0));
    check(&p, 44100, 2, 1.0, 1e-6);
}

#[test]
fn empty_random_and_non_audio_files_give_one_sentence() {
    let dir = tmpdir("bad");
    let empty = dir.join("empty.wav");
    std::fs::write(&empty, b"").expect("write");
    let mut seed = 42u64;
    let random: Vec<u8> = (0..100_000)
        .map(|_| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            (seed >> 56) as u8
        })
        .collect();
    let rnd = dir.join("random.mp3");
    std::fs::write(&rnd, &random).expect("write");
    let text = dir.join("notes.flac");
    std::fs::write(&text, "this is not audio\n".repeat(200)).expect("write");
    let missing = dir.join("missing.wav");
    for p in [&*empty, &*rnd, &*text, &*missing, dir.path()] {
        let err = match decode_file(p) {
            Err(e) => e.to_string(),
            Ok((s, _)) => panic!("{} decoded as {} frames", p.display(), s.frames()),
        };
        assert!(
            !err.contains('\n') && err.ends_with('.'),
            "{}: not one sentence: {err}",
            p.display()
        );
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(
            err.contains(&name),
            "{}: message does not name the file: {err}",
            p.display()
        );
    }
}
