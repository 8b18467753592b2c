//! Import and export of notes in the formats other tools use: Audacity labels (`.txt`),
//! Sonic Visualiser CSV (`.csv`), WebVTT (`.vtt`), SRT (`.srt`), JAMS (`.jams`) and Praat
//! TextGrid (`.TextGrid`). What a format cannot hold is kept where it can be (the JAMS
//! sandbox) or named in a warning — never dropped silently.

use std::path::Path;

use serde_json::{Value, json};

use super::{Category, Document, Note};

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

fn err(format: Format, line: usize, message: impl Into<String>) -> ImportError {
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
fn one_line(s: &str) -> String {
    s.replace("\r\n", " ").replace(['\n', '\r', '\t'], " ")
}

// ---- Audacity labels ---------------------------------------------------------------------

fn secs(x: f64) -> String {
    format!("{x:.6}")
}

fn export_audacity(doc: &Document) -> String {
    let mut out = String::new();
    for n in &doc.notes {
        let end = n.end.unwrap_or(n.start);
        out.push_str(&format!(
            "{}\t{}\t{}\n",
            secs(n.start),
            secs(end),
            one_line(&n.title)
        ));
    }
    out
}

fn parse_time_field(f: Format, line: usize, s: &str) -> Result<f64, ImportError> {
    let v: f64 = s
        .trim()
        .replace(',', ".")
        .parse()
        .map_err(|_| err(f, line, format!("{:?} is not a time in seconds", s.trim())))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(err(f, line, "times must be 0 or more"));
    }
    Ok(v)
}

fn import_audacity(text: &str) -> Result<Document, ImportError> {
    let f = Format::Audacity;
    let mut doc = Document::default();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        // Spectral selection: "\<TAB>f1<TAB>f2" belongs to the label above; Sori keeps times only.
        if line.starts_with('\\') {
            continue;
        }
        let mut parts = line.splitn(3, '\t');
        let a = parts.next().unwrap_or_default();
        let b = parts
            .next()
            .ok_or_else(|| err(f, line_no, "expected start<TAB>end<TAB>label"))?;
        let label = parts.next().unwrap_or_default();
        let start = parse_time_field(f, line_no, a)?;
        let end = parse_time_field(f, line_no, b)?;
        if end < start {
            return Err(err(f, line_no, "the end comes before the start"));
        }
        let mut n = Note::point(start, label.trim_end_matches('\r'));
        if end > start {
            n.end = Some(end);
        }
        doc.notes.push(n);
    }
    Ok(doc)
}

// ---- Sonic Visualiser CSV ------------------------------------------------------------------

fn export_csv(doc: &Document) -> String {
    let mut out = String::from("time,value,duration,label\n");
    for n in &doc.notes {
        let dur = n.end.map(|e| e - n.start).unwrap_or(0.0);
        out.push_str(&format!(
            "{},0,{},{}\n",
            secs(n.start),
            secs(dur),
            crate::csv::field(&one_line(&n.title))
        ));
    }
    out
}

fn import_csv(text: &str) -> Result<Document, ImportError> {
    let f = Format::SvCsv;
    let mut records = crate::csv::records(text)
        .map_err(|u| err(Format::SvCsv, u.line, "a quoted field is not closed"))?;
    let mut cols: Option<(usize, Option<usize>, Option<usize>)> = None; // time, duration, label
    if let Some((_, first)) = records.first()
        && first
            .first()
            .is_some_and(|x| x.trim().parse::<f64>().is_err())
    {
        let find = |name: &str| {
            first
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let time = find("time").unwrap_or(0);
        cols = Some((time, find("duration"), find("label")));
        records.remove(0);
    }
    let mut doc = Document::default();
    for (line, r) in records {
        let (ti, di, li) = match cols {
            Some(c) => c,
            None => match r.len() {
                1 => (0, None, None),
                2 => (0, None, Some(1)),
                3 => (0, Some(1), Some(2)),
                _ => (0, Some(2), Some(3)),
            },
        };
        let start = parse_time_field(f, line, r.get(ti).map(String::as_str).unwrap_or_default())?;
        let dur = match di.and_then(|i| r.get(i)).filter(|s| !s.trim().is_empty()) {
            Some(d) => parse_time_field(f, line, d)?,
            None => 0.0,
        };
        let label = li.and_then(|i| r.get(i)).cloned().unwrap_or_default();
        let mut n = Note::point(start, label);
        if dur > 0.0 {
            n.end = Some(start + dur);
        }
        doc.notes.push(n);
    }
    Ok(doc)
}

// ---- WebVTT and SRT ------------------------------------------------------------------------

fn cue_time(t: f64, vtt: bool) -> String {
    let ms = (t.max(0.0) * 1000.0).round() as u64;
    let (h, m, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if vtt {
        format!("{h:02}:{m:02}:{s:02}.{f:03}")
    } else {
        format!("{h:02}:{m:02}:{s:02},{f:03}")
    }
}

fn parse_cue_time(s: &str) -> Option<f64> {
    let s = s.trim().replace(',', ".");
    let parts: Vec<&str> = s.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [m, s] => (0.0, m.parse::<f64>().ok()?, s.parse::<f64>().ok()?),
        [h, m, s] => (
            h.parse::<f64>().ok()?,
            m.parse::<f64>().ok()?,
            s.parse::<f64>().ok()?,
        ),
        _ => return None,
    };
    let t = h * 3600.0 + m * 60.0 + sec;
    (t.is_finite() && t >= 0.0 && m < 60.0 && sec < 60.0).then_some(t)
}

/// Cue text cannot hold a blank line (it ends the cue): blank lines travel as a lone NBSP.
const BLANK: &str = "\u{00A0}";

fn vtt_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
fn vtt_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{00A0}")
        .replace("&amp;", "&")
}

fn export_cues(doc: &Document, vtt: bool) -> String {
    let mut out = if vtt {
        String::from("WEBVTT\n\n")
    } else {
        String::new()
    };
    for (i, n) in doc.notes.iter().enumerate() {
        let end = n.end.unwrap_or(n.start);
        out.push_str(&format!(
            "{}\n{} --> {}\n",
            i + 1,
            cue_time(n.start, vtt),
            cue_time(end, vtt)
        ));
        let mut lines = vec![one_line(&n.title)];
        if !n.body.is_empty() {
            lines.extend(
                n.body
                    .split('\n')
                    .map(|l| l.trim_end_matches('\r'))
                    .map(|l| {
                        if l.trim_matches([' ', '\t']).is_empty() {
                            BLANK.to_string()
                        } else {
                            l.to_string()
                        }
                    }),
            );
        }
        for l in lines {
            out.push_str(&if vtt { vtt_escape(&l) } else { l });
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

fn import_cues(text: &str, vtt: bool) -> Result<Document, ImportError> {
    let f = if vtt { Format::Vtt } else { Format::Srt };
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut i = 0;
    if vtt {
        if !lines.first().is_some_and(|l| l.starts_with("WEBVTT")) {
            return Err(err(f, 1, "a WebVTT file starts with WEBVTT"));
        }
        i = 1;
    }
    // Blank means spaces and tabs only: a lone NBSP is a blank line inside a cue's text.
    let blank = |l: &str| l.trim_matches([' ', '\t']).is_empty();
    let mut doc = Document::default();
    while i < lines.len() {
        // Skip blank lines between blocks.
        if blank(lines[i]) {
            i += 1;
            continue;
        }
        // A block runs to the next blank line.
        let start = i;
        while i < lines.len() && !blank(lines[i]) {
            i += 1;
        }
        let block = &lines[start..i];
        if vtt
            && (block[0].starts_with("NOTE")
                || block[0].starts_with("STYLE")
                || block[0].starts_with("REGION"))
        {
            continue;
        }
        let Some(ti) = block.iter().position(|l| l.contains("-->")) else {
            return Err(err(
                f,
                start + 1,
                "expected a timing line (00:00:01.000 --> 00:00:02.000)",
            ));
        };
        if ti > 1 {
            return Err(err(
                f,
                start + 1,
                "a cue has at most one identifier line before its timing",
            ));
        }
        let timing = block[ti];
        let (a, rest) = timing.split_once("-->").unwrap_or((timing, ""));
        let b = rest.split_whitespace().next().unwrap_or_default();
        let line_no = start + ti + 1;
        let t0 = parse_cue_time(a)
            .ok_or_else(|| err(f, line_no, format!("{:?} is not a cue time", a.trim())))?;
        let t1 =
            parse_cue_time(b).ok_or_else(|| err(f, line_no, format!("{b:?} is not a cue time")))?;
        if t1 < t0 {
            return Err(err(f, line_no, "the cue ends before it starts"));
        }
        let text_lines: Vec<String> = block[ti + 1..]
            .iter()
            .map(|l| if vtt { vtt_unescape(l) } else { l.to_string() })
            .map(|l| if l == BLANK { String::new() } else { l })
            .collect();
        let mut n = Note::point(t0, text_lines.first().cloned().unwrap_or_default());
        n.body = text_lines
            .get(1..)
            .map(|b| b.join("\n"))
            .unwrap_or_default();
        if t1 > t0 {
            n.end = Some(t1);
        }
        doc.notes.push(n);
    }
    Ok(doc)
}

// ---- JAMS ----------------------------------------------------------------------------------

fn export_jams(doc: &Document) -> String {
    let end = doc
        .notes
        .iter()
        .map(|n| n.end.unwrap_or(n.start))
        .fold(0.0, f64::max);
    let data: Vec<Value> = doc
        .notes
        .iter()
        .map(|n| json!({ "time": n.start, "duration": n.end.map(|e| e - n.start).unwrap_or(0.0), "value": n.title, "confidence": null }))
        .collect();
    let extras: Vec<Value> = doc
        .notes
        .iter()
        .map(|n| {
            json!({
                "point": n.end.is_none(),
                "category": n.category.as_str(),
                "instruments": n.instruments,
                "body": n.body,
                "sources": n.sources,
                "image": n.image,
            })
        })
        .collect();
    let tags: Vec<Value> = doc
        .notes
        .iter()
        .map(|n| json!({ "time": n.start, "duration": n.end.map(|e| e - n.start).unwrap_or(0.0), "value": n.category.as_str(), "confidence": null }))
        .collect();
    let v = json!({
        "file_metadata": { "title": doc.title, "artist": "", "release": "", "duration": end, "identifiers": {}, "jams_version": "0.3.4" },
        "annotations": [
            {
                "namespace": "segment_open",
                "data": data,
                "annotation_metadata": { "annotator": {}, "annotation_tools": "Sori", "data_source": "Sori notes", "curator": { "name": "", "email": "" },
                    "version": "", "corpus": "", "annotation_rules": "", "validation": "" },
                "sandbox": { "sori_notes": extras },
                "time": 0, "duration": null
            },
            {
                "namespace": "tag_open",
                "data": tags,
                "annotation_metadata": { "annotator": {}, "annotation_tools": "Sori", "data_source": "Sori note categories", "curator": { "name": "", "email": "" },
                    "version": "", "corpus": "", "annotation_rules": "", "validation": "" },
                "sandbox": {},
                "time": 0, "duration": null
            }
        ],
        "sandbox": { "sori": { "version": 1 } }
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

fn obs_times(o: &Value) -> Option<(f64, f64)> {
    let t = o.get("time")?.as_f64()?;
    let d = o.get("duration").and_then(Value::as_f64).unwrap_or(0.0);
    (t.is_finite() && t >= 0.0 && d.is_finite() && d >= 0.0).then_some((t, d))
}

fn value_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn import_jams(text: &str, warnings: &mut Vec<String>) -> Result<Document, ImportError> {
    let f = Format::Jams;
    let v: Value = serde_json::from_str(text).map_err(|e| err(f, e.line(), e.to_string()))?;
    let mut doc = Document {
        title: value_text(v.pointer("/file_metadata/title")),
        notes: Vec::new(),
    };
    let anns = v
        .get("annotations")
        .and_then(Value::as_array)
        .ok_or_else(|| err(f, 0, "no \"annotations\" list"))?;
    let mut skipped = Vec::new();
    let mut has_segments = false;
    for ann in anns {
        let ns = ann
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // JAMS writes observations either as a list of objects or as parallel arrays.
        let data: Vec<Value> = match ann.get("data") {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::Object(o)) => {
                let col = |k: &str| {
                    o.get(k)
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                };
                let (t, d, val) = (col("time"), col("duration"), col("value"));
                (0..t.len())
                    .map(|i| json!({ "time": t[i], "duration": d.get(i), "value": val.get(i) }))
                    .collect()
            }
            _ => Vec::new(),
        };
        match ns {
            "segment_open" => {
                has_segments = true;
                let extras = ann.pointer("/sandbox/sori_notes").and_then(Value::as_array);
                for (i, o) in data.iter().enumerate() {
                    let Some((t, d)) = obs_times(o) else {
                        return Err(err(
                            f,
                            0,
                            format!("observation {} of segment_open has no valid time", i + 1),
                        ));
                    };
                    let mut n = Note::point(t, value_text(o.get("value")));
                    if d > 0.0 {
                        n.end = Some(t + d);
                    }
                    if let Some(x) = extras.and_then(|e| e.get(i)) {
                        if x.get("point").and_then(Value::as_bool) == Some(false) {
                            n.end = Some(t + d);
                        }
                        n.category = x
                            .get("category")
                            .and_then(Value::as_str)
                            .and_then(Category::parse)
                            .unwrap_or_default();
                        n.instruments = strings(x.get("instruments"));
                        n.body = value_text(x.get("body"));
                        n.sources = strings(x.get("sources"));
                        n.image = x.get("image").and_then(Value::as_str).map(String::from);
                    }
                    doc.notes.push(n);
                }
            }
            "tag_open" => {
                // Sori's own category tags are already in the segments' sandbox.
                if ann
                    .pointer("/annotation_metadata/data_source")
                    .and_then(Value::as_str)
                    == Some("Sori note categories")
                {
                    continue;
                }
                for o in &data {
                    let Some((t, d)) = obs_times(o) else { continue };
                    let tag = value_text(o.get("value"));
                    let mut n = Note::point(t, tag.clone());
                    if d > 0.0 {
                        n.end = Some(t + d);
                    }
                    if let Some(c) = Category::parse(&tag) {
                        n.category = c;
                    }
                    doc.notes.push(n);
                }
            }
            other => skipped.push(other.to_string()),
        }
    }
    if !skipped.is_empty() {
        skipped.sort();
        skipped.dedup();
        warnings.push(format!("JAMS annotations in namespaces {} were not imported (Sori reads segment_open and tag_open).", skipped.join(", ")));
    }
    let _ = has_segments;
    Ok(doc)
}

// ---- Praat TextGrid ------------------------------------------------------------------------

fn praat_string(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn export_textgrid(doc: &Document) -> String {
    let xmax = doc
        .notes
        .iter()
        .map(|n| n.end.unwrap_or(n.start))
        .fold(0.0, f64::max)
        .max(0.001);
    // Regions go on interval tiers (a new tier wherever they overlap); points on a point tier.
    let mut tiers: Vec<Vec<&Note>> = Vec::new();
    let mut regions: Vec<&Note> = doc.notes.iter().filter(|n| n.end.is_some()).collect();
    regions.sort_by(|a, b| a.start.total_cmp(&b.start));
    for n in regions {
        match tiers.iter_mut().find(|t| {
            t.last()
                .and_then(|l| l.end)
                .is_some_and(|e| e <= n.start + 1e-9)
        }) {
            Some(t) => t.push(n),
            None => tiers.push(vec![n]),
        }
    }
    let points: Vec<&Note> = doc.notes.iter().filter(|n| n.end.is_none()).collect();
    let size = tiers.len() + usize::from(!points.is_empty());
    let mut out = format!(
        "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\nxmin = 0\nxmax = {xmax}\ntiers? <exists>\nsize = {size}\nitem []:\n"
    );
    for (ti, tier) in tiers.iter().enumerate() {
        // Fill the gaps with empty intervals: an interval tier covers xmin..xmax.
        let mut intervals: Vec<(f64, f64, String)> = Vec::new();
        let mut t = 0.0;
        for n in tier {
            let e = n.end.unwrap_or(n.start);
            if n.start > t + 1e-9 {
                intervals.push((t, n.start, String::new()));
            }
            intervals.push((n.start, e, one_line(&n.title)));
            t = e;
        }
        if t < xmax - 1e-9 {
            intervals.push((t, xmax, String::new()));
        }
        let name = if ti == 0 {
            "notes".to_string()
        } else {
            format!("notes {}", ti + 1)
        };
        out.push_str(&format!(
            "    item [{}]:\n        class = \"IntervalTier\"\n        name = {}\n        xmin = 0\n        xmax = {xmax}\n        intervals: size = {}\n",
            ti + 1,
            praat_string(&name),
            intervals.len()
        ));
        for (i, (a, b, text)) in intervals.iter().enumerate() {
            out.push_str(&format!(
                "        intervals [{}]:\n            xmin = {a}\n            xmax = {b}\n            text = {}\n",
                i + 1,
                praat_string(text)
            ));
        }
    }
    if !points.is_empty() {
        out.push_str(&format!(
            "    item [{}]:\n        class = \"TextTier\"\n        name = \"points\"\n        xmin = 0\n        xmax = {xmax}\n        points: size = {}\n",
            tiers.len() + 1,
            points.len()
        ));
        for (i, n) in points.iter().enumerate() {
            out.push_str(&format!(
                "        points [{}]:\n            number = {}\n            mark = {}\n",
                i + 1,
                n.start,
                praat_string(&one_line(&n.title))
            ));
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Flag,
}

/// Praat's text format, long or short, is a sequence of numbers and strings; labels such as
/// `xmin =` and `intervals [3]:` are decoration. Returns tokens with their line numbers.
fn praat_tokens(text: &str) -> Result<Vec<(usize, Tok)>, ImportError> {
    let f = Format::TextGrid;
    let mut toks = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut line = 1;
    while let Some((_, c)) = chars.next() {
        match c {
            '\n' => line += 1,
            '"' => {
                let start_line = line;
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some((_, '"')) => {
                            if chars.peek().map(|x| x.1) == Some('"') {
                                chars.next();
                                s.push('"');
                            } else {
                                break;
                            }
                        }
                        Some((_, ch)) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            s.push(ch);
                        }
                        None => return Err(err(f, start_line, "a quoted text is not closed")),
                    }
                }
                toks.push((start_line, Tok::Str(s)));
            }
            '[' => {
                // "[3]" index decorations and "[]" are skipped.
                for (_, ch) in chars.by_ref() {
                    if ch == ']' {
                        break;
                    }
                }
            }
            '<' => {
                let mut word = String::new();
                for (_, ch) in chars.by_ref() {
                    if ch == '>' {
                        break;
                    }
                    word.push(ch);
                }
                if word == "exists" {
                    toks.push((line, Tok::Flag));
                }
            }
            '!' => {
                // comment to end of line
                while chars.peek().is_some_and(|x| x.1 != '\n') {
                    chars.next();
                }
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let mut s = String::from(c);
                while let Some(&(_, ch)) = chars.peek() {
                    if ch.is_ascii_digit() || matches!(ch, '.' | 'e' | 'E' | '-' | '+') {
                        s.push(ch);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let v: f64 = s
                    .parse()
                    .map_err(|_| err(f, line, format!("{s:?} is not a number")))?;
                toks.push((line, Tok::Num(v)));
            }
            c if c.is_alphabetic() => {
                // a label word such as xmin, size, intervals, tiers?
                while chars
                    .peek()
                    .is_some_and(|x| x.1.is_alphanumeric() || x.1 == '?' || x.1 == '_')
                {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    Ok(toks)
}

fn import_textgrid(text: &str, warnings: &mut Vec<String>) -> Result<Document, ImportError> {
    let f = Format::TextGrid;
    let toks = praat_tokens(text)?;
    let mut it = toks.into_iter().peekable();
    let mut last_line = 1;
    let mut next = |what: &str| -> Result<Tok, ImportError> {
        match it.next() {
            Some((l, t)) => {
                last_line = l;
                Ok(t)
            }
            None => Err(err(
                f,
                last_line,
                format!("the file ends where {what} should be"),
            )),
        }
    };
    let num = |t: Tok, line: usize, what: &str| -> Result<f64, ImportError> {
        match t {
            Tok::Num(v) if v.is_finite() => Ok(v),
            _ => Err(err(f, line, format!("expected {what} (a number)"))),
        }
    };
    let string = |t: Tok, line: usize, what: &str| -> Result<String, ImportError> {
        match t {
            Tok::Str(s) => Ok(s),
            _ => Err(err(f, line, format!("expected {what} (a quoted text)"))),
        }
    };
    match (next("the file type")?, next("the object class")?) {
        (Tok::Str(a), Tok::Str(b)) if a == "ooTextFile" && b == "TextGrid" => {}
        _ => {
            return Err(err(
                f,
                1,
                "not a TextGrid text file (it starts with File type = \"ooTextFile\", Object class = \"TextGrid\")",
            ));
        }
    }
    let _xmin = next("xmin")?;
    let _xmax = next("xmax")?;
    let mut t = next("tiers? <exists>")?;
    if t == Tok::Flag {
        t = next("the number of tiers")?;
    }
    let ntiers = num(t, 0, "the number of tiers")? as usize;
    let mut doc = Document::default();
    let mut names = Vec::new();
    for _ in 0..ntiers.min(10_000) {
        let class = string(next("a tier class")?, 0, "a tier class")?;
        let name = string(next("a tier name")?, 0, "a tier name")?;
        let _ = next("tier xmin")?;
        let _ = next("tier xmax")?;
        let n = num(
            next("the number of intervals")?,
            0,
            "the number of intervals",
        )? as usize;
        let category = Category::parse(&name);
        if category.is_none()
            && !["notes", "points"].contains(&name.as_str())
            && !name.starts_with("notes ")
        {
            names.push(name.clone());
        }
        for _ in 0..n.min(10_000_000) {
            match class.as_str() {
                "IntervalTier" => {
                    let a = num(next("an interval start")?, 0, "an interval start")?;
                    let b = num(next("an interval end")?, 0, "an interval end")?;
                    let text = string(next("an interval text")?, 0, "an interval text")?;
                    if !text.trim().is_empty() && a >= 0.0 && b >= a {
                        let mut note = Note::region(a, b, text);
                        note.category = category.unwrap_or_default();
                        doc.notes.push(note);
                    }
                }
                "TextTier" => {
                    let t = num(next("a point time")?, 0, "a point time")?;
                    let mark = string(next("a point mark")?, 0, "a point mark")?;
                    if t >= 0.0 {
                        let mut note = Note::point(t, mark);
                        note.category = category.unwrap_or_default();
                        doc.notes.push(note);
                    }
                }
                other => return Err(err(f, 0, format!("unknown tier class {other:?}"))),
            }
        }
    }
    if !names.is_empty() {
        warnings.push(format!(
            "TextGrid tier names ({}) were not kept; their intervals were imported.",
            names.join(", ")
        ));
    }
    Ok(doc)
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
