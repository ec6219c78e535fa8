//! The strip plot of one response: every examiner's mark on the 0..max
//! scale, the level bands, the definitive mark as a line and the tolerance
//! shaded. SVG made on the server: it needs no JavaScript and prints.
//! Only numbers go into it, so there is nothing to escape.

use std::{collections::BTreeMap, fmt::Write};

use crate::markscheme::Level;

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 86.0;
const LEFT: f64 = 16.0;
const RIGHT: f64 = 16.0;
const AXIS_Y: f64 = 62.0;
/// Up to this many identical marks are drawn as stacked dots; beyond, as bars.
const MAX_STACK: usize = 12;

fn x(mark: f64, max: i32) -> f64 {
    let max = f64::from(max.max(1));
    LEFT + (WIDTH - LEFT - RIGHT) * (mark / max)
}

/// Draws the plot; `marks` are submitted marks.
pub fn strip_plot(marks: &[i32], max: i32, levels: &[Level], definitive: Option<i32>, tolerance: i32) -> String {
    let mut s = String::with_capacity(2048);
    let label = match definitive {
        Some(d) => format!("{} marks on the 0 to {max} scale; definitive mark {d}, tolerance {tolerance}", marks.len()),
        None => format!("{} marks on the 0 to {max} scale; no definitive mark yet", marks.len()),
    };
    let _ = write!(
        s,
        r#"<svg class="strip" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>"#
    );
    if let Some(d) = definitive {
        let (a, b) =
            (x(f64::from(d.saturating_sub(tolerance)).max(0.0) - 0.5, max), x(f64::from(d.saturating_add(tolerance).min(max)) + 0.5, max));
        let (a, b) = (a.max(LEFT - 6.0), b.min(WIDTH - RIGHT + 6.0));
        let _ = write!(s, r#"<rect class="tolerance" x="{a:.1}" y="8" width="{:.1}" height="{:.1}"/>"#, (b - a).max(1.0), AXIS_Y - 8.0);
    }
    // Band boundaries with their level numbers.
    for l in levels {
        let left = x(f64::from(l.min) - 0.5, max).max(LEFT - 6.0);
        if l.min > 0 {
            let _ = write!(s, r#"<line class="band" x1="{left:.1}" x2="{left:.1}" y1="8" y2="{AXIS_Y}"/>"#);
        }
        let mid = x(f64::from(l.min + l.max) / 2.0, max);
        let _ = write!(s, r#"<text class="band-label" x="{mid:.1}" y="7">L{}</text>"#, l.level);
    }
    let _ = write!(s, r#"<line class="axis" x1="{LEFT}" x2="{:.1}" y1="{AXIS_Y}" y2="{AXIS_Y}"/>"#, WIDTH - RIGHT);
    let step = if max > 30 {
        5
    } else if max > 12 {
        2
    } else {
        1
    };
    for m in (0..=max).step_by(step) {
        let px = x(f64::from(m), max);
        let _ = write!(
            s,
            r#"<line class="tick" x1="{px:.1}" x2="{px:.1}" y1="{AXIS_Y}" y2="{:.1}"/><text class="tick-label" x="{px:.1}" y="{:.1}">{m}</text>"#,
            AXIS_Y + 3.0,
            AXIS_Y + 14.0
        );
    }
    // Marks: identical marks stack upwards (many examiners → smaller dots).
    let mut counts: BTreeMap<i32, usize> = BTreeMap::new();
    for m in marks {
        *counts.entry(*m).or_default() += 1;
    }
    let tallest = counts.values().copied().max().unwrap_or(1);
    if tallest <= MAX_STACK {
        // Few marks: one dot each, so every examiner can be counted.
        let step_y = ((AXIS_Y - 12.0) / tallest as f64).min(8.0);
        let r = (step_y / 2.0).clamp(1.5, 3.5);
        for (m, n) in counts {
            let px = x(f64::from(m), max);
            for k in 0..n {
                let py = AXIS_Y - 4.0 - step_y * k as f64;
                let _ = write!(s, r#"<circle class="mark" cx="{px:.1}" cy="{py:.1}" r="{r:.1}"/>"#);
            }
        }
    } else {
        // A large panel: a bar per mark, as tall as its share, with the count,
        // so the page stays small however many examiners there are.
        let width = ((WIDTH - LEFT - RIGHT) / f64::from(max.max(1) + 1) * 0.7).clamp(2.0, 14.0);
        for (m, n) in counts {
            let px = x(f64::from(m), max);
            let h = (AXIS_Y - 14.0) * n as f64 / tallest as f64;
            let _ = write!(
                s,
                r#"<rect class="mark-bar" x="{:.1}" y="{:.1}" width="{width:.1}" height="{h:.1}"><title>{n} at {m}</title></rect><text class="count" x="{px:.1}" y="{:.1}">{n}</text>"#,
                px - width / 2.0,
                AXIS_Y - h,
                AXIS_Y - h - 1.5
            );
        }
    }
    if let Some(d) = definitive {
        let px = x(f64::from(d), max);
        let _ = write!(s, r#"<line class="definitive" x1="{px:.1}" x2="{px:.1}" y1="8" y2="{AXIS_Y}"/>"#);
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_mark_the_definitive_line_and_bands() {
        let levels = vec![
            Level { level: 0, min: 0, max: 0, descriptor: String::new() },
            Level { level: 1, min: 1, max: 6, descriptor: String::new() },
            Level { level: 2, min: 7, max: 12, descriptor: String::new() },
        ];
        let svg = strip_plot(&[8, 8, 10, 3], 12, &levels, Some(8), 1);
        assert_eq!(svg.matches("<circle").count(), 4);
        assert_eq!(svg.matches(r#"class="definitive""#).count(), 1);
        assert_eq!(svg.matches(r#"class="band""#).count(), 2);
        assert!(svg.contains("definitive mark 8, tolerance 1"));
        let many: Vec<i32> = (0..500).map(|i| i % 13).collect();
        let big = strip_plot(&many, 12, &levels, Some(8), 1);
        assert_eq!(big.matches("<rect class=\"mark-bar\"").count(), 13, "one bar per mark value");
        assert!(big.len() < 6000, "a large panel's plot stays small");
        let none = strip_plot(&[], 12, &levels, None, 1);
        assert!(none.contains("no definitive mark yet") && !none.contains("tolerance\""));
    }
}
