//! The native notes file: TOML, `song.mp3` → `song.sori.toml` (DESIGN.md section 3).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{Category, Document, Note, time};

/// The largest notes file Sori reads. A real one is a few kB; ten thousand notes of a
/// paragraph each stay under 16 MB.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;
pub const VERSION: i64 = 1;

/// A problem in a notes file, with where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}line {line}, column {column}: {message}", file.as_ref().map(|f| format!("{f}, ")).unwrap_or_default())]
pub struct ParseError {
    pub file: Option<String>,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// How a native notes file's name ends: `song.mp3` → `song.sori.toml`.
pub const SIDECAR_SUFFIX: &str = ".sori.toml";

/// The sidecar path for an audio file: `song.mp3` → `song.sori.toml`.
pub fn sidecar_for(audio: &Path) -> PathBuf {
    let stem = audio
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "notes".into());
    audio.with_file_name(format!("{stem}{SIDECAR_SUFFIX}"))
}

/// `song` for a notes file named `song.sori.toml` (the suffix in any case); `None` for any
/// other name.
fn sidecar_stem(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    let cut = name.len().checked_sub(SIDECAR_SUFFIX.len())?;
    name.get(cut..)?
        .eq_ignore_ascii_case(SIDECAR_SUFFIX)
        .then(|| name[..cut].to_string())
}

/// Whether `path` names a native notes file (`*.sori.toml`, any case).
pub fn is_sidecar(path: &Path) -> bool {
    sidecar_stem(path).is_some()
}

/// The recording a notes file belongs to: `song.sori.toml` → the file `song.EXT` next to
/// it whose extension (any case) is one of `extensions`, first in their order; `None` if
/// there is none, `notes` is no notes file, or the folder can't be read.
pub fn audio_for_sidecar(notes: &Path, extensions: &[&str]) -> Option<PathBuf> {
    let stem = sidecar_stem(notes)?;
    let dir = match notes.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            let ext = p.extension()?.to_string_lossy().to_lowercase();
            let rank = extensions.iter().position(|x| *x == ext)?;
            (p.file_stem()?.to_string_lossy() == stem && p.is_file()).then_some((rank, p))
        })
        .min()
        .map(|(_, p)| p)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDoc {
    version: Option<Spanned<i64>>,
    title: Option<String>,
    #[serde(default)]
    note: Vec<RawNote>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawTime {
    Seconds(f64),
    Int(i64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNote {
    start: Spanned<RawTime>,
    end: Option<Spanned<RawTime>>,
    #[serde(default)]
    title: String,
    category: Option<Spanned<String>>,
    #[serde(default)]
    instruments: Vec<String>,
    #[serde(default)]
    body: String,
    #[serde(default)]
    sources: Vec<String>,
    image: Option<String>,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

fn at(text: &str, offset: usize, message: impl Into<String>) -> ParseError {
    let (line, column) = line_col(text, offset);
    ParseError {
        file: None,
        line,
        column,
        message: message.into(),
    }
}

fn seconds(text: &str, t: &Spanned<RawTime>) -> Result<f64, ParseError> {
    let v = match t.get_ref() {
        RawTime::Seconds(s) => Some(*s).filter(|s| s.is_finite() && *s >= 0.0),
        RawTime::Int(i) => (*i >= 0).then_some(*i as f64),
        RawTime::Text(s) => time::parse(s),
    };
    v.ok_or_else(|| {
        at(
            text,
            t.span().start,
            "a time must be seconds (62.5) or m:ss.fff (1:02.5), not negative",
        )
    })
}

/// Parses a notes file's text.
pub fn parse(text: &str) -> Result<Document, ParseError> {
    let raw: RawDoc = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let msg = e.message().trim().trim_end_matches('.').to_string();
        at(text, offset, msg)
    })?;
    if let Some(v) = &raw.version
        && *v.get_ref() > VERSION
    {
        return Err(at(
            text,
            v.span().start,
            format!(
                "this file is version {}; this Sori reads version {VERSION}: update Sori",
                v.get_ref()
            ),
        ));
    }
    let mut notes = Vec::with_capacity(raw.note.len());
    for n in raw.note {
        let start = seconds(text, &n.start)?;
        let end = match &n.end {
            Some(e) => {
                let end = seconds(text, e)?;
                if end < start {
                    return Err(at(text, e.span().start, "the end comes before the start"));
                }
                Some(end)
            }
            None => None,
        };
        let category = match &n.category {
            Some(c) => Category::parse(c.get_ref()).ok_or_else(|| {
                at(
                    text,
                    c.span().start,
                    "category must be traditional, pop, fusion, structure or discussion",
                )
            })?,
            None => Category::default(),
        };
        notes.push(Note {
            start,
            end,
            title: n.title,
            category,
            instruments: n.instruments,
            body: n.body,
            sources: n.sources,
            image: n.image.filter(|s| !s.trim().is_empty()),
        });
    }
    let mut doc = Document {
        title: raw.title.unwrap_or_default(),
        notes,
    };
    doc.sort();
    Ok(doc)
}

/// Reads a notes file (refusing absurd sizes), naming the file in errors.
pub fn read(path: &Path) -> Result<Document, ParseError> {
    let name = crate::display_name(path);
    let bytes = super::read_limited(path).map_err(|message| ParseError {
        file: Some(name.clone()),
        line: 0,
        column: 0,
        message,
    })?;
    parse_bytes(&bytes).map_err(|mut e| {
        e.file = Some(name.clone());
        e
    })
}

/// Parses a notes file's bytes (UTF-8, with or without a byte-order mark).
pub fn parse_bytes(bytes: &[u8]) -> Result<Document, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col(&String::from_utf8_lossy(bytes), e.valid_up_to());
        ParseError {
            file: None,
            line,
            column,
            message: "the file is not UTF-8 text".into(),
        }
    })?;
    parse(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// A TOML basic string (one line).
fn basic(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML multi-line basic string that keeps line breaks readable.
fn multiline(s: &str) -> String {
    if !s.contains('\n') {
        return basic(s);
    }
    let mut out = String::from("\"\"\"\n");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\t' => out.push(c),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push_str("\"\"\"");
    out
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| basic(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Writes a document as the native TOML text.
pub fn to_string(doc: &Document) -> String {
    let mut out = format!("version = {VERSION}\ntitle = {}\n", basic(&doc.title));
    for n in &doc.notes {
        out.push_str("\n[[note]]\n");
        out.push_str(&format!("start = {}\n", basic(&time::format(n.start))));
        if let Some(e) = n.end {
            out.push_str(&format!("end = {}\n", basic(&time::format(e))));
        }
        out.push_str(&format!("title = {}\n", basic(&n.title)));
        out.push_str(&format!("category = {}\n", basic(n.category.as_str())));
        if !n.instruments.is_empty() {
            out.push_str(&format!("instruments = {}\n", list(&n.instruments)));
        }
        if !n.body.is_empty() {
            out.push_str(&format!("body = {}\n", multiline(&n.body)));
        }
        if !n.sources.is_empty() {
            out.push_str(&format!("sources = {}\n", list(&n.sources)));
        }
        if let Some(img) = &n.image {
            out.push_str(&format!("image = {}\n", basic(img)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notes_file_finds_the_recording_of_its_name_and_nothing_else() {
        let dir = crate::testdir::TestDir::new("sidecar");
        std::fs::create_dir_all(&dir).expect("dir");
        for f in ["song.txt", "song.flac", "other.mp3", "song.sori.toml"] {
            std::fs::write(dir.join(f), b"x").expect("file");
        }
        let notes = dir.join("song.sori.toml");
        assert!(is_sidecar(&notes) && is_sidecar(Path::new("A.SORI.TOML")));
        assert!(!is_sidecar(Path::new("song.toml")) && !is_sidecar(Path::new("song.flac")));
        // A name shorter than the suffix in bytes but not in characters is no notes file.
        assert!(!is_sidecar(Path::new("소리소리.toml")));
        assert_eq!(
            audio_for_sidecar(&dir.join("소리소리.toml"), &["flac"]),
            None
        );
        assert_eq!(
            audio_for_sidecar(&notes, &["wav", "flac", "mp3"]),
            Some(dir.join("song.flac"))
        );
        assert_eq!(audio_for_sidecar(&notes, &["wav", "mp3"]), None);
        assert_eq!(
            audio_for_sidecar(&dir.join("gone.sori.toml"), &["flac"]),
            None
        );
    }

    fn sample() -> Document {
        let mut a = Note::region(62.5, 70.0, "Haegeum-like counter-line");
        a.category = Category::Traditional;
        a.instruments = vec!["haegeum".into()];
        a.body = "Free text, several paragraphs.\n\nHangul welcome: 해금.\nQuotes \"\"\" and \\ backslashes\ttabs".into();
        a.sources = vec!["National Gugak Center, instrument guide".into()];
        a.image = Some("images/haegeum.png".into());
        let mut b = Note::point(3723.25, "뒤 — a point note");
        b.category = Category::Discussion;
        Document {
            title: "Golden — where tradition meets production".into(),
            notes: vec![a, b],
        }
    }

    #[test]
    fn design_example_parses() {
        let text = r#"version = 1
title = "Golden — where tradition meets production"
[[note]]
start = "1:02.5"        # seconds as a number, or m:ss(.fff) / h:mm:ss(.fff)
end = "1:10"
title = "Haegeum-like counter-line"
category = "traditional"
instruments = ["haegeum"]
body = """Free text, several paragraphs, Hangul welcome: 해금."""
sources = ["National Gugak Center, instrument guide"]
image = "images/haegeum.png"
[[note]]
start = 12
title = "point"
"#;
        let d = parse(text).expect("parses");
        assert_eq!(d.notes.len(), 2);
        assert_eq!(d.notes[0].start, 12.0);
        assert_eq!(d.notes[1].start, 62.5);
        assert_eq!(d.notes[1].end, Some(70.0));
        assert_eq!(d.notes[1].category, Category::Traditional);
        assert_eq!(
            d.notes[1].body,
            "Free text, several paragraphs, Hangul welcome: 해금."
        );
    }

    #[test]
    fn round_trip_keeps_everything() {
        let d = sample();
        let text = to_string(&d);
        let mut back = parse(&text).expect("own output parses");
        back.sort();
        let mut want = d.clone();
        want.sort();
        assert_eq!(back, want, "\n{text}");
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse("version = 1\n[[note]]\nstart = \"1:0x\"\n").expect_err("bad time");
        assert_eq!((e.line, e.column), (3, 9), "{e}");
        let e = parse("version = 1\n[[note]]\nstart = 5\nend = 2\n").expect_err("end before start");
        assert_eq!(e.line, 4, "{e}");
        let e = parse("title = \"x\"\n[[note]\nstart = 1\n").expect_err("syntax");
        assert_eq!(e.line, 2, "{e}");
        let e = parse("[[note]]\nstart = 1\ncategory = \"jazz\"\n").expect_err("category");
        assert_eq!(e.line, 3, "{e}");
        let e = parse("version = 7\n").expect_err("future version");
        assert!(e.message.contains("update Sori"), "{e}");
    }

    #[test]
    fn sidecar_name() {
        assert_eq!(
            sidecar_for(Path::new("/m/song.mp3")),
            PathBuf::from("/m/song.sori.toml")
        );
    }
}
