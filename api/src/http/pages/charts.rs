//! Charts drawn on the server as inline SVG: a few hundred bytes each, no script, readable by
//! screen readers through their `aria-label`, sharp on any screen.

use chrono::NaiveDate;

use super::shell::esc;

const GREEN: &str = "#07794a";
const TRACK: &str = "#e5e5e5";
const INK: &str = "#191919";
const MUTED: &str = "#4c4c4c";

/// Per cent of `goal`, one decimal, for labels.
pub fn percent(value: u64, goal: u64) -> String {
    if goal == 0 {
        return "—".into();
    }
    format!("{:.1}%", value as f64 * 100.0 / goal as f64)
}

fn share(value: u64, goal: u64) -> f64 {
    if goal == 0 {
        0.0
    } else {
        (value as f64 / goal as f64).clamp(0.0, 1.0)
    }
}

/// One bar toward a goal, its share written at its end.
pub fn progress_bar(value: u64, goal: u64, label: &str) -> String {
    const WIDTH: f64 = 260.0;
    let filled = WIDTH * share(value, goal);
    format!(
        "<svg viewBox=\"0 0 320 24\" width=\"320\" height=\"24\" role=\"img\" aria-label=\"{label}\">\
         <rect width=\"{WIDTH}\" height=\"16\" y=\"4\" rx=\"8\" fill=\"{TRACK}\"/>\
         <rect width=\"{filled:.1}\" height=\"16\" y=\"4\" rx=\"8\" fill=\"{GREEN}\"/>\
         <text x=\"{text_x}\" y=\"17\" font-size=\"13\" fill=\"{INK}\">{share}</text></svg>",
        label = esc(label),
        text_x = WIDTH + 6.0,
        share = percent(value, goal),
    )
}

/// A row of [`bars`]: its name, what is done and out of how many.
pub struct BarRow<'a> {
    pub name: &'a str,
    pub done: u64,
    pub total: u64,
    /// Where the row's name links to, if anywhere.
    pub href: Option<String>,
}

/// Horizontal bars, one a row, each filled to its share and labelled `done/total`.
pub fn bars(rows: &[BarRow<'_>], label: &str) -> String {
    const ROW: f64 = 24.0;
    const NAME: f64 = 100.0;
    const BAR: f64 = 150.0;
    let height = ROW * rows.len() as f64 + 4.0;
    let mut svg = format!(
        "<svg viewBox=\"0 0 340 {height}\" width=\"340\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
        esc(label)
    );
    for (i, row) in rows.iter().enumerate() {
        let y = ROW * i as f64 + 4.0;
        let name = esc(&shorten(row.name, 7));
        let name = match &row.href {
            Some(href) => format!(
                "<a href=\"{}\"><text x=\"0\" y=\"{ty}\" font-size=\"13\" fill=\"#576b95\">{name}</text></a>",
                esc(href),
                ty = y + 12.0
            ),
            None => format!(
                "<text x=\"0\" y=\"{ty}\" font-size=\"13\" fill=\"{INK}\">{name}</text>",
                ty = y + 12.0
            ),
        };
        svg.push_str(&format!(
            "{name}<rect x=\"{NAME}\" y=\"{y}\" width=\"{BAR}\" height=\"14\" rx=\"4\" fill=\"{TRACK}\"/>\
             <rect x=\"{NAME}\" y=\"{y}\" width=\"{filled:.1}\" height=\"14\" rx=\"4\" fill=\"{GREEN}\"/>\
             <text x=\"{tx}\" y=\"{ty}\" font-size=\"12\" fill=\"{MUTED}\">{done}/{total}</text>",
            filled = BAR * share(row.done, row.total),
            tx = NAME + BAR + 6.0,
            ty = y + 12.0,
            done = row.done,
            total = row.total,
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The first `max` characters, with an ellipsis when there were more.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut short: String = s.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}

/// A line of how a number grew, day by day, against the targets it should reach by some days
/// (a dashed line through them), on a scale up to `goal`.
pub fn growth(
    points: &[(NaiveDate, u64)],
    targets: &[(NaiveDate, u64)],
    goal: u64,
    label: &str,
) -> String {
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 330.0;
    const TOP: f64 = 10.0;
    const BOTTOM: f64 = 150.0;
    let days = points.iter().chain(targets).map(|(d, _)| *d);
    let (Some(first), Some(last)) = (days.clone().min(), days.max()) else {
        return String::new();
    };
    let span = (last - first).num_days().max(1) as f64;
    let top = goal
        .max(
            points
                .iter()
                .chain(targets)
                .map(|(_, v)| *v)
                .max()
                .unwrap_or(0),
        )
        .max(1) as f64;
    let x = |d: NaiveDate| LEFT + (RIGHT - LEFT) * (d - first).num_days() as f64 / span;
    let y = |v: u64| BOTTOM - (BOTTOM - TOP) * v as f64 / top;

    let mut svg = format!(
        "<svg viewBox=\"0 0 340 178\" width=\"340\" height=\"178\" role=\"img\" aria-label=\"{}\">\
         <line x1=\"{LEFT}\" y1=\"{BOTTOM}\" x2=\"{RIGHT}\" y2=\"{BOTTOM}\" stroke=\"{MUTED}\"/>\
         <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{BOTTOM}\" stroke=\"{MUTED}\"/>\
         <text x=\"{lx}\" y=\"{gy}\" font-size=\"11\" fill=\"{MUTED}\" text-anchor=\"end\">{goal_label}</text>\
         <text x=\"{lx}\" y=\"{BOTTOM}\" font-size=\"11\" fill=\"{MUTED}\" text-anchor=\"end\">0</text>\
         <text x=\"{LEFT}\" y=\"170\" font-size=\"11\" fill=\"{MUTED}\">{first}</text>\
         <text x=\"{RIGHT}\" y=\"170\" font-size=\"11\" fill=\"{MUTED}\" text-anchor=\"end\">{last}</text>",
        esc(label),
        lx = LEFT - 4.0,
        gy = y(goal) + 4.0,
        goal_label = compact(goal),
    );
    if goal > 0 {
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" y1=\"{gy:.1}\" x2=\"{RIGHT}\" y2=\"{gy:.1}\" stroke=\"{TRACK}\"/>",
            gy = y(goal)
        ));
    }
    if !targets.is_empty() {
        // The plan runs from target to target; each is marked where it falls due.
        let line: Vec<String> = targets
            .iter()
            .map(|(d, v)| format!("{:.1},{:.1}", x(*d), y(*v)))
            .collect();
        svg.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#a35f00\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>",
            line.join(" ")
        ));
        for (d, v) in targets {
            svg.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#fff\" stroke=\"#a35f00\"/>",
                x(*d),
                y(*v)
            ));
        }
    }
    if !points.is_empty() {
        let line: Vec<String> = points
            .iter()
            .map(|(d, v)| format!("{:.1},{:.1}", x(*d), y(*v)))
            .collect();
        svg.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{GREEN}\" stroke-width=\"2.5\"/>",
            line.join(" ")
        ));
        if let Some((d, v)) = points.last() {
            svg.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{GREEN}\"/>",
                x(*d),
                y(*v)
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// `135000` as `13.5万`: axis labels stay short.
fn compact(n: u64) -> String {
    if n >= 10_000 {
        format!("{:.1}万", n as f64 / 10_000.0)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_is_filled_to_its_share_and_never_past_it() {
        let half = progress_bar(81, 162, "villages");
        assert!(half.contains("width=\"130.0\""), "{half}");
        assert!(half.contains("50.0%"));
        let over = progress_bar(200, 162, "villages");
        assert!(over.contains("width=\"260.0\""), "{over}");
        assert!(progress_bar(0, 0, "none").contains("—"));
    }

    #[test]
    fn bars_name_rows_and_escape_them() {
        let svg = bars(
            &[
                BarRow {
                    name: "<镇>",
                    done: 1,
                    total: 4,
                    href: None,
                },
                BarRow {
                    name: "很长很长的乡镇名字啊",
                    done: 0,
                    total: 0,
                    href: Some("/o?area=1".into()),
                },
            ],
            "per township",
        );
        assert!(svg.contains("&lt;镇&gt;"));
        assert!(svg.contains("很长很长的乡…"));
        assert!(svg.contains("1/4") && svg.contains("0/0"));
        assert!(svg.contains("href=\"/o?area=1\""));
    }

    #[test]
    fn growth_places_the_last_point_and_the_targets() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
        let svg = growth(
            &[(day(1), 0), (day(11), 50)],
            &[(day(21), 100)],
            100,
            "people",
        );
        assert!(
            svg.contains("<polyline points=\"44.0,150.0 187.0,80.0\""),
            "{svg}"
        );
        assert!(svg.contains("stroke-dasharray"));
        assert!(growth(&[], &[], 100, "nothing").is_empty());
        assert_eq!(compact(135_000), "13.5万");
    }
}
