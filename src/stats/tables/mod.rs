//! Measuring one designed table: its full grid of cells (every place and
//! every value, for every month it covers), the rows of the data mapped to
//! those cells, and the mechanism's noisy counts. The grid depends only on
//! the places and the months, never on the data.

use std::collections::HashMap;

use crate::domain::{Month, ScoreDimension};

use super::design::{COMPOSITE, Dimension, NONE, TableDesign, age_band, change_band, score_band};
use super::mechanism::{self, Mechanism, MechanismError};
use super::source::{AssessmentGroup, CaseGroup, Places, ReferralGroup};

/// A row group of the data as a table sees it.
pub trait Counted {
    fn month(&self) -> &str;
    fn city_id(&self) -> &str;
    fn n(&self) -> i64;
    /// The values this group has in `dim` (several for a multi-valued
    /// dimension such as vulnerability flags). `month` is the group's month.
    fn values(&self, dim: Dimension, month: Month) -> Vec<String>;

    /// The keys this group counts in, by `dims` (with `place` giving the
    /// values of the governorate and the city): every combination of its
    /// values, unless the dimensions hang together (a score and the
    /// dimension it scores).
    fn keys(
        &self,
        dims: &[Dimension],
        place: &dyn Fn(Dimension) -> Option<String>,
        month: Month,
    ) -> Vec<Vec<String>> {
        product(
            &dims
                .iter()
                .map(|dim| match place(*dim) {
                    Some(value) => vec![value],
                    None => self.values(*dim, month),
                })
                .collect::<Vec<_>>(),
        )
    }
}

impl Counted for CaseGroup {
    fn month(&self) -> &str {
        &self.month
    }
    fn city_id(&self) -> &str {
        &self.city_id
    }
    fn n(&self) -> i64 {
        self.n
    }
    fn values(&self, dim: Dimension, month: Month) -> Vec<String> {
        match dim {
            Dimension::Sex => vec![self.sex.clone()],
            // Age at return: the year of return less the year of birth (the
            // date of birth is sealed), so a band may be a year off near a
            // birthday.
            Dimension::AgeBand => vec![age_band(month.year() - self.birth_year).to_string()],
            Dimension::Status => vec![self.status.clone()],
            Dimension::OriginKind => vec![self.origin_kind.clone()],
            Dimension::Vulnerability => {
                let flags: Vec<String> = self
                    .vulnerability_flags
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(str::to_string)
                    .collect();
                if flags.is_empty() {
                    vec![NONE.to_string()]
                } else {
                    flags
                }
            }
            _ => Vec::new(),
        }
    }
}

impl Counted for ReferralGroup {
    fn month(&self) -> &str {
        &self.month
    }
    fn city_id(&self) -> &str {
        &self.city_id
    }
    fn n(&self) -> i64 {
        self.n
    }
    fn values(&self, dim: Dimension, _: Month) -> Vec<String> {
        match dim {
            Dimension::Kind => vec![self.kind.clone()],
            Dimension::State => vec![self.state.clone()],
            Dimension::Outcome => vec![self.outcome.clone().unwrap_or_else(|| NONE.into())],
            _ => Vec::new(),
        }
    }
}

impl Counted for AssessmentGroup {
    fn month(&self) -> &str {
        &self.month
    }
    fn city_id(&self) -> &str {
        &self.city_id
    }
    fn n(&self) -> i64 {
        self.n
    }
    fn values(&self, dim: Dimension, month: Month) -> Vec<String> {
        let text = |s: &str| vec![s.to_string()];
        match dim {
            Dimension::Sex => vec![self.sex.clone()],
            // Age at the baseline, from the years alone.
            Dimension::AgeBand => text(age_band(month.year() - self.birth_year)),
            Dimension::ScoreDimension => Dimension::ScoreDimension
                .values()
                .into_iter()
                .map(str::to_string)
                .collect(),
            Dimension::Change => text(change_band(self.change)),
            Dimension::Support => {
                let kinds: Vec<String> = self
                    .support
                    .split(',')
                    .filter(|k| !k.is_empty())
                    .map(str::to_string)
                    .collect();
                if kinds.is_empty() {
                    vec![NONE.to_string()]
                } else {
                    kinds
                }
            }
            _ => Vec::new(),
        }
    }

    /// A score is the score of one dimension: each (dimension, band) pair
    /// this person has, rather than every dimension with every band.
    fn keys(
        &self,
        dims: &[Dimension],
        place: &dyn Fn(Dimension) -> Option<String>,
        month: Month,
    ) -> Vec<Vec<String>> {
        let Some(at) = dims.iter().position(|d| *d == Dimension::Score) else {
            return product(
                &dims
                    .iter()
                    .map(|dim| place(*dim).map_or_else(|| self.values(*dim, month), |v| vec![v]))
                    .collect::<Vec<_>>(),
            );
        };
        let scored = [
            (ScoreDimension::Economic.as_str(), self.economic),
            (ScoreDimension::Social.as_str(), self.social),
            (ScoreDimension::Psychosocial.as_str(), self.psychosocial),
            (COMPOSITE, self.composite),
        ];
        let mut keys = Vec::new();
        for (name, tenths) in scored {
            let axes: Vec<Vec<String>> = dims
                .iter()
                .enumerate()
                .map(|(i, dim)| {
                    if i == at {
                        vec![score_band(tenths).to_string()]
                    } else if *dim == Dimension::ScoreDimension {
                        vec![name.to_string()]
                    } else {
                        place(*dim).map_or_else(|| self.values(*dim, month), |v| vec![v])
                    }
                })
                .collect();
            keys.extend(product(&axes));
        }
        // A query naming the score names its dimension too (routes refuse
        // it otherwise), so each key here is one of the person's scores.
        keys
    }
}

/// One stored cell: month, governorate, up to three further values, count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellKey {
    pub month: Month,
    pub governorate: String,
    pub parts: Vec<String>,
}

/// A measured table, ready to store.
#[derive(Debug, Clone)]
pub struct MeasuredTable {
    pub design: &'static TableDesign,
    pub first: Month,
    pub last: Month,
    pub cells: Vec<(CellKey, i64)>,
    /// Separate measurements (one per value of a multi-valued dimension).
    pub measurements: u32,
    pub d_in: u32,
    pub scale: f64,
    pub rho: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error(transparent)]
    Mechanism(#[from] MechanismError),
    /// A value outside its closed list, or a city that does not exist: the
    /// database holds something its constraints should have refused.
    #[error("table {table}: a row holds {what} outside the table's fixed values")]
    Corrupt { table: &'static str, what: String },
    #[error("table {0} has more cells than a measurement can index")]
    TooLarge(&'static str),
}

/// Every combination of one value from each axis, in order.
pub fn product(axes: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut keys: Vec<Vec<String>> = vec![Vec::new()];
    for axis in axes {
        keys = keys
            .into_iter()
            .flat_map(|prefix| {
                axis.iter().map(move |value| {
                    let mut key = prefix.clone();
                    key.push(value.clone());
                    key
                })
            })
            .collect();
    }
    keys
}

/// Every cell of `design` for the months `first..=last`, in a fixed order,
/// each with the measurement (partition) it belongs to.
pub fn grid(
    design: &TableDesign,
    places: &Places,
    first: Month,
    last: Month,
) -> Vec<(usize, CellKey)> {
    let further = product(
        &design
            .dims
            .iter()
            .filter(|d| **d != Dimension::City)
            .map(|d| d.values().into_iter().map(str::to_string).collect())
            .collect::<Vec<_>>(),
    );
    let possible = |parts: &[String]| {
        let values: Vec<&str> = parts.iter().map(String::as_str).collect();
        (design.possible)(&values)
    };
    let partition_values = design.per_value.map(|d| d.values()).unwrap_or_default();
    let partition_position = design.per_value.and_then(|d| design.position(d));
    // A governorate with no city can hold no one: a known, structural
    // zero, left out rather than noised (it would only blur the totals).
    let governorates: Vec<&String> = places
        .governorates
        .iter()
        .filter(|g| places.cities.iter().any(|c| &c.governorate == *g))
        .collect();
    let mut cells = Vec::new();
    for month in first.through(last) {
        for governorate in governorates.iter().copied() {
            let mut prefixes: Vec<Vec<String>> = Vec::new();
            if design.dims.first() == Some(&Dimension::City) {
                prefixes.extend(
                    places
                        .cities
                        .iter()
                        .filter(|c| &c.governorate == governorate)
                        .map(|c| vec![c.code.clone()]),
                );
            } else {
                prefixes.push(Vec::new());
            }
            for prefix in &prefixes {
                for rest in &further {
                    let mut parts = prefix.clone();
                    parts.extend(rest.iter().cloned());
                    if !possible(&parts) {
                        continue;
                    }
                    let partition = partition_position
                        .and_then(|p| {
                            partition_values
                                .iter()
                                .position(|v| Some(*v) == parts.get(p).map(String::as_str))
                        })
                        .unwrap_or(0);
                    cells.push((
                        partition,
                        CellKey {
                            month,
                            governorate: governorate.clone(),
                            parts,
                        },
                    ));
                }
            }
        }
    }
    cells
}

/// Measures `design` over `groups` for the months `first..=last`,
/// spending `rho` in all, with at most `d_in` rows per person in each
/// measurement.
#[allow(clippy::too_many_arguments)]
pub fn measure<G: Counted>(
    design: &'static TableDesign,
    places: &Places,
    first: Month,
    last: Month,
    groups: &[G],
    d_in: u32,
    rho: f64,
    mechanism: &dyn Mechanism,
) -> Result<MeasuredTable, TableError> {
    let cells = grid(design, places, first, last);
    let partitions = design.per_value.map_or(1, |d| d.values().len()).max(1);
    // Each cell's index within its partition.
    let mut keys: Vec<Vec<CellKey>> = vec![Vec::new(); partitions];
    let mut index: HashMap<CellKey, (usize, u32)> = HashMap::with_capacity(cells.len());
    for (partition, key) in cells {
        let position =
            u32::try_from(keys[partition].len()).map_err(|_| TableError::TooLarge(design.name))?;
        index.insert(key.clone(), (partition, position));
        keys[partition].push(key);
    }
    let corrupt = |what: String| TableError::Corrupt {
        table: design.name,
        what,
    };
    let mut rows: Vec<Vec<u32>> = vec![Vec::new(); partitions];
    for group in groups {
        let month = Month::parse(group.month()).ok_or_else(|| corrupt("a month".into()))?;
        if month < first || month > last {
            continue;
        }
        let city = places
            .city(group.city_id())
            .ok_or_else(|| corrupt("a city".into()))?;
        let place = |dim| (dim == Dimension::City).then(|| city.code.clone());
        let combos = group.keys(design.dims, &place, month);
        let n = usize::try_from(group.n()).unwrap_or(0);
        for parts in combos {
            let key = CellKey {
                month,
                governorate: city.governorate.clone(),
                parts,
            };
            let (partition, position) = *index
                .get(&key)
                .ok_or_else(|| corrupt(format!("a value of {:?}", design.dims)))?;
            rows[partition].extend(std::iter::repeat_n(position, n));
        }
    }
    let rho_each = rho / partitions as f64;
    let mut counts_by_partition = Vec::with_capacity(partitions);
    let mut rhos = Vec::with_capacity(partitions);
    let mut scale = 0.0;
    for (partition, rows) in rows.into_iter().enumerate() {
        let size =
            u32::try_from(keys[partition].len()).map_err(|_| TableError::TooLarge(design.name))?;
        let measured = mechanism.measure(size, rows, d_in, rho_each)?;
        rhos.push(measured.rho);
        scale = measured.scale;
        counts_by_partition.push(measured.counts);
    }
    let mut measured_cells = Vec::new();
    for (partition, counts) in counts_by_partition.into_iter().enumerate() {
        measured_cells.extend(keys[partition].iter().cloned().zip(counts));
    }
    measured_cells.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(MeasuredTable {
        design,
        first,
        last,
        cells: measured_cells,
        measurements: u32::try_from(partitions).unwrap_or(u32::MAX),
        d_in,
        scale,
        rho: mechanism::compose(rhos)?,
    })
}

#[cfg(test)]
mod properties;
