//! The label formats: Audacity's tab-separated labels (`.txt`) and Sonic Visualiser's CSV
//! (`.csv`), one line of text per note.

use super::{Format, ImportError, err, one_line};
use crate::notes::{Document, Note};

pub(super) fn secs(x: f64) -> String {
    format!("{x:.6}")
}

pub(super) fn export_audacity(doc: &Document) -> String {
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

pub(super) fn parse_time_field(f: Format, line: usize, s: &str) -> Result<f64, ImportError> {
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

pub(super) fn import_audacity(text: &str) -> Result<Document, ImportError> {
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

pub(super) fn export_csv(doc: &Document) -> String {
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

pub(super) fn import_csv(text: &str) -> Result<Document, ImportError> {
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
