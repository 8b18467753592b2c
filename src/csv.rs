//! CSV as RFC 4180 has it, the one reader and the one field writer: the Sonic Visualiser
//! import and export, `sori analyze --csv` and `sori eval`'s manifests all go through here.

/// A quoted field that is not closed by the end of the text, in the record that starts on
/// `line` (counted from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unclosed {
    pub line: usize,
}

/// The records of `text`, each with the line it starts on (from 1). Quoted fields may hold
/// commas, doubled quotes and line breaks; CR before LF is dropped; empty lines are skipped.
pub fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, Unclosed> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut rec_line = 1;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                any = true;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                any = true;
            }
            '\r' => {}
            '\n' => {
                if any || !field.is_empty() {
                    fields.push(std::mem::take(&mut field));
                    records.push((rec_line, std::mem::take(&mut fields)));
                }
                any = false;
                line += 1;
                rec_line = line;
            }
            c => {
                field.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err(Unclosed { line: rec_line });
    }
    if any || !field.is_empty() {
        fields.push(field);
        records.push((rec_line, fields));
    }
    Ok(records)
}

/// `s` as one CSV field: quoted (inner quotes doubled) when it holds a comma, a quote or a
/// line break, as it is otherwise.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_commas_quotes_and_line_breaks_and_come_back_from_field() {
        let tricky = ["plain", "a, b", "say \"아리랑\"", "two\nlines", ""];
        let line: Vec<String> = tricky.iter().map(|s| field(s)).collect();
        let text = format!("h1,h2,h3,h4,h5\r\n\r\n{}\n", line.join(","));
        let recs = records(&text).expect("closed");
        assert_eq!(recs.len(), 2, "the empty line is skipped");
        assert_eq!(recs[0].0, 1);
        assert_eq!(recs[1].0, 3, "the second record starts on line 3");
        assert_eq!(recs[1].1, tricky.map(String::from).to_vec());
        assert_eq!(
            records("a\n\"open,b\n").map(|r| r.len()),
            Err(Unclosed { line: 2 })
        );
        assert_eq!(
            records("x,y").expect("no final newline"),
            vec![(1, vec!["x".into(), "y".into()])]
        );
    }
}
