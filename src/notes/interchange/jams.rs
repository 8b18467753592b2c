//! JAMS (`.jams`), the MIR annotation format: what it has no field for travels in the
//! annotation's sandbox.

use serde_json::{Value, json};

use super::{Format, ImportError, err};
use crate::notes::{Category, Document, Note};

pub(super) fn export_jams(doc: &Document) -> String {
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

pub(super) fn obs_times(o: &Value) -> Option<(f64, f64)> {
    let t = o.get("time")?.as_f64()?;
    let d = o.get("duration").and_then(Value::as_f64).unwrap_or(0.0);
    (t.is_finite() && t >= 0.0 && d.is_finite() && d >= 0.0).then_some((t, d))
}

pub(super) fn value_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

pub(super) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn import_jams(text: &str, warnings: &mut Vec<String>) -> Result<Document, ImportError> {
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
