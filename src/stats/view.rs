//! What a statistics answer looks like: JSON (with the release and its
//! privacy loss) or CSV with an HXL hashtag row, and the release list.

use serde::Serialize;
use utoipa::ToSchema;

use super::answer::{Answer, MonthRange, ReleaseSummary};
use crate::i18n::Lang;

/// An answer. Each cell has one member per dimension asked for, `count`
/// (null when suppressed), `margin_95` and `suppressed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsTable {
    /// `release`: ministry figures from a statistical release; `live`: a
    /// city supervisor's exact counts of their own cities.
    pub source: String,
    /// The release answered from (null when live).
    pub release: Option<ReleaseSummary>,
    /// The released table the figures are sums of (null when live).
    pub table: Option<String>,
    /// The period asked for, if any.
    pub period: Option<String>,
    /// The months the figures cover (null for a live count of all time).
    pub months: Option<MonthRange>,
    pub dimensions: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub cells: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// One table a release measured: what it cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerLine {
    pub table: String,
    pub first_month: String,
    pub last_month: String,
    /// Separate measurements (one per vulnerability flag, say).
    pub measurements: i32,
    /// Most rows one person adds to a measurement.
    pub d_in: i32,
    /// σ of the discrete Gaussian noise added to every cell.
    pub scale: f64,
    pub rho: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseEntry {
    pub release: ReleaseSummary,
    pub ledger: Vec<LedgerLine>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseList {
    /// Every release, newest first.
    pub items: Vec<ReleaseEntry>,
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// CSV: the header, an HXL hashtag row under it, then one row a cell.
/// In English the header is the column names of the JSON answer; in
/// Arabic and Kurdish it is their labels (`vocabulary.stats_dimension.*`,
/// `csv.*` in the catalogs). The hashtag row and the values never change.
pub fn csv(answer: &Answer, lang: Lang) -> String {
    let mut names: Vec<&str> = answer.dims.iter().map(|d| d.name()).collect();
    names.extend(["count", "margin_95", "suppressed"]);
    let catalog = crate::i18n::catalog::catalog();
    let header: Vec<String> = names
        .iter()
        .map(|name| match lang {
            Lang::En => (*name).to_string(),
            _ => catalog
                .label(lang, "stats_dimension", name)
                .or_else(|| catalog.text(lang, &format!("csv.{name}")))
                .map_or_else(|| (*name).to_string(), csv_field),
        })
        .collect();
    let mut tags: Vec<&str> = answer.dims.iter().map(|d| d.hxl()).collect();
    tags.extend([
        "#affected+num",
        "#affected+num+margin95",
        "#meta+suppressed",
    ]);
    let mut out = format!("{}\n{}\n", header.join(","), tags.join(","));
    for figure in &answer.figures {
        let mut row: Vec<String> = figure.key.iter().map(|v| csv_field(v)).collect();
        row.push(figure.count.map(|c| c.to_string()).unwrap_or_default());
        row.push(figure.margin_95.to_string());
        row.push(figure.suppressed.to_string());
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

pub fn json(answer: Answer) -> StatsTable {
    let names: Vec<&str> = answer.dims.iter().map(|d| d.name()).collect();
    StatsTable {
        source: answer.source.into(),
        release: answer.release,
        table: answer.table.map(str::to_string),
        period: answer.period.map(|p| p.to_string()),
        months: answer.months.map(|(first, last)| MonthRange {
            first: first.to_string(),
            last: last.to_string(),
        }),
        dimensions: names.iter().map(|n| n.to_string()).collect(),
        cells: answer
            .figures
            .into_iter()
            .map(|figure| {
                let mut map = serde_json::Map::new();
                for (name, value) in names.iter().zip(figure.key) {
                    map.insert((*name).into(), value.into());
                }
                map.insert(
                    "count".into(),
                    figure.count.map_or(serde_json::Value::Null, Into::into),
                );
                map.insert("margin_95".into(), figure.margin_95.into());
                map.insert("suppressed".into(), figure.suppressed.into());
                map
            })
            .collect(),
    }
}
