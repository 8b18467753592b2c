//! Praat TextGrid (`.TextGrid`), long or short text format, one interval tier per note
//! layer.

use super::{Format, ImportError, err, one_line};
use crate::notes::{Category, Document, Note};

pub(super) fn praat_string(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub(super) fn export_textgrid(doc: &Document) -> String {
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
pub(super) enum Tok {
    Num(f64),
    Str(String),
    Flag,
}

/// Praat's text format, long or short, is a sequence of numbers and strings; labels such as
/// `xmin =` and `intervals [3]:` are decoration. Returns tokens with their line numbers.
pub(super) fn praat_tokens(text: &str) -> Result<Vec<(usize, Tok)>, ImportError> {
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

pub(super) fn import_textgrid(
    text: &str,
    warnings: &mut Vec<String>,
) -> Result<Document, ImportError> {
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
