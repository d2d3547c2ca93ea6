//! Properties of measuring a table: what is published depends on the data
//! only through the mechanism, and the mechanism sees every row once.

use std::sync::Mutex;

use proptest::prelude::*;

use super::*;
use crate::stats::design::TABLES;
use crate::stats::source::AssessmentGroup;
use crate::stats::source::City;

/// Ignores the rows: what it returns depends on the cell count only.
struct Constant;

impl Mechanism for Constant {
    fn measure(
        &self,
        cells: u32,
        _: Vec<u32>,
        d_in: u32,
        rho: f64,
    ) -> Result<Measured, MechanismError> {
        Ok(Measured {
            counts: (0..i64::from(cells)).collect(),
            rho,
            scale: f64::from(d_in),
        })
    }
}

/// Counts the rows exactly and remembers what it was given.
struct Recording(Mutex<Vec<Vec<i64>>>);

impl Mechanism for Recording {
    fn measure(
        &self,
        cells: u32,
        rows: Vec<u32>,
        _: u32,
        rho: f64,
    ) -> Result<Measured, MechanismError> {
        let mut counts = vec![0i64; cells as usize];
        for row in rows {
            counts[row as usize] += 1;
        }
        if let Ok(mut seen) = self.0.lock() {
            seen.push(counts.clone());
        }
        Ok(Measured {
            counts,
            rho,
            scale: 1.0,
        })
    }
}

use super::mechanism::Measured;

fn places() -> Places {
    let city = |id: &str, code: &str, governorate: &str| City {
        id: id.into(),
        code: code.into(),
        governorate: governorate.into(),
    };
    Places {
        governorates: vec!["IQ-AN".into(), "IQ-NI".into()],
        cities: vec![
            city("c1", "FAL", "IQ-AN"),
            city("c2", "MOS", "IQ-NI"),
            city("c3", "TAF", "IQ-NI"),
        ],
    }
}

fn cases() -> impl Strategy<Value = Vec<CaseGroup>> {
    let group = (
        0u32..3,
        prop::sample::select(vec!["c1", "c2", "c3"]),
        prop::sample::select(vec!["female", "male"]),
        1950i32..2025,
        prop::sample::select(vec!["open", "active", "closed", "erased"]),
        prop::sample::select(vec!["camp", "detention", "other"]),
        prop::sample::select(vec![
            "",
            "disability",
            "disability,unemployed",
            "gbv_survivor",
        ]),
        1i64..40,
    );
    prop::collection::vec(group, 0..30).prop_map(|groups| {
        groups
            .into_iter()
            .map(|(m, city, sex, born, status, origin, flags, n)| CaseGroup {
                month: format!("2025-0{}", m + 1),
                city_id: city.into(),
                sex: sex.into(),
                birth_year: born,
                status: status.into(),
                origin_kind: origin.into(),
                vulnerability_flags: flags.into(),
                n,
            })
            .collect()
    })
}

fn referrals() -> impl Strategy<Value = Vec<ReferralGroup>> {
    let group = (
        0u32..3,
        prop::sample::select(vec!["c1", "c2", "c3"]),
        prop::sample::select(vec!["psychosocial", "education"]),
        prop::sample::select(vec![
            ("pending", None),
            ("completed", Some("dropped_out")),
            ("declined", None),
        ]),
        1i64..40,
    );
    prop::collection::vec(group, 0..30).prop_map(|groups| {
        groups
            .into_iter()
            .map(|(m, city, kind, (state, outcome), n)| ReferralGroup {
                month: format!("2025-0{}", m + 1),
                city_id: city.into(),
                kind: kind.into(),
                state: state.into(),
                outcome: outcome.map(str::to_string),
                n,
            })
            .collect()
    })
}

fn assessed() -> impl Strategy<Value = Vec<AssessmentGroup>> {
    let group = (
        0u32..3,
        prop::sample::select(vec!["c1", "c2", "c3"]),
        prop::sample::select(vec!["female", "male"]),
        1950i32..2025,
        (0i16..=10, 0i16..=10, 0i16..=10, 0i16..=10),
        prop::option::of(-5i16..=5),
        prop::sample::select(vec![
            "",
            ",psychosocial",
            ",education,vocational_training",
            ",employment,civil_documentation,community",
        ]),
        1i64..40,
    );
    prop::collection::vec(group, 0..30).prop_map(|groups| {
        groups
            .into_iter()
            .map(
                |(m, city, sex, born, (e, s, p, c), change, support, n)| AssessmentGroup {
                    month: format!("2025-0{}", m + 1),
                    city_id: city.into(),
                    sex: sex.into(),
                    birth_year: born,
                    economic: e,
                    social: s,
                    psychosocial: p,
                    composite: c,
                    change,
                    support: support.into(),
                    n,
                },
            )
            .collect()
    })
}

fn measure_all(
    a: &[CaseGroup],
    b: &[ReferralGroup],
    c: &[AssessmentGroup],
    mechanism: &dyn Mechanism,
) -> Vec<MeasuredTable> {
    let m = |t: &str| Month::parse(t).unwrap();
    TABLES
        .iter()
        .map(|table| {
            match table.subject {
                crate::stats::design::Subject::Cases => measure(
                    table,
                    &places(),
                    m("2025-01"),
                    m("2025-03"),
                    a,
                    1,
                    0.1,
                    mechanism,
                ),
                crate::stats::design::Subject::Referrals => measure(
                    table,
                    &places(),
                    m("2025-01"),
                    m("2025-03"),
                    b,
                    3,
                    0.1,
                    mechanism,
                ),
                crate::stats::design::Subject::Assessments => measure(
                    table,
                    &places(),
                    m("2025-01"),
                    m("2025-03"),
                    c,
                    1,
                    0.1,
                    mechanism,
                ),
            }
            .unwrap()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// With the mechanism replaced by one that ignores its rows, two
    /// different data sets give the very same release: every published
    /// figure, and which cells exist, reach the data only through the
    /// mechanism (OpenDP in production).
    #[test]
    fn figures_depend_on_data_only_through_the_mechanism(
        cases_a in cases(), cases_b in cases(), refs_a in referrals(), refs_b in referrals(),
        assessed_a in assessed(), assessed_b in assessed(),
    ) {
        let a = measure_all(&cases_a, &refs_a, &assessed_a, &Constant);
        let b = measure_all(&cases_b, &refs_b, &assessed_b, &Constant);
        for (x, y) in a.iter().zip(&b) {
            prop_assert_eq!(&x.cells, &y.cells, "{}", x.design.name);
            prop_assert_eq!(x.rho, y.rho);
        }
    }

    /// The mechanism is handed every row of the data, each in the cell
    /// it belongs to, and what is published is exactly what it returns.
    #[test]
    fn the_mechanism_sees_each_row_once_and_its_answer_is_published(
        cases in cases(), refs in referrals(), assessed in assessed(),
    ) {
        let recording = Recording(Mutex::new(Vec::new()));
        let measured = measure_all(&cases, &refs, &assessed, &recording);
        let seen = recording.0.lock().unwrap().clone();
        let people: i64 = cases.iter().map(|g| g.n).sum();
        let referred: i64 = refs.iter().map(|g| g.n).sum();
        let people_assessed: i64 = assessed.iter().map(|g| g.n).sum();
        let mut at = 0;
        for table in &measured {
            let given: Vec<i64> = seen[at..at + table.measurements as usize].concat();
            at += table.measurements as usize;
            let published: i64 = table.cells.iter().map(|c| c.1).sum();
            prop_assert_eq!(published, given.iter().sum::<i64>(), "{}", table.design.name);
            let expected = match (table.design.subject, table.design.per_value) {
                (crate::stats::design::Subject::Cases, None) => people,
                (crate::stats::design::Subject::Referrals, _) => referred,
                // One row per flag held, or one for none.
                (crate::stats::design::Subject::Cases, Some(_)) => cases
                    .iter()
                    .map(|g| g.n * g.vulnerability_flags.split(',').filter(|f| !f.is_empty()).count().max(1) as i64)
                    .sum(),
                (crate::stats::design::Subject::Assessments, None) => people_assessed,
                // One row per kind of support (or none), or per score.
                (crate::stats::design::Subject::Assessments, Some(Dimension::Support)) => assessed
                    .iter()
                    .map(|g| g.n * g.support.split(',').filter(|k| !k.is_empty()).count().max(1) as i64)
                    .sum(),
                (crate::stats::design::Subject::Assessments, Some(_)) => 4 * people_assessed,
            };
            prop_assert_eq!(published, expected, "{}", table.design.name);
        }
    }
}

#[test]
fn the_grid_holds_every_place_and_value_and_nothing_impossible() {
    let m = |t: &str| Month::parse(t).unwrap();
    let by_name = |name: &str| TABLES.iter().find(|t| t.name == name).unwrap();
    let cells = grid(by_name("cases.city"), &places(), m("2025-01"), m("2025-02"));
    assert_eq!(cells.len(), 2 * 3, "two months of three cities");
    let ages = grid(
        by_name("cases.governorate_sex_age"),
        &places(),
        m("2025-01"),
        m("2025-01"),
    );
    assert_eq!(ages.len(), 2 * 2 * 6, "two governorates with cities");
    let mut lonely = places();
    lonely.governorates.push("IQ-BA".into());
    let ages_too = grid(
        by_name("cases.governorate_sex_age"),
        &lonely,
        m("2025-01"),
        m("2025-01"),
    );
    assert_eq!(
        ages_too.len(),
        ages.len(),
        "a governorate with no city has no cells"
    );
    let referral = grid(
        by_name("referrals.governorate_kind_state_outcome"),
        &places(),
        m("2025-01"),
        m("2025-01"),
    );
    // Per governorate and each of nine kinds: five states without an
    // outcome, and completed with each of eight outcomes.
    assert_eq!(referral.len(), 2 * 9 * (5 + 8));
    let vulnerability = grid(
        by_name("cases.governorate_sex_vulnerability"),
        &places(),
        m("2025-01"),
        m("2025-01"),
    );
    let partitions: std::collections::BTreeSet<usize> = vulnerability.iter().map(|c| c.0).collect();
    assert_eq!(
        partitions.len(),
        10,
        "one measurement per flag and one for none"
    );
}
