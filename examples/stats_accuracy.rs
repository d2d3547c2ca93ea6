//! How accurate released figures are (run it with `scripts/stats-accuracy`):
//! measures the table of totals — people by month of return and city —
//! from a seeded database exactly and through the release
//! mechanism at several privacy settings, then sums both to national,
//! governorate and city figures by month, quarter and year, and prints the
//! median and 95th-percentile absolute error of each, with the median true
//! count for scale. Nothing is stored: the noise drawn here is thrown away.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use sanad::db::ConnectionManager;
use sanad::domain::{Month, time};
use sanad::stats::design::{self, TableDesign};
use sanad::stats::mechanism::{GaussianCounts, Measured, Mechanism, MechanismError};
use sanad::stats::release::last_settled;
use sanad::stats::source::{self, CaseColumns, Places};
use sanad::stats::tables::{self, CellKey};

#[derive(Parser, Debug)]
#[command(about = "Error of released figures against the exact counts")]
struct Args {
    /// The seeded database.
    #[arg(long, default_value = "sqlite://target/stats-accuracy/sanad.db")]
    database: String,
    /// rho_per_release settings to measure, comma separated.
    #[arg(long, default_value = "0.1,0.25,1.0", value_delimiter = ',')]
    rho: Vec<f64>,
    /// The first month of the series.
    #[arg(long, default_value = "2019-01")]
    series_start: String,
    /// Also write the tables as Markdown here.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

/// Counts exactly: the truth the noisy figures are compared with.
struct Exact;

impl Mechanism for Exact {
    fn measure(
        &self,
        cells: u32,
        rows: Vec<u32>,
        _: u32,
        rho: f64,
    ) -> Result<Measured, MechanismError> {
        let mut counts = vec![0i64; cells as usize];
        for row in rows {
            if let Some(count) = counts.get_mut(row as usize) {
                *count += 1;
            }
        }
        Ok(Measured {
            counts,
            rho,
            scale: 0.0,
        })
    }
}

const LEVELS: [&str; 3] = ["national", "governorate", "city"];
const PERIODS: [&str; 3] = ["month", "quarter", "year"];

/// Sums of a table's cells by level and period: (level, period) → figure → sum.
type Sums = BTreeMap<(usize, usize), BTreeMap<(String, String), i64>>;

fn sums(cells: &[(CellKey, i64)]) -> Sums {
    let mut out: Sums = BTreeMap::new();
    for (key, value) in cells {
        let month = key.month.to_string();
        let year = key.month.year().to_string();
        let quarter = format!(
            "{year}-Q{}",
            month[5..7].parse::<u32>().unwrap_or(1).div_ceil(3)
        );
        let places = [
            String::new(),
            key.governorate.clone(),
            key.parts.first().cloned().unwrap_or_default(),
        ];
        for (level, place) in places.iter().enumerate() {
            for (period, label) in [&month, &quarter, &year].iter().enumerate() {
                *out.entry((level, period))
                    .or_default()
                    .entry((place.clone(), (*label).clone()))
                    .or_default() += value;
            }
        }
    }
    out
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut conn = ConnectionManager::new(&args.database, 5000)?.establish()?;
    let places = Places::load(&mut conn)?;
    let first = Month::parse(&args.series_start)
        .ok_or_else(|| anyhow::anyhow!("--series-start must be YYYY-MM"))?;
    let last = last_settled(time::now().date(), 1);
    let table: &'static TableDesign =
        design::table("cases.city").ok_or_else(|| anyhow::anyhow!("no table cases.city"))?;
    let groups = source::case_groups(
        &mut conn,
        first,
        last,
        None,
        CaseColumns {
            ..CaseColumns::default()
        },
    )?;
    let exact = tables::measure(table, &places, first, last, &groups, 1, 1.0, &Exact)?;
    let truth = sums(&exact.cells);
    let people: i64 = exact.cells.iter().map(|c| c.1).sum();
    let mut report = format!(
        "People returned by month and city ({}), {people} people, {first} to {last}.\n\
         Absolute error of released figures against the exact count: median / 95th percentile \
         (median exact count).\n\n| rho per release | rho of this table | noise scale per cell | level | month | quarter | year |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        table.name
    );
    for &rho in &args.rho {
        let rho_table = rho * f64::from(table.share) / f64::from(design::total_shares());
        let noisy = tables::measure(
            table,
            &places,
            first,
            last,
            &groups,
            1,
            rho_table,
            &GaussianCounts,
        )?;
        let released = sums(&noisy.cells);
        for (level, name) in LEVELS.iter().enumerate() {
            let mut row = format!("| {rho} | {:.4} | {:.2} | {name} |", noisy.rho, noisy.scale);
            for period in 0..PERIODS.len() {
                let exact = &truth[&(level, period)];
                let noisy = &released[&(level, period)];
                let mut errors: Vec<i64> = exact
                    .iter()
                    .map(|(k, v)| (noisy.get(k).copied().unwrap_or(0) - v).abs())
                    .collect();
                errors.sort_unstable();
                let mut counts: Vec<i64> = exact.values().copied().collect();
                counts.sort_unstable();
                row.push_str(&format!(
                    " {} / {} ({}) |",
                    percentile(&errors, 0.5),
                    percentile(&errors, 0.95),
                    percentile(&counts, 0.5)
                ));
            }
            report.push_str(&row);
            report.push('\n');
        }
    }
    print!("{report}");
    if let Some(path) = &args.markdown {
        std::fs::File::create(path)?.write_all(report.as_bytes())?;
    }
    Ok(())
}
