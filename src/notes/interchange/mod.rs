//! Import and export of notes in the formats other tools use: Audacity labels (`.txt`),
//! Sonic Visualiser CSV (`.csv`), WebVTT (`.vtt`), SRT (`.srt`), JAMS (`.jams`) and Praat
//! TextGrid (`.TextGrid`). What a format cannot hold is kept where it can be (the JAMS
//! sandbox) or named in a warning — never dropped silently.

use std::path::Path;

mod cues;
mod jams;
mod labels;
mod textgrid;

use super::{Category, Document, Note};
use cues::{export_cues, import_cues};
use jams::{export_jams, import_jams};
use labels::{export_audacity, export_csv, import_audacity, import_csv};
use textgrid::{export_textgrid, import_textgrid};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Native,
    Audacity,
    SvCsv,
    Vtt,
    Srt,
    Jams,
    TextGrid,
}

impl Format {
    /// Every format, in the order the file dialogs and messages list them.
    pub const ALL: [Format; 7] = [
        Format::Native,
        Format::Audacity,
        Format::SvCsv,
        Format::Vtt,
        Format::Srt,
        Format::Jams,
        Format::TextGrid,
    ];
    /// The file extension, as the tools that write it spell it (`.sori.toml` is native).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Native => "toml",
            Format::Audacity => "txt",
            Format::SvCsv => "csv",
            Format::Vtt => "vtt",
            Format::Srt => "srt",
            Format::Jams => "jams",
            Format::TextGrid => "TextGrid",
        }
    }
    /// Every notes extension (for a file dialog's filter).
    pub fn extensions() -> Vec<&'static str> {
        Self::ALL.iter().map(|f| f.extension()).collect()
    }
    /// "use .sori.toml, .txt, … or .TextGrid", for a message about an unknown extension.
    pub fn known_list() -> String {
        let names: Vec<String> = Self::ALL
            .iter()
            .map(|f| match f {
                Format::Native => ".sori.toml".to_string(),
                f => format!(".{}", f.extension()),
            })
            .collect();
        match names.split_last() {
            Some((last, rest)) => format!("use {} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
    /// The format for a file name, by extension (`.sori.toml` and `.toml` are native),
    /// whatever its case.
    pub fn from_path(p: &Path) -> Option<Format> {
        let ext = p.extension()?.to_str()?;
        Self::ALL
            .into_iter()
            .find(|f| f.extension().eq_ignore_ascii_case(ext))
    }
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "Sori notes",
            Format::Audacity => "Audacity labels",
            Format::SvCsv => "Sonic Visualiser CSV",
            Format::Vtt => "WebVTT",
            Format::Srt => "SRT",
            Format::Jams => "JAMS",
            Format::TextGrid => "Praat TextGrid",
        }
    }
}

/// An import problem, with the line it is on (1-based; 0 when not tied to a line).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{format}, line {line}: {message}")]
pub struct ImportError {
    pub format: &'static str,
    pub line: usize,
    pub message: String,
}

pub(super) fn err(format: Format, line: usize, message: impl Into<String>) -> ImportError {
    ImportError {
        format: format.name(),
        line,
        message: message.into(),
    }
}

/// Parses `text` in `format`. Warnings name what could not be taken over.
pub fn import(text: &str, format: Format) -> Result<(Document, Vec<String>), ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut warnings = Vec::new();
    let mut doc = match format {
        Format::Native => super::native::parse(text).map_err(|e| err(format, e.line, e.message))?,
        Format::Audacity => import_audacity(text)?,
        Format::SvCsv => import_csv(text)?,
        Format::Vtt => import_cues(text, true)?,
        Format::Srt => import_cues(text, false)?,
        Format::Jams => import_jams(text, &mut warnings)?,
        Format::TextGrid => import_textgrid(text, &mut warnings)?,
    };
    doc.sort();
    Ok((doc, warnings))
}

/// Writes `doc` in `format`, with warnings for what the format cannot hold.
pub fn export(doc: &Document, format: Format) -> (String, Vec<String>) {
    let mut warnings = Vec::new();
    let text = match format {
        Format::Native => super::native::to_string(doc),
        Format::Audacity => {
            title_only_warning(doc, format, &mut warnings);
            export_audacity(doc)
        }
        Format::SvCsv => {
            title_only_warning(doc, format, &mut warnings);
            export_csv(doc)
        }
        Format::Vtt | Format::Srt => {
            cue_warning(doc, format, &mut warnings);
            export_cues(doc, format == Format::Vtt)
        }
        Format::Jams => export_jams(doc),
        Format::TextGrid => {
            title_only_warning(doc, format, &mut warnings);
            export_textgrid(doc)
        }
    };
    (text, warnings)
}

/// Formats that hold one line of text per note: say which fields are left out.
fn title_only_warning(doc: &Document, f: Format, warnings: &mut Vec<String>) {
    let mut lost = Vec::new();
    let count = |pred: &dyn Fn(&Note) -> bool| doc.notes.iter().filter(|n| pred(n)).count();
    for (what, n) in [
        ("bodies", count(&|n| !n.body.is_empty())),
        ("categories", count(&|n| n.category != Category::default())),
        ("instruments", count(&|n| !n.instruments.is_empty())),
        ("sources", count(&|n| !n.sources.is_empty())),
        ("images", count(&|n| n.image.is_some())),
        ("line breaks in titles", count(&|n| n.title.contains('\n'))),
    ] {
        if n > 0 {
            lost.push(format!(
                "{what} of {n} note{}",
                if n == 1 { "" } else { "s" }
            ));
        }
    }
    if !doc.title.is_empty() {
        lost.push("the document title".into());
    }
    if !lost.is_empty() {
        warnings.push(format!(
            "{} holds only times and one line of text per note: {} were not written.",
            f.name(),
            lost.join(", ")
        ));
    }
}

fn cue_warning(doc: &Document, f: Format, warnings: &mut Vec<String>) {
    let extra = doc
        .notes
        .iter()
        .filter(|n| {
            n.category != Category::default()
                || !n.instruments.is_empty()
                || !n.sources.is_empty()
                || n.image.is_some()
        })
        .count();
    if extra > 0 {
        warnings.push(format!(
            "{} holds a title and text per cue: categories, instruments, sources and images of {extra} notes were not written.",
            f.name()
        ));
    }
}

/// One line of label text (Audacity, SV, TextGrid): line breaks become spaces.
pub(super) fn one_line(s: &str) -> String {
    s.replace("\r\n", " ").replace(['\n', '\r', '\t'], " ")
}

/// Reads a notes file in any format (by extension).
pub fn read(path: &Path) -> Result<(Document, Vec<String>), ImportError> {
    let name = crate::display_name(path);
    let Some(format) = Format::from_path(path) else {
        return Err(ImportError {
            format: "notes",
            line: 0,
            message: format!("{name}: unknown notes format ({})", Format::known_list()),
        });
    };
    if format == Format::Native {
        return super::native::read(path)
            .map(|d| (d, Vec::new()))
            .map_err(|e| err(format, e.line, e.to_string()));
    }
    let bytes = super::read_limited(path).map_err(|m| err(format, 0, format!("{name}: {m}")))?;
    import_bytes(&bytes, format).map_err(|mut e| {
        if e.line == 0 {
            e.message = format!("{name}: {}", e.message);
        }
        e
    })
}

/// Parses a notes file's bytes in `format`: UTF-8, or UTF-16 with a byte-order mark (Praat
/// often writes that).
pub fn import_bytes(bytes: &[u8], format: Format) -> Result<(Document, Vec<String>), ImportError> {
    if format == Format::Native {
        return super::native::parse_bytes(bytes)
            .map(|d| (d, Vec::new()))
            .map_err(|e| err(format, e.line, e.message));
    }
    let text = if let Some(be) = match bytes {
        [0xFE, 0xFF, ..] => Some(true),
        [0xFF, 0xFE, ..] => Some(false),
        _ => None,
    } {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if be {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units)
            .map_err(|_| err(format, 0, "the file is not valid UTF-16 text"))?
    } else {
        String::from_utf8(bytes.to_vec())
            .map_err(|_| err(format, 0, "the file is not UTF-8 text"))?
    };
    import(&text, format)
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn every_format_is_found_by_its_extension_in_any_case_and_named_in_the_list() {
        for f in Format::ALL {
            let ext = f.extension();
            for name in [format!("a.{ext}"), format!("a.{}", ext.to_uppercase())] {
                assert_eq!(Format::from_path(Path::new(&name)), Some(f), "{name}");
            }
        }
        assert_eq!(
            Format::from_path(Path::new("talk.sori.toml")),
            Some(Format::Native)
        );
        assert_eq!(Format::from_path(Path::new("song.mp3")), None);
        assert_eq!(
            Format::known_list(),
            "use .sori.toml, .txt, .csv, .vtt, .srt, .jams or .TextGrid"
        );
    }
}
