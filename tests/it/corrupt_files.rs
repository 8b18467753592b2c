//! Real-world breakage, made here from valid files of every format: cut at many offsets,
//! holes of zeros, wrong extensions, headers that lie about their size, broken FLAC
//! STREAMINFO, a bad MP3 Xing header, MP4 atoms that overrun. Each opens what is there with a
//! notice, or fails with one sentence; never a panic, hang or out-of-memory abort. Also the
//! limits: recordings too large for memory, and notes files over the size limit.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::support::*;
use sori::audio::decode::{AudioError, Decoder, MAX_PCM_BYTES, Progress};
use sori::audio::decode_file;

const SECS: f64 = 3.0;

/// One valid file of each format Sori opens, all of `SECS` seconds.
fn originals(dir: &Path) -> Vec<PathBuf> {
    let (rate, src) = (44_100, tone(44_100, 2, SECS));
    let s48 = tone(48_000, 2, SECS);
    let p = |n: &str| dir.join(n);
    wav(&p("a.wav"), rate, 2, WavFmt::I16, false, &src);
    wav(&p("ext.wav"), rate, 2, WavFmt::F32, true, &src);
    aiff(&p("a.aiff"), rate, 2, &src);
    flac(&p("a.flac"), rate, 2, &src);
    mp3(&p("a.mp3"), rate, 2, &src);
    vorbis(&p("a.ogg"), rate, 2, &src);
    opus(&p("a.opus"), 2, &s48);
    webm_opus(&p("a.webm"), 2, &s48);
    m4a_aac(&p("aac.m4a"), rate, 2, &src);
    m4a_alac(&p("alac.m4a"), rate, 2, &src);
    [
        "a.wav", "ext.wav", "a.aiff", "a.flac", "a.mp3", "a.ogg", "a.opus", "a.webm", "aac.m4a",
        "alac.m4a",
    ]
    .iter()
    .map(|n| p(n))
    .collect()
}

/// Decodes `path`: either audio no longer than the original, or one sentence of error.
/// Returns the duration when it opened.
fn opens_or_says_why(path: &Path, what: &str) -> Option<(f64, Option<String>)> {
    match decode_file(path) {
        Ok((store, outcome)) => {
            let d = store.duration_s();
            assert!(
                d <= SECS + 0.2,
                "{what}: {d:.2} s decoded from a {SECS} s file"
            );
            if let Some(n) = &outcome.notice {
                one_sentence(n, what);
            }
            Some((d, outcome.notice))
        }
        Err(e) => {
            one_sentence(&e.to_string(), what);
            None
        }
    }
}

fn one_sentence(msg: &str, what: &str) {
    assert!(
        !msg.is_empty() && !msg.contains('\n') && msg.ends_with('.'),
        "{what}: not one sentence: {msg:?}"
    );
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[test]
fn every_format_cut_at_many_offsets() {
    let dir = tmpdir("cut");
    for orig in originals(&dir) {
        let bytes = std::fs::read(&orig).expect("read original");
        let ext = orig.extension().and_then(|e| e.to_str()).unwrap_or("");
        // Every offset through the headers, then 48 cuts spread over the whole file.
        let mut cuts: Vec<usize> = (1..160.min(bytes.len())).collect();
        cuts.extend((1..48).map(|k| bytes.len() * k / 48));
        let cut_path = dir.join(format!("cut.{ext}"));
        let mut opened_late_cut = false;
        for cut in cuts {
            write(&cut_path, &bytes[..cut]);
            let what = format!("{} cut at {cut} of {}", orig.display(), bytes.len());
            if let Some((d, _)) = opens_or_says_why(&cut_path, &what)
                && cut > bytes.len() * 3 / 4
                && d > SECS / 2.0
            {
                opened_late_cut = true;
            }
        }
        assert!(
            opened_late_cut,
            "{}: cut at three quarters, the first half no longer opens",
            orig.display()
        );
    }
}

#[test]
fn half_a_wav_says_it_is_cut_short() {
    let dir = tmpdir("half");
    let p = dir.join("a.wav");
    wav(&p, 44_100, 2, WavFmt::I16, false, &tone(44_100, 2, SECS));
    let bytes = std::fs::read(&p).expect("read");
    write(&p, &bytes[..bytes.len() / 2]);
    let (store, outcome) = decode_file(&p).expect("half a WAV opens");
    assert!((store.duration_s() - SECS / 2.0).abs() < 0.05);
    let notice = outcome.notice.expect("a notice");
    assert!(
        notice.contains("cut short: 1.5 s of the announced 3.0 s"),
        "{notice}"
    );
}

#[test]
fn holes_of_zeros_anywhere() {
    let dir = tmpdir("holes");
    for orig in originals(&dir) {
        let bytes = std::fs::read(&orig).expect("read original");
        let ext = orig.extension().and_then(|e| e.to_str()).unwrap_or("");
        let n = bytes.len();
        let holes = [
            (0, 4),
            (4, 64),
            (12, 44),
            (n / 10, n / 10 + 512),
            (n / 3, n / 3 + n / 10),
            (n / 2, n / 2 + 1),
            (n - n / 20, n),
        ];
        for (a, b) in holes {
            let mut holed = bytes.clone();
            holed[a.min(n)..b.min(n)].fill(0);
            let p = dir.join(format!("hole.{ext}"));
            write(&p, &holed);
            opens_or_says_why(&p, &format!("{} zeroed {a}..{b}", orig.display()));
        }
    }
}

/// A file named for another format is read by what it holds.
#[test]
fn wrong_extensions_open_by_content() {
    let dir = tmpdir("ext");
    let exts = [
        "wav", "flac", "mp3", "ogg", "opus", "m4a", "aiff", "webm", "txt",
    ];
    for orig in originals(&dir) {
        let bytes = std::fs::read(&orig).expect("read original");
        for ext in exts {
            let p = dir.join(format!("renamed.{ext}"));
            write(&p, &bytes);
            let what = format!("{} named .{ext}", orig.display());
            let (d, _) =
                opens_or_says_why(&p, &what).unwrap_or_else(|| panic!("{what}: did not open"));
            assert!((d - SECS).abs() < 0.1, "{what}: {d} s");
        }
    }
}

fn find(bytes: &[u8], tag: &[u8]) -> usize {
    bytes
        .windows(tag.len())
        .position(|w| w == tag)
        .unwrap_or_else(|| panic!("no {:?} in the file", String::from_utf8_lossy(tag)))
}

fn put_u32_le(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u32_be(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

#[test]
fn wav_headers_that_claim_more_than_there_is() {
    let dir = tmpdir("wavsize");
    let orig = dir.join("a.wav");
    wav(&orig, 44_100, 2, WavFmt::I16, false, &tone(44_100, 2, SECS));
    let bytes = std::fs::read(&orig).expect("read");
    let data = find(&bytes, b"data") + 4;
    let real = u32::from_le_bytes(bytes[data..data + 4].try_into().expect("4 bytes"));
    // 0xFFFFFFFF is what streaming writers leave for "unknown": read to the end, no notice.
    for (name, riff, size, cut_short) in [
        ("double", None, real * 2, true),
        ("4 GB (unknown)", Some(u32::MAX), u32::MAX, false),
        ("4 GB - 2, RIFF size right", None, u32::MAX - 1, true),
        ("0 (unknown)", Some(0), 0, false),
    ] {
        let mut b = bytes.clone();
        put_u32_le(&mut b, data, size);
        if let Some(r) = riff {
            put_u32_le(&mut b, 4, r);
        }
        let p = dir.join("claims.wav");
        write(&p, &b);
        let what = format!("WAV claiming {name}");
        let (d, notice) =
            opens_or_says_why(&p, &what).unwrap_or_else(|| panic!("{what}: did not open"));
        assert!((d - SECS).abs() < 0.05, "{what}: {d} s");
        if cut_short {
            let notice = notice.unwrap_or_else(|| panic!("{what}: no notice"));
            assert!(notice.contains("cut short"), "{what}: {notice}");
        } else {
            assert!(notice.is_none(), "{what}: {notice:?}");
        }
    }
}

#[test]
fn flac_with_invalid_streaminfo() {
    let dir = tmpdir("flacinfo");
    let orig = dir.join("a.flac");
    flac(&orig, 44_100, 2, &tone(44_100, 2, SECS));
    let bytes = std::fs::read(&orig).expect("read");
    // STREAMINFO body starts after "fLaC" and the 4-byte block header.
    let si = 8;
    type Break<'a> = Box<dyn Fn(&mut Vec<u8>) + 'a>;
    let cases: [(&str, Break); 7] = [
        ("block sizes 0", Box::new(|b| b[si..si + 4].fill(0))),
        (
            "min block above max",
            Box::new(|b| {
                b[si..si + 2].copy_from_slice(&[0xFF, 0xFF]);
                b[si + 2..si + 4].copy_from_slice(&[0x00, 0x10]);
            }),
        ),
        (
            "sample rate 0",
            Box::new(|b| {
                b[si + 10] = 0;
                b[si + 11] = 0;
                b[si + 12] &= 0x0F;
            }),
        ),
        (
            "total samples 2^36 - 1",
            Box::new(|b| {
                b[si + 13] |= 0x0F;
                b[si + 14..si + 18].fill(0xFF);
            }),
        ),
        ("all ones", Box::new(|b| b[si..si + 34].fill(0xFF))),
        ("block length 0", Box::new(|b| b[5..8].fill(0))),
        (
            "block length beyond the file",
            Box::new(|b| b[5..8].fill(0xFF)),
        ),
    ];
    for (name, break_it) in cases {
        let mut b = bytes.clone();
        break_it(&mut b);
        let p = dir.join("broken.flac");
        write(&p, &b);
        opens_or_says_why(&p, &format!("FLAC with {name}"));
    }
}

/// An MP3 whose Xing header announces a frame count it does not have.
#[test]
fn mp3_with_a_bad_xing_header() {
    let dir = tmpdir("xing");
    let orig = dir.join("a.mp3");
    mp3(&orig, 44_100, 2, &tone(44_100, 2, SECS));
    let bytes = std::fs::read(&orig).expect("read");
    // The first frame header (skipping an ID3v2 tag if there is one).
    let start = (0..bytes.len() - 4)
        .find(|&i| bytes[i] == 0xFF && bytes[i + 1] & 0xE0 == 0xE0)
        .expect("an MPEG frame");
    let header = &bytes[start..start + 4];
    // MPEG-1 layer III at 44.1 kHz: 144 * bitrate / rate bytes; side info 32 bytes (stereo).
    let bitrate_kbps = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0,
    ][(header[2] >> 4) as usize];
    assert!(bitrate_kbps > 0, "the encoder wrote a free-format MP3");
    let padding = ((header[2] >> 1) & 1) as usize;
    let frame_len = 144 * bitrate_kbps * 1000 / 44_100 + padding;
    for (name, flags, frames, bytes_field) in [
        ("4 billion frames", 0x1u32, u32::MAX, 0),
        ("0 frames", 0x1, 0, 0),
        ("a byte count of 4 GB", 0x3, 100, u32::MAX),
        ("every flag and garbage", 0xF, 0x7FFF_FFFF, 1),
    ] {
        let mut xing = vec![0u8; frame_len];
        xing[..4].copy_from_slice(header);
        xing[36..40].copy_from_slice(b"Xing");
        put_u32_be(&mut xing, 40, flags);
        put_u32_be(&mut xing, 44, frames);
        put_u32_be(&mut xing, 48, bytes_field);
        let mut b = bytes[..start].to_vec();
        b.extend_from_slice(&xing);
        b.extend_from_slice(&bytes[start..]);
        let p = dir.join("xing.mp3");
        write(&p, &b);
        let what = format!("MP3 whose Xing header claims {name}");
        let (d, _) = opens_or_says_why(&p, &what).unwrap_or_else(|| panic!("{what}: did not open"));
        assert!(d > SECS - 0.2, "{what}: only {d} s");
    }
}

/// MP4 atoms whose sizes or counts run past the file.
#[test]
fn mp4_atoms_that_overrun() {
    let dir = tmpdir("atoms");
    for (name, make) in [
        ("aac", m4a_aac as fn(&Path, u32, usize, &[f32])),
        ("alac", m4a_alac),
    ] {
        let orig = dir.join(format!("{name}.m4a"));
        make(&orig, 44_100, 2, &tone(44_100, 2, SECS));
        let bytes = std::fs::read(&orig).expect("read");
        for atom in [
            b"moov", b"trak", b"mdia", b"stbl", b"stsz", b"stco", b"stts", b"stsc", b"mdat",
        ] {
            let at = find(&bytes, atom) - 4;
            for (how, size) in [
                ("past the end", 0x7FFF_FFF0u32),
                ("size 1 (64-bit) ", 1),
                ("size 3", 3),
            ] {
                let mut b = bytes.clone();
                put_u32_be(&mut b, at, size);
                let p = dir.join("overrun.m4a");
                write(&p, &b);
                let what = format!("{name}: {} atom {how}", String::from_utf8_lossy(atom));
                opens_or_says_why(&p, &what);
            }
        }
        // Tables announcing hundreds of millions of entries.
        for table in [b"stsz", b"stco", b"stts", b"stsc"] {
            let at = find(&bytes, table);
            let count_at = at + if table == b"stsz" { 12 } else { 8 };
            let mut b = bytes.clone();
            put_u32_be(&mut b, count_at, 0x0FFF_FFFF);
            let p = dir.join("count.m4a");
            write(&p, &b);
            opens_or_says_why(
                &p,
                &format!("{name}: {} count 2^28", String::from_utf8_lossy(table)),
            );
        }
    }
}

/// A WAV header for `frames` of 16-bit audio, the file made that long without writing it
/// (a sparse file: no disk space is used).
fn huge_wav(path: &Path, rate: u32, channels: u16, frames: u64) {
    let data_len = frames * channels as u64 * 2;
    let mut h = Vec::new();
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data_len).min(u32::MAX as u64).to_le_bytes()[..4]);
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&(rate * channels as u32 * 2).to_le_bytes());
    h.extend_from_slice(&(channels * 2).to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.min(u32::MAX as u64).to_le_bytes()[..4]);
    let f = std::fs::File::create(path).expect("create");
    std::io::Write::write_all(&mut &f, &h).expect("write header");
    f.set_len(h.len() as u64 + data_len).expect("sparse length");
}

/// An hour at 192 kHz in 8 channels (22 GB of samples; the file is 11 GB): refused at once with
/// what it is and what fits, before anything is decoded.
#[test]
fn an_hour_at_192_khz_in_8_channels_is_refused_with_a_reason() {
    let dir = tmpdir("huge");
    let p = dir.join("hour-192k-8ch.wav");
    // WAV can hold 4 GB at most; 1 h of this is 11 GB, so the header says 4 GB (what a
    // recorder writing past the limit leaves) and the file is larger still.
    huge_wav(&p, 192_000, 8, 3600 * 192_000);
    let err = decode_file(&p).map(|_| ()).expect_err("refused");
    let msg = err.to_string();
    assert!(matches!(err, AudioError::TooLarge { .. }), "{msg}");
    one_sentence(&msg, "refusal");
    assert!(msg.contains("8 channels at 192 kHz"), "{msg}");
    assert!(msg.contains("4.3 GB of audio"), "{msg}");
}

/// A 3 GB stereo WAV (4 h 30 min at 44.1 kHz, 6 GB as samples in memory) is refused too.
#[test]
fn a_several_gigabyte_file_is_refused_not_an_out_of_memory_abort() {
    let dir = tmpdir("3gb");
    let p = dir.join("long.wav");
    huge_wav(&p, 44_100, 2, 3 << 30 >> 2);
    let err = decode_file(&p).map(|_| ()).expect_err("refused");
    let msg = err.to_string();
    assert!(msg.contains("5 h 04 min of stereo at 44.1 kHz"), "{msg}");
    const { assert!(MAX_PCM_BYTES < 6 << 30) };
}

/// A stream that announces no length is cut where memory runs out, with a notice saying how
/// much was opened.
#[test]
fn a_stream_without_a_length_stops_at_the_memory_budget() {
    let dir = tmpdir("budget");
    let p = dir.join("a.opus");
    opus(&p, 2, &tone(48_000, 2, SECS));
    let one_second = 48_000 * 2 * 4;
    let dec = Decoder::open(&p, Arc::new(Progress::default()))
        .expect("opens")
        .with_budget(one_second);
    let (store, outcome) = dec
        .run(
            |r, c| Arc::new(sori::audio::store::PcmStore::new(r, c)),
            |_| {},
        )
        .expect("the first second opens");
    assert!(
        (store.duration_s() - 1.0).abs() < 1e-3,
        "{}",
        store.duration_s()
    );
    let notice = outcome.notice.expect("a notice");
    one_sentence(&notice, "budget");
    assert!(notice.contains("Only the first 1.0 s"), "{notice}");
}

/// A length that the file cannot hold (a tiny file announcing days) is not believed: the file
/// opens what it has instead of being refused.
#[test]
fn a_tiny_file_announcing_days_is_opened_not_refused() {
    let dir = tmpdir("liar");
    let p = dir.join("liar.wav");
    huge_wav(&p, 8_000, 1, 1_000);
    let mut b = std::fs::read(&p).expect("read");
    let data = find(&b, b"data") + 4;
    put_u32_le(&mut b, data, u32::MAX - 1);
    write(&p, &b);
    let (store, outcome) = decode_file(&p).expect("opens");
    assert_eq!(store.frames(), 1_000);
    assert!(outcome.notice.is_some_and(|n| n.contains("cut short")));
}

/// Notes files over the limit are refused with a message, in every format, before they are
/// read; the limit is far above any real notes file.
#[test]
fn a_100_mb_notes_file_is_refused() {
    let dir = tmpdir("bignotes");
    for name in ["big.sori.toml", "big.srt", "big.TextGrid", "big.jams"] {
        let p = dir.join(name);
        let f = std::fs::File::create(&p).expect("create");
        f.set_len(100_000_000).expect("sparse length");
        let msg = sori::notes::interchange::read(&p)
            .map(|_| ())
            .expect_err("refused")
            .to_string();
        assert!(
            msg.contains("95 MB") && msg.contains("refused"),
            "{name}: {msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");
    }
}
