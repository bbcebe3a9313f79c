//! SVG charts of fits: data points, the fitted curve, its bootstrap band and
//! optional horizontal threshold lines, rendered with `plotters` into a
//! `String` (the caller decides where it goes: a file, an HTML report).
//!
//! Log axes are drawn by plotting log10 of the values on a linear axis and
//! labelling ticks as powers of ten; this keeps one code path for every axis
//! kind. Date axes plot days since 1970-01-01 with `YYYY-MM-DD` labels. Text
//! uses plotters' built-in size estimate, so no font files are needed.

use plotters::prelude::*;
use serde::Serialize;

use crate::bootstrap;
use crate::crossing::Curve;
use crate::error::{Error, Result};
use crate::trend::x_to_date;

/// How an axis maps values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Scale {
    /// Plain linear axis.
    Linear,
    /// Logarithmic axis (values must be positive; others are skipped).
    Log10,
    /// Linear axis of days since 1970-01-01, labelled as dates.
    Date,
}

/// What a threshold line means; alerts are drawn dashed and amber, lines
/// solid and red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ThresholdKind {
    /// An early-warning alert threshold.
    Alert,
    /// A capability line (the threshold itself).
    Line,
}

/// A horizontal line across the chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// y value.
    pub value: f64,
    /// Label drawn at the left end.
    pub label: String,
    /// Style.
    pub kind: ThresholdKind,
}

/// A chart description; build it, then call [`Chart::render_svg`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// Title.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// x scale.
    pub x_scale: Scale,
    /// y scale.
    pub y_scale: Scale,
    /// Observed points.
    pub points: Vec<(f64, f64)>,
    /// Vertical interval bars on observations: (x, lower, upper).
    pub error_bars: Vec<(f64, f64, f64)>,
    /// Fitted curve, sampled.
    pub curve: Vec<(f64, f64)>,
    /// Confidence band: (x, lower, upper).
    pub band: Vec<(f64, f64, f64)>,
    /// Threshold lines.
    pub thresholds: Vec<Threshold>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl Chart {
    /// An empty chart with titles and scales.
    pub fn new(title: &str, x_label: &str, y_label: &str, x_scale: Scale, y_scale: Scale) -> Self {
        Self {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            x_scale,
            y_scale,
            points: Vec::new(),
            error_bars: Vec::new(),
            curve: Vec::new(),
            band: Vec::new(),
            thresholds: Vec::new(),
            size: (800, 500),
        }
    }

    /// Sample `point` and the per-x percentile band of `replicates` at `level`
    /// on `samples` x values spanning `[x_min, x_max]` (log-spaced when the x
    /// scale is logarithmic).
    pub fn with_fit<C: Curve>(
        mut self,
        point: &C,
        replicates: &[C],
        (x_min, x_max): (f64, f64),
        samples: usize,
        level: f64,
    ) -> Self {
        let samples = samples.max(2);
        let xs: Vec<f64> = (0..samples)
            .map(|i| {
                let t = i as f64 / (samples - 1) as f64;
                if self.x_scale == Scale::Log10 && x_min > 0.0 && x_max > 0.0 {
                    10f64.powf(x_min.log10() + t * (x_max.log10() - x_min.log10()))
                } else {
                    x_min + t * (x_max - x_min)
                }
            })
            .collect();
        self.curve = xs.iter().map(|&x| (x, point.value(x))).collect();
        if !replicates.is_empty() {
            let values: Vec<Vec<f64>> = replicates
                .iter()
                .map(|c| xs.iter().map(|&x| c.value(x)).collect())
                .collect();
            self.band = xs
                .iter()
                .zip(bootstrap::band(&values, xs.len(), level))
                .map(|(&x, (lo, hi))| (x, lo, hi))
                .collect();
        }
        self
    }

    /// Add a threshold line.
    pub fn threshold(mut self, value: f64, label: &str, kind: ThresholdKind) -> Self {
        self.thresholds.push(Threshold {
            value,
            label: label.to_string(),
            kind,
        });
        self
    }

    /// Render to an SVG document.
    pub fn render_svg(&self) -> Result<String> {
        let tx = |x: f64| map(self.x_scale, x);
        let ty = |y: f64| map(self.y_scale, y);
        let pts: Vec<(f64, f64)> = self
            .points
            .iter()
            .filter_map(|&(x, y)| Some((tx(x)?, ty(y)?)))
            .collect();
        let curve: Vec<(f64, f64)> = self
            .curve
            .iter()
            .filter_map(|&(x, y)| Some((tx(x)?, ty(y)?)))
            .collect();
        let band: Vec<(f64, f64, f64)> = self
            .band
            .iter()
            .filter_map(|&(x, lo, hi)| Some((tx(x)?, ty(lo)?, ty(hi)?)))
            .collect();
        let bars: Vec<(f64, f64, f64)> = self
            .error_bars
            .iter()
            .filter_map(|&(x, lo, hi)| Some((tx(x)?, ty(lo)?, ty(hi)?)))
            .collect();
        let lines: Vec<(f64, &Threshold)> = self
            .thresholds
            .iter()
            .filter_map(|t| Some((ty(t.value)?, t)))
            .collect();

        let xr = extent(pts.iter().map(|p| p.0).chain(curve.iter().map(|p| p.0)));
        let yr = extent(
            pts.iter()
                .map(|p| p.1)
                .chain(curve.iter().map(|p| p.1))
                .chain(band.iter().flat_map(|b| [b.1, b.2]))
                .chain(bars.iter().flat_map(|b| [b.1, b.2]))
                .chain(lines.iter().map(|l| l.0)),
        );
        let (Some((x0, x1)), Some((y0, y1))) = (xr, yr) else {
            return Err(Error::EmptyChart);
        };
        let (x0, x1) = pad(x0, x1);
        let (y0, y1) = pad(y0, y1);

        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size).into_drawing_area();
            root.fill(&WHITE).map_err(chart_err)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(&self.title, ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(chart_err)?;
            let xf = |v: &f64| label(self.x_scale, *v);
            let yf = |v: &f64| label(self.y_scale, *v);
            chart
                .configure_mesh()
                .x_desc(self.x_label.as_str())
                .y_desc(self.y_label.as_str())
                .x_label_formatter(&xf)
                .y_label_formatter(&yf)
                .light_line_style(WHITE)
                .draw()
                .map_err(chart_err)?;
            let band_color = RGBColor(31, 119, 180);
            if band.len() >= 2 {
                let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
                poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        band_color.mix(0.2).filled(),
                    )))
                    .map_err(chart_err)?;
            }
            if curve.len() >= 2 {
                chart
                    .draw_series(LineSeries::new(curve, band_color.stroke_width(2)))
                    .map_err(chart_err)?;
            }
            for &(x, lo, hi) in &bars {
                chart
                    .draw_series(LineSeries::new(
                        [(x, lo), (x, hi)],
                        BLACK.mix(0.5).stroke_width(1),
                    ))
                    .map_err(chart_err)?;
            }
            chart
                .draw_series(
                    pts.iter()
                        .map(|&p| Circle::new(p, 3, BLACK.mix(0.7).filled())),
                )
                .map_err(chart_err)?;
            for (y, t) in &lines {
                let color = match t.kind {
                    ThresholdKind::Alert => RGBColor(230, 145, 20),
                    ThresholdKind::Line => RGBColor(200, 30, 30),
                };
                let style = color.stroke_width(2);
                match t.kind {
                    ThresholdKind::Line => {
                        chart
                            .draw_series(LineSeries::new([(x0, *y), (x1, *y)], style))
                            .map_err(chart_err)?;
                    }
                    ThresholdKind::Alert => {
                        chart
                            .draw_series(DashedLineSeries::new([(x0, *y), (x1, *y)], 8, 5, style))
                            .map_err(chart_err)?;
                    }
                }
                let pos = (x0 + 0.01 * (x1 - x0), *y + 0.015 * (y1 - y0));
                chart
                    .draw_series(std::iter::once(Text::new(
                        t.label.clone(),
                        pos,
                        ("sans-serif", 13).into_font().color(&color),
                    )))
                    .map_err(chart_err)?;
            }
            root.present().map_err(chart_err)?;
        }
        Ok(svg)
    }
}

fn chart_err<E: std::error::Error + Send + Sync + 'static>(e: E) -> Error {
    Error::Chart {
        source: Box::new(e),
    }
}

fn map(scale: Scale, v: f64) -> Option<f64> {
    let out = match scale {
        Scale::Log10 if v > 0.0 => v.log10(),
        Scale::Log10 => return None,
        Scale::Linear | Scale::Date => v,
    };
    out.is_finite().then_some(out)
}

fn label(scale: Scale, v: f64) -> String {
    match scale {
        Scale::Linear => linear_label(v),
        Scale::Log10 => log_label(v),
        Scale::Date => x_to_date(v).map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string()),
    }
}

/// A linear-axis tick: six significant decimals at most, so accumulated tick
/// arithmetic (0.7999999999999999) reads as the round number it is meant to be.
fn linear_label(v: f64) -> String {
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    if v != 0.0 && !(1e-3..1e6).contains(&v.abs()) {
        let s = format!("{v:.3e}");
        return match s.split_once('e') {
            Some((m, e)) => format!("{}e{e}", trim(m.to_owned())),
            None => s,
        };
    }
    let s = trim(format!("{v:.6}"));
    if s == "-0" { "0".to_owned() } else { s }
}

/// A log-axis tick at exponent `v`, in the data's own units: `100` or `1e21`
/// at whole powers, three significant digits between them (`316`,
/// `3.16e18`), so nobody has to read "1e2.5".
fn log_label(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        let e = v.round();
        return if (-2.0..=4.0).contains(&e) {
            format!("{}", 10f64.powf(e))
        } else {
            format!("1e{e}")
        };
    }
    let x = 10f64.powf(v);
    if (1e-2..1e5).contains(&x) {
        let decimals = (2.0 - x.log10().floor()).max(0.0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.2e}")
    }
}

fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

fn pad(lo: f64, hi: f64) -> (f64, f64) {
    let w = hi - lo;
    if w > 0.0 {
        (lo - 0.05 * w, hi + 0.05 * w)
    } else {
        (lo - 0.5 - 0.05 * lo.abs(), hi + 0.5 + 0.05 * hi.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigmoid::Sigmoid;

    #[test]
    fn svg_has_points_curve_band_and_thresholds() {
        let s = Sigmoid {
            floor: 0.25,
            ceiling: 0.9,
            midpoint: 22.0,
            slope: 1.5,
        };
        let reps = [
            Sigmoid {
                midpoint: 21.8,
                ..s
            },
            Sigmoid {
                midpoint: 22.2,
                ..s
            },
        ];
        let mut chart = Chart::new("MMLU", "log10 FLOP", "score", Scale::Linear, Scale::Linear)
            .with_fit(&s, &reps, (19.0, 25.0), 50, 0.95)
            .threshold(0.8, "alert 0.80", ThresholdKind::Alert)
            .threshold(0.85, "line 0.85", ThresholdKind::Line);
        chart.points = vec![(20.0, 0.3), (22.0, 0.55), (24.0, 0.85)];
        let svg = chart.render_svg().unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..50]);
        assert!(svg.contains("alert 0.80") && svg.contains("line 0.85") && svg.contains("MMLU"));
        assert!(svg.matches("<circle").count() >= 3);
        assert!(svg.contains("<polygon") || svg.contains("<path"));
        assert!(svg.contains("stroke-dasharray") || svg.matches("<polyline").count() >= 4);
    }

    #[test]
    fn log_and_date_axes_label_in_their_units() {
        assert_eq!(label(Scale::Linear, 0.7999999999999999), "0.8");
        assert_eq!(label(Scale::Linear, 0.30000000000000004), "0.3");
        assert_eq!(label(Scale::Linear, 250.0), "250");
        assert_eq!(label(Scale::Linear, -0.0000000001), "-1e-10");
        assert_eq!(label(Scale::Linear, 2.5e7), "2.5e7");
        assert_eq!(label(Scale::Log10, 21.0), "1e21");
        assert_eq!(label(Scale::Log10, 2.0), "100");
        assert_eq!(label(Scale::Log10, 2.5), "316");
        assert_eq!(label(Scale::Log10, 0.5), "3.16");
        assert_eq!(label(Scale::Log10, 18.5), "3.16e18");
        assert_eq!(label(Scale::Date, 19723.0), "2024-01-01");
        assert_eq!(map(Scale::Log10, -1.0), None);
        let mut c = Chart::new("t", "x", "y", Scale::Log10, Scale::Log10);
        c.points = vec![(-1.0, 2.0)];
        assert!(matches!(c.render_svg(), Err(Error::EmptyChart)));
        c.points.push((1e21, 2.5));
        assert!(c.render_svg().unwrap().contains("1e21"));
    }
}
