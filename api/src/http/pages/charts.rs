//! Charts drawn on the server: progress and growth as inline SVG, a few hundred bytes each, no
//! script, readable by screen readers through their `aria-label`, sharp on any screen; bars of
//! many rows as a plain list.
//!
//! The geometry is worked out here into plain structs; `templates/partials/charts.html` draws
//! them (`{% call charts::growth(chart, label) %}{% endcall %}`), with the page's own words as
//! the label.

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

/// Bars, one a row, each filled to its share and labelled `done/total`: an HTML list rather
/// than a drawing, so a county's forty townships cost a few kilobytes, each name wraps instead
/// of being cut, and a row that links is a link of full tap size.
#[derive(Debug)]
pub struct Bars {
    pub rows: Vec<Bar>,
}

/// One row of [`Bars`].
#[derive(Debug)]
pub struct Bar {
    pub name: String,
    pub href: Option<String>,
    /// How much of the row's track is filled, in per cent with one decimal.
    pub filled: String,
    pub done: u64,
    pub total: u64,
}

impl Bars {
    pub fn new<'a>(rows: impl IntoIterator<Item = BarRow<'a>>) -> Self {
        let rows = rows
            .into_iter()
            .map(|row| Bar {
                name: row.name.to_owned(),
                href: row.href,
                filled: format!("{:.1}", 100.0 * share(row.done, row.total)),
                done: row.done,
                total: row.total,
            })
            .collect();
        Self { rows }
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
{% if let Some(bars) = bars %}{% call charts::bars(bars) %}{% endcall %}{% endif %}
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
    fn bars_name_rows_escape_them_and_link_those_that_open() {
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
        let list = drawn(None, Some(bars), None);
        assert_eq!(
            list,
            "<ol class=\"bl\">\
             <li><b>&#60;镇&#62;</b><span>1/4</span><i style=\"background-size:25.0%\"></i></li>\
             <li><a href=\"/o?area=1\"><b>很长很长的乡镇名字啊</b><span>0/0</span><i style=\"background-size:0.0%\"></i></a></li></ol>"
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
