//! Every input the fuzzers kept (`fuzz/corpus/<target>/`), and the crash files of the hound and
//! claxon test suites (`tests/corrupt/`), go through the same entry points as the fuzz targets:
//! none may panic. A crash the fuzzer finds is fixed and its input added here for good.

use std::path::{Path, PathBuf};

use crate::support::*;
use sori::fuzzing::{self, NOTES_FORMATS, Signal};
use sori::notes::interchange::export;
use sori::notes::{Category, Document, Note};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Runs `entry` on every file in `dirs`; fails naming each file that panicked.
fn replay(dirs: &[PathBuf], entry: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    let mut failed = Vec::new();
    let mut count = 0;
    for dir in dirs {
        for path in files(dir) {
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                // A fuzzer running beside the tests replaces inputs as it reduces them.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("{}: {e}", path.display()),
            };
            count += 1;
            if std::panic::catch_unwind(|| entry(&bytes)).is_err() {
                failed.push(path.display().to_string());
            }
        }
    }
    assert!(count > 0, "no corpus files in {dirs:?}");
    assert!(failed.is_empty(), "panicked on:\n{}", failed.join("\n"));
}

#[test]
fn decode_corpus_and_crash_files_from_hound_and_claxon() {
    let dirs = [
        root().join("fuzz/corpus/decode"),
        root().join("tests/corrupt/hound"),
        root().join("tests/corrupt/claxon"),
    ];
    replay(&dirs, |b| {
        fuzzing::decode(b);
    });
}

#[test]
fn notes_corpora() {
    for (target, format) in NOTES_FORMATS {
        replay(&[root().join("fuzz/corpus").join(target)], |b| {
            fuzzing::notes(format, b)
        });
    }
}

#[test]
fn analysis_corpus() {
    replay(&[root().join("fuzz/corpus/analysis")], fuzzing::analysis);
}

/// The analysis entry builds the signal its bytes describe (so the seeds below mean what
/// their names say).
#[test]
fn analysis_input_layout() {
    let s = Signal::from_bytes(&Signal::to_bytes(3, 1, 7, &[0.25, -1.0]));
    assert_eq!((s.rate, s.channels), (44_100, 2));
    assert_eq!(s.samples.len(), 8 * 44_100 / 8 * 2);
    assert_eq!(&s.samples[..4], &[0.25, -1.0, 0.25, -1.0]);
    let silent = Signal::from_bytes(&[]);
    assert!(silent.samples.iter().all(|&x| x == 0.0) && !silent.samples.is_empty());
}

/// Writes the starting corpora: one small valid file per audio format, each notes format's
/// export of a small document, and the special signals for the analysis.
/// `cargo test --release --test it -- --ignored write_seeds`
#[test]
#[ignore = "writes fuzz/corpus seeds; run by hand when the formats change"]
fn write_seeds() {
    let corpus = root().join("fuzz/corpus");
    let dir = corpus.join("decode");
    std::fs::create_dir_all(&dir).expect("corpus dir");
    let t = |rate, ch| tone(rate, ch, 0.05);
    wav(
        &dir.join("seed.wav"),
        8000,
        1,
        WavFmt::I16,
        false,
        &t(8000, 1),
    );
    wav(
        &dir.join("seed-ext.wav"),
        8000,
        2,
        WavFmt::F32,
        true,
        &t(8000, 2),
    );
    aiff(&dir.join("seed.aiff"), 8000, 1, &t(8000, 1));
    flac(&dir.join("seed.flac"), 8000, 2, &t(8000, 2));
    mp3(&dir.join("seed.mp3"), 8000, 1, &tone(8000, 1, 0.2));
    vorbis(&dir.join("seed.ogg"), 8000, 1, &tone(8000, 1, 0.1));
    opus(&dir.join("seed.opus"), 1, &t(48000, 1));
    webm_opus(&dir.join("seed.webm"), 2, &t(48000, 2));
    m4a_aac(&dir.join("seed-aac.m4a"), 8000, 1, &tone(8000, 1, 0.2));
    m4a_alac(&dir.join("seed-alac.m4a"), 8000, 1, &t(8000, 1));

    let mut a = Note::region(1.5, 4.25, "해금 \"line\", with comma");
    a.body = "two\nlines\n\nand a paragraph --> & <b>".into();
    a.category = Category::Pop;
    a.instruments = vec!["haegeum".into()];
    let doc = Document {
        title: "t".into(),
        notes: vec![
            a,
            Note::point(2.0, "point"),
            Note::region(3.0, 9.0, "overlap"),
        ],
    };
    for (target, format) in NOTES_FORMATS {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        std::fs::write(dir.join("seed"), export(&doc, format).0).expect("write seed");
    }
    let tg = export(&doc, sori::notes::interchange::Format::TextGrid).0;
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(tg.encode_utf16().flat_map(|u| u.to_le_bytes()));
    std::fs::write(corpus.join("notes_textgrid/seed-utf16"), utf16).expect("write seed");

    let dir = corpus.join("analysis");
    std::fs::create_dir_all(&dir).expect("corpus dir");
    let sine: Vec<f32> = (0..100)
        .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 22_050.0).sin())
        .collect();
    let mut clicks = vec![0.0f32; 5512];
    clicks[0] = 1.0;
    let square: Vec<f32> = (0..50).map(|i| if i < 25 { 1.0 } else { -1.0 }).collect();
    let seeds: [(&str, Vec<f32>); 9] = [
        ("silence", vec![]),
        ("dc", vec![0.5]),
        ("nan", vec![f32::NAN, 0.3]),
        ("inf", vec![f32::INFINITY, f32::NEG_INFINITY, 0.0]),
        ("denormal", vec![1e-40, -1e-42, f32::MIN_POSITIVE / 3.0]),
        ("square-full-scale", square),
        ("sine-440", sine),
        ("clicks-4-per-second", clicks),
        ("huge", vec![f32::MAX, -f32::MAX]),
    ];
    for (name, samples) in seeds {
        std::fs::write(dir.join(name), Signal::to_bytes(2, 0, 15, &samples)).expect("write seed");
    }
}
