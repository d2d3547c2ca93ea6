//! The designed set of released tables. Every table spends privacy budget,
//! so this is a short list chosen for the questions a ministry asks (see
//! docs/statistics.md), not every combination of dimensions: a query is
//! answered from the first table here that holds its dimensions, summing
//! away the others (a city sums to its governorate).
//!
//! Every table is over the full, fixed value set of each of its dimensions
//! — every governorate and city that exists, every value of every closed
//! list — so which cells exist says nothing about the data.

use crate::domain::ReferralState;
use crate::domain::referral::Outcome;
use crate::domain::{
    CaseStatus, OrganisationKind, OriginKind, ScoreDimension, Sex, VulnerabilityFlag,
};

/// What a table counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// People (one case is one person), by month of return.
    Cases,
    /// Referrals, by month the referral was made.
    Referrals,
    /// People with a scored baseline assessment, by month of the baseline:
    /// their latest scores and the change since the baseline.
    Assessments,
}

impl Subject {
    pub fn name(self) -> &'static str {
        match self {
            Subject::Cases => "cases",
            Subject::Referrals => "referrals",
            Subject::Assessments => "assessments",
        }
    }

    /// The dimensions a query about this subject may group by.
    pub fn dimensions(self) -> &'static [Dimension] {
        use Dimension as D;
        match self {
            Subject::Cases => &[
                D::Governorate,
                D::City,
                D::Sex,
                D::AgeBand,
                D::Status,
                D::OriginKind,
                D::Vulnerability,
                D::Month,
            ],
            Subject::Referrals => &[
                D::Governorate,
                D::City,
                D::Kind,
                D::State,
                D::Outcome,
                D::Month,
            ],
            Subject::Assessments => &[
                D::Governorate,
                D::City,
                D::Sex,
                D::AgeBand,
                D::ScoreDimension,
                D::Score,
                D::Change,
                D::Support,
                D::Month,
            ],
        }
    }
}

/// What a figure can be broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Governorate,
    City,
    Sex,
    AgeBand,
    Status,
    OriginKind,
    Vulnerability,
    Kind,
    State,
    Outcome,
    /// Which score: economic, social, psychosocial or composite.
    ScoreDimension,
    /// The band of the latest score in that dimension.
    Score,
    /// The composite's change from the baseline to the latest assessment.
    Change,
    /// The kinds of referral the person completed (or none).
    Support,
    Month,
}

impl Dimension {
    /// Every dimension, in declaration order.
    pub const ALL: [Dimension; 15] = [
        Dimension::Governorate,
        Dimension::City,
        Dimension::Sex,
        Dimension::AgeBand,
        Dimension::Status,
        Dimension::OriginKind,
        Dimension::Vulnerability,
        Dimension::Kind,
        Dimension::State,
        Dimension::Outcome,
        Dimension::ScoreDimension,
        Dimension::Score,
        Dimension::Change,
        Dimension::Support,
        Dimension::Month,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dimension::Governorate => "governorate",
            Dimension::City => "city",
            Dimension::Sex => "sex",
            Dimension::AgeBand => "age_band",
            Dimension::Status => "status",
            Dimension::OriginKind => "origin_kind",
            Dimension::Vulnerability => "vulnerability",
            Dimension::Kind => "kind",
            Dimension::State => "state",
            Dimension::Outcome => "outcome",
            Dimension::ScoreDimension => "dimension",
            Dimension::Score => "score",
            Dimension::Change => "change",
            Dimension::Support => "support",
            Dimension::Month => "month",
        }
    }

    /// The HXL hashtag of the column in CSV exports.
    pub fn hxl(self) -> &'static str {
        match self {
            Dimension::Governorate => "#adm1+code",
            Dimension::City => "#adm2+code",
            Dimension::Sex => "#gender",
            Dimension::AgeBand => "#age+group",
            Dimension::Status => "#status",
            Dimension::OriginKind => "#indicator+origin",
            Dimension::Vulnerability => "#indicator+vulnerability",
            Dimension::Kind => "#service+type",
            Dimension::State => "#status",
            Dimension::Outcome => "#indicator+outcome",
            Dimension::ScoreDimension => "#indicator+dimension",
            Dimension::Score => "#indicator+score",
            Dimension::Change => "#indicator+change",
            Dimension::Support => "#service+completed",
            Dimension::Month => "#date+month",
        }
    }

    /// Reads a dimension of `subject` by its name.
    pub fn parse(subject: Subject, text: &str) -> Option<Dimension> {
        subject
            .dimensions()
            .iter()
            .copied()
            .find(|d| d.name() == text)
    }

    /// The fixed values of a closed-list dimension (not the places, which
    /// come from the database, nor months).
    pub fn values(self) -> Vec<&'static str> {
        match self {
            Dimension::Sex => Sex::ALL.iter().map(|v| v.as_str()).collect(),
            Dimension::AgeBand => AGE_BANDS.to_vec(),
            Dimension::Status => CaseStatus::ALL.iter().map(|v| v.as_str()).collect(),
            Dimension::OriginKind => OriginKind::ALL.iter().map(|v| v.as_str()).collect(),
            Dimension::Vulnerability => VulnerabilityFlag::ALL
                .iter()
                .map(|v| v.as_str())
                .chain([NONE])
                .collect(),
            Dimension::Kind => OrganisationKind::ALL.iter().map(|v| v.as_str()).collect(),
            Dimension::State => ReferralState::ALL.iter().map(|v| v.as_str()).collect(),
            Dimension::Outcome => Outcome::ALL
                .iter()
                .map(|v| v.as_str())
                .chain([NONE])
                .collect(),
            Dimension::ScoreDimension => ScoreDimension::ALL
                .iter()
                .map(|v| v.as_str())
                .chain([COMPOSITE])
                .collect(),
            Dimension::Score => SCORE_BANDS.to_vec(),
            Dimension::Change => CHANGES.to_vec(),
            Dimension::Support => OrganisationKind::ALL
                .iter()
                .map(|v| v.as_str())
                .chain([NONE])
                .collect(),
            Dimension::Governorate | Dimension::City | Dimension::Month => Vec::new(),
        }
    }
}

/// The score that combines the three dimensions.
pub const COMPOSITE: &str = "composite";

/// Bands of a score from 0 to 1 (stored in tenths).
pub const SCORE_BANDS: [&str; 5] = ["0.0-0.1", "0.2-0.3", "0.4-0.5", "0.6-0.7", "0.8-1.0"];

/// The band of a score in tenths.
pub fn score_band(tenths: i16) -> &'static str {
    match tenths {
        i16::MIN..=1 => SCORE_BANDS[0],
        2..=3 => SCORE_BANDS[1],
        4..=5 => SCORE_BANDS[2],
        6..=7 => SCORE_BANDS[3],
        _ => SCORE_BANDS[4],
    }
}

/// How the composite score moved from the baseline to the latest
/// assessment: not followed up yet, down, unchanged, up by 0.1 or 0.2, up
/// by 0.3 or more.
pub const CHANGES: [&str; 5] = ["no_follow_up", "worse", "same", "better", "much_better"];

/// The change band of a composite change in tenths (`None`: no follow-up).
pub fn change_band(tenths: Option<i16>) -> &'static str {
    match tenths {
        None => CHANGES[0],
        Some(i16::MIN..=-1) => CHANGES[1],
        Some(0) => CHANGES[2],
        Some(1..=2) => CHANGES[3],
        Some(_) => CHANGES[4],
    }
}

/// The value of a multi-valued or optional dimension that has none: a case
/// with no vulnerability flag, a referral not completed (so no outcome).
pub const NONE: &str = "none";

/// Age bands of the contract.
pub const AGE_BANDS: [&str; 6] = ["0-4", "5-11", "12-17", "18-24", "25-59", "60+"];

/// The band of an age in whole years.
pub fn age_band(age: i32) -> &'static str {
    match age {
        i32::MIN..=4 => AGE_BANDS[0],
        5..=11 => AGE_BANDS[1],
        12..=17 => AGE_BANDS[2],
        18..=24 => AGE_BANDS[3],
        25..=59 => AGE_BANDS[4],
        _ => AGE_BANDS[5],
    }
}

/// When a table's cells are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Each month measured once, by the first release after it settled,
    /// and carried unchanged into every later release: attributes as they
    /// stood then.
    Monthly,
    /// Measured afresh by every release, for every released month:
    /// attributes that change (a case's status, a referral's state) as they
    /// stand at the release.
    Snapshot,
}

/// One released table.
#[derive(Debug)]
pub struct TableDesign {
    pub name: &'static str,
    pub subject: Subject,
    /// Every table is by month and governorate; these are its further
    /// dimensions, in the order its cells store them (`d1`, `d2`, `d3`).
    /// `City` comes first where present (it sums to the governorate).
    pub dims: &'static [Dimension],
    pub timing: Timing,
    /// Its part of a release's privacy loss, out of the sum of all shares.
    pub share: u32,
    /// Combinations that cannot occur, known without looking at any data,
    /// are left out of the grid (a pending referral has no outcome).
    pub possible: fn(&[&str]) -> bool,
    /// For a person in several cells at once (a case with several
    /// vulnerability flags): each value of this dimension is measured on
    /// its own, so that a person is one row in each measurement.
    pub per_value: Option<Dimension>,
    pub description: &'static str,
}

fn always(_: &[&str]) -> bool {
    true
}

/// A referral has an outcome exactly when it is completed.
fn outcome_only_when_completed(values: &[&str]) -> bool {
    match values {
        [_, state, outcome] => (*state == ReferralState::Completed.as_str()) == (*outcome != NONE),
        _ => true,
    }
}

/// The designed set, in the order queries are matched against it. Totals
/// come first, in a table of their own: a figure summed from fewer cells
/// carries less noise, and most questions are about totals.
pub const TABLES: &[TableDesign] = &[
    TableDesign {
        name: "cases.city",
        subject: Subject::Cases,
        dims: &[Dimension::City],
        timing: Timing::Monthly,
        share: 3,
        possible: always,
        per_value: None,
        description: "people returned in the month, by city",
    },
    TableDesign {
        name: "cases.governorate_sex_age",
        subject: Subject::Cases,
        dims: &[Dimension::Sex, Dimension::AgeBand],
        timing: Timing::Monthly,
        share: 2,
        possible: always,
        per_value: None,
        description: "people returned in the month, by governorate, sex and age band at return",
    },
    TableDesign {
        name: "cases.governorate_origin",
        subject: Subject::Cases,
        dims: &[Dimension::OriginKind],
        timing: Timing::Monthly,
        share: 1,
        possible: always,
        per_value: None,
        description: "people returned in the month, by governorate and where they returned from",
    },
    TableDesign {
        name: "cases.governorate_sex_vulnerability",
        subject: Subject::Cases,
        dims: &[Dimension::Sex, Dimension::Vulnerability],
        timing: Timing::Monthly,
        share: 2,
        possible: always,
        per_value: Some(Dimension::Vulnerability),
        description: "people returned in the month with each vulnerability flag (or none), by governorate and sex",
    },
    TableDesign {
        name: "cases.governorate_status",
        subject: Subject::Cases,
        dims: &[Dimension::Status],
        timing: Timing::Snapshot,
        share: 2,
        possible: always,
        per_value: None,
        description: "people returned in the month, by governorate and the status of their case at the release",
    },
    TableDesign {
        name: "referrals.city_kind",
        subject: Subject::Referrals,
        dims: &[Dimension::City, Dimension::Kind],
        timing: Timing::Monthly,
        share: 2,
        possible: always,
        per_value: None,
        description: "referrals made in the month, by the case's city and the kind of service",
    },
    TableDesign {
        name: "referrals.governorate_kind_state_outcome",
        subject: Subject::Referrals,
        dims: &[Dimension::Kind, Dimension::State, Dimension::Outcome],
        timing: Timing::Snapshot,
        share: 2,
        possible: outcome_only_when_completed,
        per_value: None,
        description: "referrals made in the month, by governorate, kind, and their state and outcome at the release",
    },
    TableDesign {
        name: "assessments.city_change",
        subject: Subject::Assessments,
        dims: &[Dimension::City, Dimension::Change],
        timing: Timing::Snapshot,
        share: 1,
        possible: always,
        per_value: None,
        description: "people whose baseline was in the month, by city and how their composite score changed since",
    },
    TableDesign {
        name: "assessments.governorate_sex_age_change",
        subject: Subject::Assessments,
        dims: &[Dimension::Sex, Dimension::AgeBand, Dimension::Change],
        timing: Timing::Snapshot,
        share: 1,
        possible: always,
        per_value: None,
        description: "people whose baseline was in the month, by governorate, sex, age band at the baseline and change since",
    },
    TableDesign {
        name: "assessments.governorate_support_change",
        subject: Subject::Assessments,
        dims: &[Dimension::Support, Dimension::Change],
        timing: Timing::Snapshot,
        share: 1,
        possible: always,
        per_value: Some(Dimension::Support),
        description: "people whose baseline was in the month, by governorate, each kind of referral they completed (or none) and change since",
    },
    TableDesign {
        name: "assessments.governorate_dimension_score",
        subject: Subject::Assessments,
        dims: &[Dimension::ScoreDimension, Dimension::Score],
        timing: Timing::Snapshot,
        share: 1,
        possible: always,
        per_value: Some(Dimension::ScoreDimension),
        description: "people whose baseline was in the month, by governorate and the band of their latest score in each dimension",
    },
];

/// The sum of every table's share.
pub fn total_shares() -> u32 {
    TABLES.iter().map(|t| t.share).sum()
}

pub fn table(name: &str) -> Option<&'static TableDesign> {
    TABLES.iter().find(|t| t.name == name)
}

impl TableDesign {
    /// Whether a query grouped by `dims` can be answered from this table:
    /// every dimension is in it (the governorate and the month always are;
    /// the governorate also sums from the city), and no dimension a person
    /// can hold several values of would be summed away.
    pub fn answers(&self, subject: Subject, dims: &[Dimension]) -> bool {
        self.subject == subject
            && dims.iter().all(|d| {
                matches!(d, Dimension::Governorate | Dimension::Month) || self.dims.contains(d)
            })
            && self.per_value.is_none_or(|multi| dims.contains(&multi))
    }

    /// The position (0 to 2) of a further dimension in the stored cells.
    pub fn position(&self, dim: Dimension) -> Option<usize> {
        self.dims.iter().position(|d| *d == dim)
    }

    /// What a query may group by when answered from this table, for the
    /// message that lists what is available.
    pub fn offer(&self) -> String {
        let mut names: Vec<&str> = vec!["month"];
        if self.dims.contains(&Dimension::City) {
            names.push("governorate or city");
        } else {
            names.push("governorate");
        }
        names.extend(
            self.dims
                .iter()
                .filter(|d| **d != Dimension::City)
                .map(|d| d.name()),
        );
        let mut offer = format!("[{}]", names.join(", "));
        if let Some(multi) = self.per_value {
            offer.push_str(&format!(" ({} always named)", multi.name()));
        }
        offer
    }
}

/// The message listing every combination a query about `subject` can ask.
pub fn available(subject: Subject) -> String {
    let offers: Vec<String> = TABLES
        .iter()
        .filter(|t| t.subject == subject)
        .map(TableDesign::offer)
        .collect();
    format!(
        "must be at most three dimensions, all from one released table: any of {tables}",
        tables = offers.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dimension_a_subject_offers_is_in_all() {
        for subject in [Subject::Cases, Subject::Referrals, Subject::Assessments] {
            for dimension in subject.dimensions() {
                assert!(Dimension::ALL.contains(dimension), "{dimension:?}");
            }
        }
        let mut names: Vec<&str> = Dimension::ALL.iter().map(|d| d.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Dimension::ALL.len());
    }

    #[test]
    fn bands_follow_the_contract() {
        let got: Vec<&str> = [0, 4, 5, 11, 12, 17, 18, 24, 25, 59, 60, 90]
            .iter()
            .map(|&a| age_band(a))
            .collect();
        assert_eq!(
            got,
            vec![
                "0-4", "0-4", "5-11", "5-11", "12-17", "12-17", "18-24", "18-24", "25-59", "25-59",
                "60+", "60+"
            ]
        );
    }

    #[test]
    fn every_table_is_well_formed() {
        for table in TABLES {
            assert!(
                table.dims.len() <= 3,
                "{}: d1..d3 hold the dimensions",
                table.name
            );
            assert!(table.share > 0, "{}", table.name);
            for (i, d) in table.dims.iter().enumerate() {
                assert!(table.subject.dimensions().contains(d), "{}", table.name);
                assert!(
                    *d != Dimension::City || i == 0,
                    "{}: the city comes first",
                    table.name
                );
                assert!(!matches!(d, Dimension::Governorate | Dimension::Month));
            }
            if let Some(multi) = table.per_value {
                assert!(table.dims.contains(&multi));
            }
        }
    }

    #[test]
    fn queries_find_their_table() {
        use Dimension as D;
        let first = |subject, dims: &[Dimension]| {
            TABLES
                .iter()
                .find(|t| t.answers(subject, dims))
                .map(|t| t.name)
        };
        assert_eq!(first(Subject::Cases, &[]), Some("cases.city"));
        assert_eq!(
            first(Subject::Cases, &[D::Governorate, D::Month]),
            Some("cases.city")
        );
        assert_eq!(
            first(Subject::Cases, &[D::Governorate, D::Sex]),
            Some("cases.governorate_sex_age")
        );
        assert_eq!(
            first(Subject::Cases, &[D::OriginKind]),
            Some("cases.governorate_origin")
        );
        assert_eq!(first(Subject::Cases, &[D::City, D::Sex]), None);
        assert_eq!(
            first(Subject::Cases, &[D::Status, D::Month]),
            Some("cases.governorate_status")
        );
        assert_eq!(
            first(Subject::Cases, &[D::Vulnerability, D::Sex]),
            Some("cases.governorate_sex_vulnerability")
        );
        assert_eq!(first(Subject::Cases, &[D::City, D::Vulnerability]), None);
        assert_eq!(first(Subject::Cases, &[D::Sex, D::Status]), None);
        assert_eq!(
            first(Subject::Referrals, &[D::State, D::Outcome]),
            Some("referrals.governorate_kind_state_outcome")
        );
        assert_eq!(first(Subject::Referrals, &[D::City, D::State]), None);
    }

    #[test]
    fn outcomes_exist_only_for_completed_referrals() {
        assert!(outcome_only_when_completed(&[
            "education",
            "completed",
            "dropped_out"
        ]));
        assert!(!outcome_only_when_completed(&[
            "education",
            "completed",
            "none"
        ]));
        assert!(!outcome_only_when_completed(&[
            "education",
            "pending",
            "dropped_out"
        ]));
        assert!(outcome_only_when_completed(&[
            "education",
            "pending",
            "none"
        ]));
    }
}
