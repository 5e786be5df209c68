//! Charts drawn on the server as inline SVG: a few hundred bytes each, no script, readable by
//! screen readers through their `aria-label`, sharp on any screen.
//!
//! The geometry is worked out here into plain structs; `templates/partials/charts.html` draws
//! them (`{% call charts::bars(rows, label) %}{% endcall %}`), with the page's own words as the
//! label.

use chrono::NaiveDate;

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
#[derive(Debug)]
pub struct ProgressBar {
    /// How much of the 260 px track is filled.
    pub filled: f64,
    /// `50.0%`.
    pub share: String,
}

impl ProgressBar {
    const WIDTH: f64 = 260.0;

    pub fn new(value: u64, goal: u64) -> Self {
        Self {
            filled: Self::WIDTH * share(value, goal),
            share: percent(value, goal),
        }
    }
}

/// A row of [`Bars`] as the page has it: its name, what is done and out of how many.
pub struct BarRow<'a> {
    pub name: &'a str,
    pub done: u64,
    pub total: u64,
    /// Where the row's name links to, if anywhere.
    pub href: Option<String>,
}

/// Horizontal bars, one a row, each filled to its share and labelled `done/total`.
#[derive(Debug)]
pub struct Bars {
    pub height: f64,
    pub rows: Vec<Bar>,
}

/// One row of [`Bars`], placed.
#[derive(Debug)]
pub struct Bar {
    /// The name, shortened to fit before the bar.
    pub name: String,
    pub href: Option<String>,
    /// The top of the bar, and the baseline of its texts.
    pub y: f64,
    pub text_y: f64,
    pub filled: f64,
    pub done: u64,
    pub total: u64,
}

impl Bars {
    const ROW: f64 = 24.0;
    const BAR: f64 = 150.0;

    pub fn new<'a>(rows: impl IntoIterator<Item = BarRow<'a>>) -> Self {
        let rows: Vec<Bar> = rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                let y = Self::ROW * i as f64 + 4.0;
                Bar {
                    name: shorten(row.name, 7),
                    href: row.href,
                    y,
                    text_y: y + 12.0,
                    filled: Self::BAR * share(row.done, row.total),
                    done: row.done,
                    total: row.total,
                }
            })
            .collect();
        Self {
            height: Self::ROW * rows.len() as f64 + 4.0,
            rows,
        }
    }
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

/// A point of a [`Growth`] chart, in the chart's pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// A line of how a number grew, day by day, against the targets it should reach by some days
/// (a dashed line through them), on a scale up to its goal.
#[derive(Debug)]
pub struct Growth {
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// The goal on the axis (`13.5万`), and where its label and its line stand.
    pub goal_label: String,
    pub goal_label_y: f64,
    pub goal_y: Option<f64>,
    /// The plan, target to target; each is marked where it falls due.
    pub targets: Vec<Point>,
    /// The line, and its last point marked.
    pub line: Vec<Point>,
    pub latest: Option<Point>,
}

impl Growth {
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 330.0;
    const TOP: f64 = 10.0;
    const BOTTOM: f64 = 150.0;

    /// Nothing to draw without a day.
    pub fn new(
        points: &[(NaiveDate, u64)],
        targets: &[(NaiveDate, u64)],
        goal: u64,
    ) -> Option<Self> {
        let days = points.iter().chain(targets).map(|(d, _)| *d);
        let (first, last) = (days.clone().min()?, days.max()?);
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
        let y = |v: u64| Self::BOTTOM - (Self::BOTTOM - Self::TOP) * v as f64 / top;
        let at = |(d, v): &(NaiveDate, u64)| Point {
            x: Self::LEFT + (Self::RIGHT - Self::LEFT) * (*d - first).num_days() as f64 / span,
            y: y(*v),
        };
        let line: Vec<Point> = points.iter().map(at).collect();
        Some(Self {
            first,
            last,
            goal_label: compact(goal),
            goal_label_y: y(goal) + 4.0,
            goal_y: (goal > 0).then(|| y(goal)),
            targets: targets.iter().map(at).collect(),
            latest: line.last().copied(),
            line,
        })
    }
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
    use askama::Template;

    use super::*;

    /// The charts as a page draws them.
    #[derive(Template)]
    #[template(
        source = r#"{% import "partials/charts.html" as charts %}
{% if let Some(bar) = bar %}{% call charts::progress_bar(bar, label) %}{% endcall %}{% endif %}
{% if let Some(bars) = bars %}{% call charts::bars(bars, label) %}{% endcall %}{% endif %}
{% if let Some(growth) = growth %}{% call charts::growth(growth, label) %}{% endcall %}{% endif %}"#,
        ext = "html"
    )]
    struct Drawn<'a> {
        label: &'a str,
        bar: Option<ProgressBar>,
        bars: Option<Bars>,
        growth: Option<Growth>,
    }

    fn drawn(bar: Option<ProgressBar>, bars: Option<Bars>, growth: Option<Growth>) -> String {
        let page = Drawn {
            label: "a <chart>",
            bar,
            bars,
            growth,
        };
        crate::http::pages::shell::render(&page).unwrap()
    }

    #[test]
    fn a_bar_is_filled_to_its_share_and_never_past_it() {
        let half = drawn(Some(ProgressBar::new(81, 162)), None, None);
        assert_eq!(
            half,
            "<svg viewBox=\"0 0 320 24\" width=\"320\" height=\"24\" role=\"img\" aria-label=\"a &#60;chart&#62;\">\
             <rect width=\"260\" height=\"16\" y=\"4\" rx=\"8\" fill=\"#e5e5e5\"/>\
             <rect width=\"130.0\" height=\"16\" y=\"4\" rx=\"8\" fill=\"#07794a\"/>\
             <text x=\"266\" y=\"17\" font-size=\"14\" fill=\"#191919\">50.0%</text></svg>"
        );
        let over = drawn(Some(ProgressBar::new(200, 162)), None, None);
        assert!(over.contains("width=\"260.0\""), "{over}");
        assert_eq!(ProgressBar::new(0, 0).share, "—");
    }

    #[test]
    fn bars_name_rows_and_escape_them_with_links_left_to_the_rows_below() {
        let bars = Bars::new([
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
        ]);
        let svg = drawn(None, Some(bars), None);
        assert_eq!(
            svg,
            "<svg viewBox=\"0 0 340 52\" width=\"340\" height=\"52\" role=\"img\" aria-label=\"a &#60;chart&#62;\">\
             <text x=\"0\" y=\"16\" font-size=\"14\" fill=\"#191919\">&#60;镇&#62;</text>\
             <rect x=\"100\" y=\"4\" width=\"150\" height=\"14\" rx=\"4\" fill=\"#e5e5e5\"/>\
             <rect x=\"100\" y=\"4\" width=\"37.5\" height=\"14\" rx=\"4\" fill=\"#07794a\"/>\
             <text x=\"256\" y=\"16\" font-size=\"14\" fill=\"#4c4c4c\">1/4</text>\
             <text x=\"0\" y=\"40\" font-size=\"14\" fill=\"#191919\">很长很长的乡…</text>\
             <rect x=\"100\" y=\"28\" width=\"150\" height=\"14\" rx=\"4\" fill=\"#e5e5e5\"/>\
             <rect x=\"100\" y=\"28\" width=\"0.0\" height=\"14\" rx=\"4\" fill=\"#07794a\"/>\
             <text x=\"256\" y=\"40\" font-size=\"14\" fill=\"#4c4c4c\">0/0</text></svg>"
        );
    }

    #[test]
    fn growth_places_the_last_point_and_the_targets() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
        let growth = Growth::new(&[(day(1), 0), (day(11), 50)], &[(day(21), 100)], 100);
        let svg = drawn(None, None, growth);
        assert_eq!(
            svg,
            "<svg viewBox=\"0 0 340 178\" width=\"340\" height=\"178\" role=\"img\" aria-label=\"a &#60;chart&#62;\">\
             <line x1=\"44\" y1=\"150\" x2=\"330\" y2=\"150\" stroke=\"#4c4c4c\"/>\
             <line x1=\"44\" y1=\"10\" x2=\"44\" y2=\"150\" stroke=\"#4c4c4c\"/>\
             <text x=\"48\" y=\"14\" font-size=\"14\" fill=\"#4c4c4c\">100</text>\
             <text x=\"40\" y=\"150\" font-size=\"14\" fill=\"#4c4c4c\" text-anchor=\"end\">0</text>\
             <text x=\"44\" y=\"170\" font-size=\"14\" fill=\"#4c4c4c\">2026-01-01</text>\
             <text x=\"330\" y=\"170\" font-size=\"14\" fill=\"#4c4c4c\" text-anchor=\"end\">2026-01-21</text>\
             <line x1=\"44\" y1=\"10.0\" x2=\"330\" y2=\"10.0\" stroke=\"#e5e5e5\"/>\
             <polyline points=\"330.0,10.0\" fill=\"none\" stroke=\"#a35f00\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\
             <circle cx=\"330.0\" cy=\"10.0\" r=\"3\" fill=\"#fff\" stroke=\"#a35f00\"/>\
             <polyline points=\"44.0,150.0 187.0,80.0\" fill=\"none\" stroke=\"#07794a\" stroke-width=\"2.5\"/>\
             <circle cx=\"187.0\" cy=\"80.0\" r=\"4\" fill=\"#07794a\"/></svg>"
        );
        assert!(Growth::new(&[], &[], 100).is_none());
        assert_eq!(compact(135_000), "13.5万");
    }
}
