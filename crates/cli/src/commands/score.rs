//! `jixiao score`: spec §8 on files, as JSON, an aligned table or CSV, with
//! `--explain` to show how scores came about.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::ValueEnum;
use jixiao_core::data::Dataset;
use jixiao_core::period::Period;
use jixiao_core::scheme::Scheme;
use jixiao_core::score::{PeriodReport, PeriodResult, explain, score_periods};

#[derive(clap::Args)]
pub struct Args {
    /// Scheme file (JSON, spec §2).
    #[arg(long)]
    scheme: PathBuf,
    /// Data file (JSON, spec §3).
    #[arg(long)]
    data: PathBuf,
    /// Periods: `2027-03`, `2027-Q1`, `2027`, several separated by commas or
    /// repeated, or `all` for the 17 periods of the scheme's year.
    #[arg(long, required = true, value_delimiter = ',')]
    period: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Explain the scores of UNIT, or of one indicator with UNIT:INDICATOR.
    #[arg(long, value_name = "UNIT[:INDICATOR]")]
    explain: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Spec §8; an array of such objects for several periods.
    Json,
    /// Aligned columns for people.
    Table,
    /// One row per period and unit, one column per node.
    Csv,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let scheme_text =
        std::fs::read_to_string(&args.scheme).with_context(|| format!("cannot read scheme file {}", args.scheme.display()))?;
    let scheme = Scheme::from_json(&scheme_text).with_context(|| format!("scheme file {}", args.scheme.display()))?;
    let data_text = std::fs::read_to_string(&args.data).with_context(|| format!("cannot read data file {}", args.data.display()))?;
    let data = Dataset::from_json(&scheme, &data_text).with_context(|| format!("data file {}", args.data.display()))?;
    let periods = parse_periods(&args.period, scheme.year)?;
    let results = score_periods(&scheme, &data, &periods);

    let out = match &args.explain {
        Some(target) => explanations(&scheme, &data, &results, target, args.format)?,
        None => match args.format {
            Format::Json => {
                let reports: Vec<PeriodReport> = results.iter().map(|r| PeriodReport::new(&scheme, r)).collect();
                let mut text =
                    if reports.len() == 1 { serde_json::to_string_pretty(&reports[0])? } else { serde_json::to_string_pretty(&reports)? };
                text.push('\n');
                text
            }
            Format::Table => results.iter().map(|r| table(&scheme, r)).collect::<Vec<_>>().join("\n"),
            Format::Csv => csv(&scheme, &results)?,
        },
    };
    print!("{out}");
    Ok(())
}

/// Parses `--period` values; every period must lie in the scheme's year.
pub fn parse_periods(values: &[String], year: i32) -> anyhow::Result<Vec<Period>> {
    let mut periods = Vec::new();
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        if v == "all" {
            periods.extend(Period::all_in_year(year));
            continue;
        }
        let p: Period = v.parse()?;
        if p.year() != year {
            bail!("period {p} is not in the scheme's year {year}");
        }
        periods.push(p);
    }
    if periods.is_empty() {
        bail!("no period given: write e.g. --period 2027-03");
    }
    Ok(periods)
}

fn number(x: f64) -> String {
    format!("{x:.2}")
}

fn table(scheme: &Scheme, result: &PeriodResult) -> String {
    let report = PeriodReport::new(scheme, result);
    let mut header: Vec<String> = ["类别", "排名", "单位", "名称", "总分", "等次"].map(String::from).to_vec();
    header.extend(scheme.roots.iter().map(|&r| scheme.nodes[r].name.clone()));
    let mut rows = vec![header];
    for u in &report.units {
        let unit = scheme.unit_index(&u.unit).expect("report units come from the scheme");
        let mut row = vec![
            scheme.groups[scheme.units[unit].group].name.clone(),
            u.rank.to_string(),
            u.unit.clone(),
            scheme.units[unit].name.clone(),
            number(u.total),
            u.grade.clone().unwrap_or_default(),
        ];
        row.extend(scheme.roots.iter().map(|&r| result.score(unit, r).map(number).unwrap_or_default()));
        rows.push(row);
    }
    let right: Vec<usize> = std::iter::once(1).chain(4..5).chain(6..6 + scheme.roots.len()).collect();
    format!("{} {}\n{}", scheme.name, result.period, super::table::render(&rows, &right))
}

fn csv(scheme: &Scheme, results: &[PeriodResult]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["period", "group", "unit", "name", "total", "rank", "grade"].map(String::from).to_vec();
    header.extend(scheme.nodes.iter().map(|n| n.id.clone()));
    w.write_record(&header)?;
    for result in results {
        for u in PeriodReport::new(scheme, result).units {
            let unit = scheme.unit_index(&u.unit).expect("report units come from the scheme");
            let mut row = vec![
                result.period.to_string(),
                u.group.clone(),
                u.unit.clone(),
                scheme.units[unit].name.clone(),
                number(u.total),
                u.rank.to_string(),
                u.grade.clone().unwrap_or_default(),
            ];
            row.extend((0..scheme.nodes.len()).map(|n| result.score(unit, n).map(number).unwrap_or_default()));
            w.write_record(&row)?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

fn explanations(scheme: &Scheme, data: &Dataset, results: &[PeriodResult], target: &str, format: Format) -> anyhow::Result<String> {
    let (unit_id, indicator_id) = match target.split_once(':') {
        Some((u, i)) => (u, Some(i)),
        None => (target, None),
    };
    let unit = scheme.unit_index(unit_id).with_context(|| format!("--explain: unknown unit `{unit_id}`"))?;
    let nodes: Vec<usize> = match indicator_id {
        Some(id) => {
            let node = scheme.node_index(id).with_context(|| format!("--explain: unknown indicator `{id}`"))?;
            if scheme.indicator(node).is_none_or(|i| !i.is_assigned(unit)) {
                bail!("--explain: `{id}` is not an indicator assigned to unit {unit_id}");
            }
            vec![node]
        }
        None => scheme.indicators.iter().copied().filter(|&n| scheme.indicator(n).is_some_and(|i| i.is_assigned(unit))).collect(),
    };
    let all: Vec<_> = results.iter().flat_map(|r| nodes.iter().filter_map(move |&n| explain(scheme, data, r, unit, n))).collect();
    Ok(if format == Format::Json {
        serde_json::to_string_pretty(&all)? + "\n"
    } else {
        all.iter().map(|e| format!("{e}\n")).collect::<Vec<_>>().join("\n")
    })
}
