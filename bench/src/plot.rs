//! SVG plots of the throughput sweep and the fan-out latencies.

use std::path::Path;

use plotters::prelude::*;

type Series = (String, Vec<(f64, f64)>);

fn lines(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> anyhow::Result<()> {
    if series.iter().all(|(_, points)| points.is_empty()) {
        return Ok(());
    }
    let xs = series.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x));
    let ys = series.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y));
    let x_max = xs.fold(1.0f64, f64::max) * 1.05;
    let y_max = ys.fold(1.0f64, f64::max) * 1.15;
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let palette = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
    for (i, (name, points)) in series.iter().enumerate() {
        let color = palette[i % palette.len()];
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart
            .draw_series(PointSeries::of_element(
                points.clone(),
                4,
                color.filled(),
                &|c, s, st| Circle::new(c, s, st),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// `throughput.svg`: requests/s against concurrent clients, one line per
/// backend and transport.
pub fn throughput(dir: &Path, rows: &[serde_json::Value]) -> anyhow::Result<()> {
    let mut series: Vec<Series> = Vec::new();
    for row in rows {
        let name = format!(
            "{} {}",
            row["backend"].as_str().unwrap_or("?"),
            row["transport"].as_str().unwrap_or("?")
        );
        let point = (
            row["clients"].as_f64().unwrap_or(0.0),
            row["requests_per_second"].as_f64().unwrap_or(0.0),
        );
        match series.iter_mut().find(|(n, _)| *n == name) {
            Some((_, points)) => points.push(point),
            None => series.push((name, vec![point])),
        }
    }
    std::fs::create_dir_all(dir)?;
    lines(
        &dir.join("throughput.svg"),
        "message.create throughput (3072-bit RSA)",
        "concurrent clients",
        "requests per second",
        &series,
    )
}

/// `fanout.svg`: ack-to-event p50 and p99 against group size.
pub fn fanout(dir: &Path, rows: &[serde_json::Value]) -> anyhow::Result<()> {
    let pick = |key: &str| -> Vec<(f64, f64)> {
        rows.iter()
            .map(|r| {
                (
                    r["members"].as_f64().unwrap_or(0.0),
                    r["ack_to_event"][key].as_f64().unwrap_or(0.0),
                )
            })
            .collect()
    };
    std::fs::create_dir_all(dir)?;
    lines(
        &dir.join("fanout.svg"),
        "fan-out: message.create ack to event decrypted",
        "group members (all on sockets)",
        "milliseconds",
        &[
            ("p50".into(), pick("p50_ms")),
            ("p99".into(), pick("p99_ms")),
        ],
    )
}
