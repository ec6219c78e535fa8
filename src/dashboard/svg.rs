//! The strip plot of one response: every examiner's mark on the 0..max
//! scale, the level bands, the definitive mark as a line and the tolerance
//! shaded. SVG made on the server: it needs no JavaScript and prints.
//! Only numbers go into it, so there is nothing to escape.

use std::{collections::BTreeMap, fmt::Write};

use crate::markscheme::Level;

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 104.0;
const LEFT: f64 = 16.0;
const RIGHT: f64 = 16.0;
/// Where the plotting area starts, below the level labels.
const TOP: f64 = 20.0;
const AXIS_Y: f64 = 78.0;
/// Label size in the SVG's own units. The page draws the plot at its natural
/// width (see static/style.css), so these are screen pixels: 12 px or more, to
/// be read at 1366×768 without leaning in.
const LABEL_PX: f64 = 13.0;
/// Up to this many identical marks are drawn as stacked dots; beyond, as bars.
const MAX_STACK: usize = 12;

fn x(mark: f64, max: i32) -> f64 {
    let max = f64::from(max.max(1));
    LEFT + (WIDTH - LEFT - RIGHT) * (mark / max)
}

/// Marks between numbered ticks: the smallest of 1, 2, 5, 10, 20, 50… that keeps
/// the numbers at least 28 px apart, so 13 px labels never run together.
fn tick_step(max: i32) -> usize {
    let max = i64::from(max.max(1));
    let per_mark = (WIDTH - LEFT - RIGHT) / max as f64;
    let mut scale: i64 = 1;
    loop {
        for s in [1, 2, 5] {
            let step = s * scale;
            if per_mark * step as f64 >= 28.0 || step >= max {
                return usize::try_from(step).unwrap_or(usize::MAX);
            }
        }
        scale *= 10;
    }
}

/// The marks in words, for the plot's description: "6: 1 mark; 8: 2 marks".
fn described(counts: &BTreeMap<i32, usize>) -> String {
    if counts.is_empty() {
        return "No marks submitted yet.".into();
    }
    let each: Vec<String> = counts.iter().map(|(m, n)| format!("{m}: {n} mark{}", if *n == 1 { "" } else { "s" })).collect();
    format!("Marks given: {}.", each.join("; "))
}

/// Draws the plot; `marks` are submitted marks. Its name is its `<title>` (and
/// `aria-label`), and its `<desc>` lists the marks, for whoever cannot see it.
pub fn strip_plot(marks: &[i32], max: i32, levels: &[Level], definitive: Option<i32>, tolerance: i32) -> String {
    let mut s = String::with_capacity(2048);
    let mut counts: BTreeMap<i32, usize> = BTreeMap::new();
    for m in marks {
        *counts.entry(*m).or_default() += 1;
    }
    let label = match definitive {
        Some(d) => format!("{} marks on the 0 to {max} scale; definitive mark {d}, tolerance ±{tolerance}", marks.len()),
        None => format!("{} marks on the 0 to {max} scale; no definitive mark yet", marks.len()),
    };
    let mut desc = described(&counts);
    if let Some(d) = definitive {
        let (lo, hi) = (d.saturating_sub(tolerance).max(0), d.saturating_add(tolerance).min(max));
        let outside = marks.iter().filter(|&&m| m < lo || m > hi).count();
        desc.push_str(&format!(" Within tolerance: {lo} to {hi}; {outside} outside."));
    }
    let _ = write!(
        s,
        r#"<svg class="strip" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title><desc>{desc}</desc>"#
    );
    if let Some(d) = definitive {
        let (a, b) =
            (x(f64::from(d.saturating_sub(tolerance)).max(0.0) - 0.5, max), x(f64::from(d.saturating_add(tolerance).min(max)) + 0.5, max));
        let (a, b) = (a.max(LEFT - 6.0), b.min(WIDTH - RIGHT + 6.0));
        let _ = write!(s, r#"<rect class="tolerance" x="{a:.1}" y="{TOP}" width="{:.1}" height="{:.1}"/>"#, (b - a).max(1.0), AXIS_Y - TOP);
    }
    // Band boundaries with their level numbers; a label too close to the last one
    // is left out rather than printed over it (the band line still shows).
    let mut last_label = f64::NEG_INFINITY;
    for l in levels {
        let left = x(f64::from(l.min) - 0.5, max).max(LEFT - 6.0);
        if l.min > 0 {
            let _ = write!(s, r#"<line class="band" x1="{left:.1}" x2="{left:.1}" y1="{TOP}" y2="{AXIS_Y}"/>"#);
        }
        let mid = x(f64::from(l.min + l.max) / 2.0, max);
        if mid - last_label >= 2.0 * LABEL_PX {
            let _ = write!(s, r#"<text class="band-label" x="{mid:.1}" y="{:.1}" font-size="{LABEL_PX}">L{}</text>"#, TOP - 5.0, l.level);
            last_label = mid;
        }
    }
    let _ = write!(s, r#"<line class="axis" x1="{LEFT}" x2="{:.1}" y1="{AXIS_Y}" y2="{AXIS_Y}"/>"#, WIDTH - RIGHT);
    let step = tick_step(max);
    for m in (0..=max).step_by(step) {
        let px = x(f64::from(m), max);
        let _ = write!(
            s,
            r#"<line class="tick" x1="{px:.1}" x2="{px:.1}" y1="{AXIS_Y}" y2="{:.1}"/><text class="tick-label" x="{px:.1}" y="{:.1}" font-size="{LABEL_PX}">{m}</text>"#,
            AXIS_Y + 4.0,
            AXIS_Y + 4.0 + LABEL_PX + 1.0
        );
    }
    // Marks: identical marks stack upwards (many examiners → smaller dots).
    let tallest = counts.values().copied().max().unwrap_or(1);
    if tallest <= MAX_STACK {
        // Few marks: one dot each, so every examiner can be counted.
        let step_y = ((AXIS_Y - TOP - 4.0) / tallest as f64).min(8.0);
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
            let h = (AXIS_Y - TOP - LABEL_PX) * n as f64 / tallest as f64;
            let _ = write!(
                s,
                r#"<rect class="mark-bar" x="{:.1}" y="{:.1}" width="{width:.1}" height="{h:.1}"><title>{n} at {m}</title></rect><text class="count" x="{px:.1}" y="{:.1}" font-size="{LABEL_PX}">{n}</text>"#,
                px - width / 2.0,
                AXIS_Y - h,
                AXIS_Y - h - 1.5
            );
        }
    }
    if let Some(d) = definitive {
        let px = x(f64::from(d), max);
        let _ = write!(s, r#"<line class="definitive" x1="{px:.1}" x2="{px:.1}" y1="{TOP}" y2="{AXIS_Y}"/>"#);
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
        assert!(svg.contains("definitive mark 8, tolerance ±1"));
        assert!(svg.contains(r#"role="img" aria-label="4 marks"#) && svg.contains("<title>4 marks on the 0 to 12 scale"));
        assert!(svg.contains("<desc>Marks given: 3: 1 mark; 8: 2 marks; 10: 1 mark. Within tolerance: 7 to 9; 2 outside.</desc>"));
        assert!(svg.contains(r#"font-size="13""#), "labels readable at their natural size");
        let many: Vec<i32> = (0..500).map(|i| i % 13).collect();
        let big = strip_plot(&many, 12, &levels, Some(8), 1);
        assert_eq!(big.matches("<rect class=\"mark-bar\"").count(), 13, "one bar per mark value");
        assert!(big.len() < 6000, "a large panel's plot stays small");
        let none = strip_plot(&[], 12, &levels, None, 1);
        assert!(none.contains("no definitive mark yet") && !none.contains("tolerance\""));
        assert!(none.contains("No marks submitted yet."));
    }

    #[test]
    fn tick_numbers_keep_apart() {
        assert_eq!([12, 24, 30, 40, 100, 1, 0].map(tick_step), [1, 2, 2, 5, 10, 1, 1]);
    }
}
