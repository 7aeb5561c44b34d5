//! Charts for the report, drawn with plotters' SVG backend into strings that are inlined in the
//! HTML: lines with 95% bands over weeks, grouped bars with 95% error bars, scatters of places
//! and ranked dots with 95% intervals. Every chart carries an SVG `<title>` so screen readers
//! and the report test can find it.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::ReportError;

/// Okabe–Ito colours, distinguishable with the common colour-vision deficiencies.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(230, 159, 0),   // orange
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(120, 120, 120), // grey
];

/// The counterfactual is drawn in near-black so it reads as the reference line.
pub const BASELINE_COLOUR: RGBColor = RGBColor(40, 40, 40);

const FONT: &str = "sans-serif";
const WIDTH: u32 = 960;
const HEIGHT: u32 = 400;

/// A line with its 95% band, one value per week (NaN where undefined).
pub struct Band {
    pub name: String,
    pub colour: RGBColor,
    pub mean: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

/// A value with an optional 95% interval.
#[derive(Clone, Copy)]
pub struct Bar {
    pub value: f64,
    pub ci: Option<(f64, f64)>,
}

/// A chart's identity in the report: `id` for links, `title` for headings and the SVG title.
pub struct ChartSpec<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
}

fn chart_error(spec: &ChartSpec, e: impl std::fmt::Display) -> ReportError {
    ReportError::Chart {
        chart: spec.id.to_string(),
        message: e.to_string(),
    }
}

/// Puts an accessible `<title>` first inside the `<svg>` element plotters wrote.
fn with_title(svg: String, spec: &ChartSpec) -> String {
    let title = super::escape(spec.title);
    match svg
        .find("<svg")
        .and_then(|s| svg[s..].find('>').map(|e| s + e))
    {
        Some(end) => format!(
            "{} role=\"img\" aria-labelledby=\"t-{id}\" id=\"svg-{id}\"><title id=\"t-{id}\">{title}</title>{}",
            &svg[..end],
            &svg[end + 1..],
            id = spec.id
        ),
        None => svg,
    }
}

/// The finite range of some values, padded so lines do not touch the frame; includes 0 if
/// `with_zero`.
fn y_range(values: impl Iterator<Item = f64>, with_zero: bool, headroom: f64) -> (f64, f64) {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if with_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let pad = ((hi - lo) * 0.08)
        .max(hi.abs().max(lo.abs()) * 1e-3)
        .max(1e-9);
    // Headroom at the top keeps the legend (upper right) clear of the data.
    (
        lo - if with_zero && lo == 0.0 { 0.0 } else { pad },
        hi + pad + (hi - lo) * headroom,
    )
}

/// A number for an axis label: no more decimals than the tick spacing needs.
fn axis_label(v: f64, span: f64) -> String {
    let decimals = if span >= 50.0 {
        0
    } else {
        (2.0 - span.log10().floor()).clamp(0.0, 4.0) as usize
    };
    let text = format!("{v:.decimals$}");
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_string()
    } else {
        text.replacen('-', "−", 1)
    }
}

/// Lines with 95% bands over weeks 0..n.
pub fn band_chart(
    spec: &ChartSpec,
    bands: &[Band],
    with_zero: bool,
) -> Result<String, ReportError> {
    let weeks = bands.iter().map(|b| b.mean.len()).max().unwrap_or(0).max(1);
    let (y0, y1) = y_range(
        bands
            .iter()
            .flat_map(|b| b.lo.iter().chain(&b.hi).chain(&b.mean).copied()),
        with_zero,
        0.3,
    );
    render(spec, HEIGHT, |root| {
        draw_bands(root, spec, bands, weeks, (y0, y1), with_zero)
    })
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws a chart of `height` pixels with `draw` into an SVG string, titled from `spec`; a
/// drawing error names the chart.
fn render(
    spec: &ChartSpec,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> DrawResult,
) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        draw(&root).map_err(|e| chart_error(spec, e))?;
        root.present().map_err(|e| chart_error(spec, e))?;
    }
    Ok(with_title(svg, spec))
}

fn draw_bands(
    root: &DrawingArea<SVGBackend, Shift>,
    spec: &ChartSpec,
    bands: &[Band],
    weeks: usize,
    (y0, y1): (f64, f64),
    with_zero: bool,
) -> DrawResult {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(78)
        .build_cartesian_2d(0f64..(weeks - 1).max(1) as f64, y0..y1)?;
    let span = y1 - y0;
    chart
        .configure_mesh()
        .x_desc(spec.x_desc)
        .y_desc(spec.y_desc)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| axis_label(*y, span))
        .draw()?;
    if with_zero && y0 < 0.0 && y1 > 0.0 {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), ((weeks - 1) as f64, 0.0)],
            BLACK.stroke_width(1),
        )))?;
    }
    for band in bands {
        let upper: Vec<(f64, f64)> = band
            .hi
            .iter()
            .zip(&band.lo)
            .enumerate()
            .filter(|(_, (h, l))| h.is_finite() && l.is_finite())
            .map(|(w, (h, _))| (w as f64, *h))
            .collect();
        let lower: Vec<(f64, f64)> = band
            .lo
            .iter()
            .zip(&band.hi)
            .enumerate()
            .filter(|(_, (l, h))| h.is_finite() && l.is_finite())
            .map(|(w, (l, _))| (w as f64, *l))
            .rev()
            .collect();
        if upper.len() > 1 {
            let outline: Vec<(f64, f64)> = upper.into_iter().chain(lower).collect();
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                band.colour.mix(0.18).filled(),
            )))?;
        }
    }
    for band in bands {
        let colour = band.colour;
        let points: Vec<(f64, f64)> = band
            .mean
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(w, v)| (w as f64, *v))
            .collect();
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
            .label(band.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(4))
            });
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}

/// Grouped bars: `values[group][series]`, each with an optional 95% interval drawn as an error
/// bar. `None` leaves a gap (e.g. a metric undefined for an arm).
pub fn bar_chart(
    spec: &ChartSpec,
    groups: &[String],
    series: &[(String, RGBColor)],
    values: &[Vec<Option<Bar>>],
) -> Result<String, ReportError> {
    let all = values.iter().flatten().flatten().flat_map(|b| {
        let (lo, hi) = b.ci.unwrap_or((b.value, b.value));
        [b.value, lo, hi]
    });
    let (y0, y1) = y_range(all, true, 0.45);
    render(spec, HEIGHT, |root| {
        draw_bars(root, spec, groups, series, values, (y0, y1))
    })
}

fn draw_bars(
    root: &DrawingArea<SVGBackend, Shift>,
    spec: &ChartSpec,
    groups: &[String],
    series: &[(String, RGBColor)],
    values: &[Vec<Option<Bar>>],
    (y0, y1): (f64, f64),
) -> DrawResult {
    root.fill(&WHITE)?;
    let n = groups.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(78)
        .build_cartesian_2d(0f64..n as f64, y0..y1)?;
    let span = y1 - y0;
    // Ticks every half unit: group names go on the half ticks (the group centres).
    let label = |x: &f64| {
        let centre = x - x.floor();
        if (centre - 0.5).abs() < 1e-6 {
            groups.get(x.floor() as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(2 * n + 1)
        .x_label_formatter(&label)
        .x_desc(spec.x_desc)
        .y_desc(spec.y_desc)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .y_label_formatter(&|y| axis_label(*y, span))
        .draw()?;
    if y0 < 0.0 && y1 > 0.0 {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (n as f64, 0.0)],
            BLACK.stroke_width(1),
        )))?;
    }
    let width = 0.8 / series.len().max(1) as f64;
    for (s, (name, colour)) in series.iter().enumerate() {
        let colour = *colour;
        let mut rects = Vec::new();
        let mut whiskers = Vec::new();
        for (g, row) in values.iter().enumerate() {
            let Some(Some(bar)) = row.get(s) else {
                continue;
            };
            if !bar.value.is_finite() {
                continue;
            }
            let x0 = g as f64 + 0.1 + s as f64 * width;
            let x1 = x0 + width * 0.92;
            rects.push(Rectangle::new(
                [(x0, 0.0), (x1, bar.value)],
                colour.filled(),
            ));
            if let Some((lo, hi)) = bar.ci.filter(|(l, h)| l.is_finite() && h.is_finite()) {
                let xm = (x0 + x1) / 2.0;
                let cap = width * 0.2;
                whiskers.push(PathElement::new(
                    vec![(xm, lo), (xm, hi)],
                    BLACK.stroke_width(2),
                ));
                for y in [lo, hi] {
                    whiskers.push(PathElement::new(
                        vec![(xm - cap, y), (xm + cap, y)],
                        BLACK.stroke_width(2),
                    ));
                }
            }
        }
        chart
            .draw_series(rects)?
            .label(name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], colour.filled()));
        chart.draw_series(whiskers)?;
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}

/// One series of a scatter: points (x, y), non-finite ones left out.
pub struct Points {
    pub name: String,
    pub colour: RGBColor,
    pub points: Vec<(f64, f64)>,
}

/// A scatter of points, one colour per series; y starts at zero.
pub fn scatter_chart(spec: &ChartSpec, series: &[Points]) -> Result<String, ReportError> {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let xs = series
        .iter()
        .flat_map(|s| s.points.iter().filter(finite).map(|p| p.0));
    let ys = series
        .iter()
        .flat_map(|s| s.points.iter().filter(finite).map(|p| p.1));
    let (x0, x1) = y_range(xs, false, 0.0);
    let (y0, y1) = y_range(ys, true, 0.3);
    render(spec, HEIGHT, |root| {
        draw_scatter(root, spec, series, (x0, x1), (y0, y1))
    })
}

fn draw_scatter(
    root: &DrawingArea<SVGBackend, Shift>,
    spec: &ChartSpec,
    series: &[Points],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> DrawResult {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(78)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let (x_span, y_span) = (x1 - x0, y1 - y0);
    chart
        .configure_mesh()
        .x_desc(spec.x_desc)
        .y_desc(spec.y_desc)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .x_label_formatter(&|x| axis_label(*x, x_span))
        .y_label_formatter(&|y| axis_label(*y, y_span))
        .draw()?;
    let radius = marker_radius(series.iter().map(|s| s.points.len()).sum());
    for s in series {
        let colour = s.colour;
        let dots = s
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|p| Circle::new(*p, radius, colour.mix(0.8).filled()));
        chart
            .draw_series(dots)?
            .label(s.name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], colour.filled()));
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// Smaller markers when there are many, so a thousand PCNs stay legible.
fn marker_radius(points: usize) -> u32 {
    match points {
        0..=200 => 5,
        201..=1000 => 3,
        _ => 2,
    }
}

fn draw_legend<'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> DrawResult {
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .position(position)
        .draw()?;
    Ok(())
}

/// A value of one place with its 95% interval, for a ranked chart.
#[derive(Clone)]
pub struct Ranked {
    pub label: String,
    pub value: f64,
    pub ci: Option<(f64, f64)>,
}

/// At most this many places get a label each on a ranked chart; beyond, the axis shows ranks.
pub const RANKED_LABELS_MAX: usize = 40;

/// Places in the given order, top to bottom, each a dot with its 95% interval: a forest plot.
/// Up to [`RANKED_LABELS_MAX`] places are labelled by name; more are labelled by rank.
pub fn ranked_chart(
    spec: &ChartSpec,
    series: (&str, RGBColor),
    items: &[Ranked],
) -> Result<String, ReportError> {
    let values = items.iter().flat_map(|r| {
        let (lo, hi) = r.ci.unwrap_or((r.value, r.value));
        [r.value, lo, hi]
    });
    let (x0, x1) = y_range(values, true, 0.0);
    let labelled = items.len() <= RANKED_LABELS_MAX;
    let height = if labelled {
        (110 + 22 * items.len() as u32).max(260)
    } else {
        560
    };
    render(spec, height, |root| {
        draw_ranked(root, spec, series, items, (x0, x1), labelled)
    })
}

/// A place's label on a ranked chart, cut to fit the label area.
fn short_label(label: &str) -> String {
    const MAX: usize = 34;
    if label.chars().count() <= MAX {
        return label.to_string();
    }
    let cut: String = label.chars().take(MAX - 1).collect();
    format!("{}…", cut.trim_end())
}

fn draw_ranked(
    root: &DrawingArea<SVGBackend, Shift>,
    spec: &ChartSpec,
    (name, colour): (&str, RGBColor),
    items: &[Ranked],
    (x0, x1): (f64, f64),
    labelled: bool,
) -> DrawResult {
    root.fill(&WHITE)?;
    let n = items.len().max(1) as i32;
    let mut chart = ChartBuilder::on(root)
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(if labelled { 290 } else { 78 })
        .build_cartesian_2d(x0..x1, (0..n).into_segmented())?;
    // The first item is drawn at the top: item i sits in segment n - 1 - i.
    let segment = |i: usize| SegmentValue::CenterOf(n - 1 - i as i32);
    let label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(s) | SegmentValue::Exact(s) => {
            let i = (n - 1 - s) as usize;
            if labelled {
                items
                    .get(i)
                    .map_or_else(String::new, |r| short_label(&r.label))
            } else {
                format!("{}", i + 1)
            }
        }
        SegmentValue::Last => String::new(),
    };
    let span = x1 - x0;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(if labelled { items.len() } else { 10 })
        .y_label_formatter(&label)
        .x_label_formatter(&|x| axis_label(*x, span))
        .x_desc(spec.x_desc)
        .y_desc(spec.y_desc)
        .label_style((FONT, if labelled { 13 } else { 15 }))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    let intervals = items.iter().enumerate().filter_map(|(i, r)| {
        let (lo, hi) = r.ci.filter(|(l, h)| l.is_finite() && h.is_finite())?;
        Some(PathElement::new(
            vec![(lo, segment(i)), (hi, segment(i))],
            colour.mix(0.6).stroke_width(if labelled { 2 } else { 1 }),
        ))
    });
    chart.draw_series(intervals)?;
    let radius = marker_radius(items.len()).min(4);
    let dots = items
        .iter()
        .enumerate()
        .filter(|(_, r)| r.value.is_finite())
        .map(|(i, r)| Circle::new((r.value, segment(i)), radius, colour.filled()));
    chart
        .draw_series(dots)?
        .label(name.to_string())
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], colour.filled()));
    draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
}
