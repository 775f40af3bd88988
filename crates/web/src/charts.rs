//! Charts as SVG rendered on the server (plotters), so they show without scripts and
//! print as they are: a horizontal bar chart of a ranking, a line chart of a unit's
//! months against last year, and a sparkline of an indicator's months.
//!
//! Labels are SVG text in the page's fonts (CJK included); colours follow the
//! stylesheet's palette.

use plotters::prelude::*;

const RED: RGBColor = RGBColor(0xb9, 0x1c, 0x1c);
const GREY: RGBColor = RGBColor(0x9c, 0xa3, 0xaf);
const BLUE: RGBColor = RGBColor(0x1e, 0x40, 0xaf);
const FONT: &str = "sans-serif";

fn svg_error<E: std::fmt::Display>(e: E) -> String {
    format!("chart: {e}")
}

/// Bars of `(label, value)` from the top, longest first as given; `max` is the axis end.
pub fn bars(rows: &[(String, f64)], max: f64) -> Result<String, String> {
    let height = 28 + 22 * rows.len().max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, height)).into_drawing_area();
        let max = if max > 0.0 { max } else { 1.0 };
        let n = rows.len().max(1) as i32;
        let mut chart = ChartBuilder::on(&root)
            .margin(6)
            .x_label_area_size(20)
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..max, (0..n).into_segmented())
            .map_err(svg_error)?;
        // The y axis counts from the bottom: the first row goes to the top segment.
        let at = |i: usize| n - 1 - i as i32;
        let labels: Vec<String> = rows.iter().rev().map(|(l, _)| l.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE.mix(0.0))
            .y_labels(rows.len().max(1))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .label_style((FONT, 12))
            .draw()
            .map_err(svg_error)?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
                let i = at(i);
                let mut bar = Rectangle::new([(0.0, SegmentValue::Exact(i)), (*v, SegmentValue::Exact(i + 1))], RED.mix(0.85).filled());
                bar.set_margin(3, 3, 0, 0);
                bar
            }))
            .map_err(svg_error)?;
        chart
            .draw_series(
                rows.iter().enumerate().map(|(i, (_, v))| {
                    Text::new(format!("{v:.2}"), (*v, SegmentValue::CenterOf(at(i))), (FONT, 11).into_font().color(&BLACK))
                }),
            )
            .map_err(svg_error)?;
        root.present().map_err(svg_error)?;
    }
    Ok(svg)
}

/// One line per series over months 1–12: `(name, values by month)`, the first in the
/// accent colour, the second grey (last year).
pub fn months(series: &[(String, Vec<(u8, f64)>)], max: f64) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 260)).into_drawing_area();
        let top = if max > 0.0 { max } else { 1.0 };
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(24)
            .y_label_area_size(40)
            .build_cartesian_2d(1u32..12u32, 0.0..top)
            .map_err(svg_error)?;
        chart
            .configure_mesh()
            .x_labels(12)
            .x_label_formatter(&|m| format!("{m}月"))
            .label_style((FONT, 12))
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .draw()
            .map_err(svg_error)?;
        for (i, (name, points)) in series.iter().enumerate() {
            let colour = if i == 0 { RED } else { GREY };
            chart
                .draw_series(LineSeries::new(points.iter().map(|(m, v)| (u32::from(*m), *v)), colour.stroke_width(2)))
                .map_err(svg_error)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2)));
            chart.draw_series(points.iter().map(|(m, v)| Circle::new((u32::from(*m), *v), 3, colour.filled()))).map_err(svg_error)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .label_font((FONT, 12))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(svg_error)?;
        root.present().map_err(svg_error)?;
    }
    Ok(svg)
}

/// A small line of values (an indicator's scores month by month), without axes.
pub fn sparkline(values: &[(u8, f64)], max: f64) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (96, 24)).into_drawing_area();
        let top = if max > 0.0 { max } else { 1.0 };
        let mut chart = ChartBuilder::on(&root).margin(2).build_cartesian_2d(1u32..12u32, 0.0..top).map_err(svg_error)?;
        chart.draw_series(LineSeries::new(values.iter().map(|(m, v)| (u32::from(*m), *v)), BLUE.stroke_width(1))).map_err(svg_error)?;
        if let Some((m, v)) = values.last() {
            chart.draw_series(std::iter::once(Circle::new((u32::from(*m), *v), 2, BLUE.filled()))).map_err(svg_error)?;
        }
        root.present().map_err(svg_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_labels() {
        let svg = bars(&[("区发改局".into(), 92.5), ("城关街道 <b>".into(), 80.0)], 100.0).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("区发改局") && svg.contains("92.50"));
        assert!(!svg.contains("<b>"), "labels are escaped");
        assert!(svg.matches("<rect").count() >= 2);
        // The first row is drawn at the top (rank 1 above rank 2).
        let y_of = |label: &str| {
            let end = svg.find(label).unwrap_or_else(|| panic!("{label} in {svg}"));
            let start = svg[..end].rfind("<text").unwrap();
            let tag = &svg[start..end];
            let y = &tag[tag.find(" y=\"").unwrap() + 4..];
            y[..y.find('"').unwrap()].parse::<f64>().unwrap()
        };
        assert!(y_of("区发改局") < y_of("城关街道 &lt;b&gt;"), "the first row is on top");
        let svg = months(&[("2027".into(), vec![(1, 70.0), (2, 75.5)]), ("2026".into(), vec![(1, 60.0)])], 100.0).unwrap();
        assert!(svg.contains("<polyline") && svg.contains("2026") && svg.contains("12月"));
        let svg = sparkline(&[(1, 1.0), (2, 2.0), (3, 1.5)], 2.0).unwrap();
        assert!(svg.contains("<polyline"));
        assert!(bars(&[], 0.0).is_ok() && sparkline(&[], 0.0).is_ok());
    }
}
