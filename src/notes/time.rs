//! Times as people write them: seconds (`62.5`), `m:ss(.fff)` or `h:mm:ss(.fff)`.

/// Parses `62.5`, `1:02.5` or `1:02:03.25` into seconds. Returns `None` for anything else,
/// including negative or non-finite values.
pub fn parse(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    let mut total = 0.0;
    for (i, p) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        if p.is_empty() || p.starts_with('+') || p.starts_with('-') {
            return None;
        }
        let v: f64 = if last {
            p.parse().ok()?
        } else {
            if !p.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()?
        };
        if i > 0 && v >= 60.0 {
            return None; // minutes and seconds after a colon stay below 60
        }
        total = total * 60.0 + v;
    }
    (total.is_finite() && total >= 0.0).then_some(total)
}

/// Formats seconds as `m:ss.fff` (or `h:mm:ss.fff`), to the millisecond.
pub fn format(t: f64) -> String {
    let ms = (t.max(0.0) * 1000.0).round() as u64;
    let (h, rem) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rem) = (rem / 60_000, rem % 60_000);
    let (s, frac) = (rem / 1000, rem % 1000);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{frac:03}")
    } else {
        format!("{m}:{s:02}.{frac:03}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_people_write() {
        assert_eq!(parse("62.5"), Some(62.5));
        assert_eq!(parse("1:02.5"), Some(62.5));
        assert_eq!(parse("1:10"), Some(70.0));
        assert_eq!(parse("1:02:03.25"), Some(3723.25));
        assert_eq!(parse(" 0:00.001 "), Some(0.001));
        for bad in [
            "", "-1", "1:60", "a:10", "1::2", "1:2:3:4", "NaN", "inf", "1:-5", "+3",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn format_round_trips_to_the_millisecond() {
        for t in [0.0, 0.001, 59.999, 62.5, 3599.9995, 3723.25, 10_800.0] {
            let back = parse(&format(t)).expect("parses");
            assert!(
                (back - t).abs() <= 0.0005 + 1e-9,
                "{t} → {} → {back}",
                format(t)
            );
        }
        assert_eq!(format(62.5), "1:02.500");
        assert_eq!(format(3723.25), "1:02:03.250");
    }
}
