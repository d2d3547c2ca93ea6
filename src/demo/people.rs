//! Made-up returnees: a mother and her children, or a child who came back
//! alone, described as the same `CreateCase` a social worker would submit.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use crate::cases::model::{Consent, CreateCase, OriginInput, SubjectInput};
use crate::domain::{CityId, ConsentGiver, OriginKind, Sex, UserId, VulnerabilityFlag, time};

use super::data::{self, Name};
use super::rng::Rng;

/// Where a family is being opened, and by whom.
pub struct Office<'a> {
    pub city_id: CityId,
    pub name_ar: &'a str,
    pub worker: UserId,
}

/// One person to open a case for.
pub struct Member {
    pub input: CreateCase,
    pub created_at: NaiveDateTime,
    pub age: i32,
    pub mother: bool,
}

/// A family (with a household label, sometimes) or a child alone.
pub struct Family {
    pub household: bool,
    pub label: Option<String>,
    pub members: Vec<Member>,
}

/// Children per mother: 1 to 6, most often 2 or 3.
const CHILDREN_WEIGHTS: [u32; 6] = [15, 22, 22, 18, 13, 10];
/// Return years 2019..=2026: repatriations grew from 2021.
const RETURN_YEAR_WEIGHTS: [u32; 8] = [3, 5, 10, 15, 18, 20, 19, 10];

fn spelled(rng: &mut Rng, name: &Name) -> (&'static str, &'static str) {
    (*rng.pick(name.ar), *rng.pick(name.latin))
}

/// A full name as Iraqis write it: own name, father's, grandfather's,
/// family; in Arabic script and (often) in Latin letters.
fn full_name(
    rng: &mut Rng,
    own: &Name,
    father: &Name,
    grandfather: &Name,
    family: &Name,
) -> (String, String) {
    let parts = [own, father, grandfather, family].map(|n| spelled(rng, n));
    let arabic = parts.map(|p| p.0).join(" ");
    let latin = parts.map(|p| p.1).join(" ");
    (arabic, latin)
}

fn phone(rng: &mut Rng) -> String {
    let operator = *rng.pick(&["770", "771", "780", "781", "750", "751", "772", "790"]);
    let rest = rng.digits(7);
    // As they are written on forms: local, international, spaced.
    match rng.range(0, 2) {
        0 => format!("0{operator}{rest}"),
        1 => format!("+964{operator}{rest}"),
        _ => format!("+964 {operator} {} {}", &rest[..3], &rest[3..]),
    }
}

fn national_id(rng: &mut Rng) -> String {
    // The unified national card number: 12 digits.
    format!("{}{}", rng.range(1, 2), rng.digits(11))
}

fn birth_date(rng: &mut Rng, age: i32, on: NaiveDate) -> NaiveDate {
    let latest = on - Duration::days(i64::from(age) * 365 + 1);
    rng.day_between(latest - Duration::days(364), latest)
}

fn origin(rng: &mut Rng, office: &Office<'_>) -> OriginInput {
    let (kind, place) = match rng.weighted(&[70, 8, 14, 4, 4]) {
        0 => (OriginKind::Camp, Some(*rng.pick(data::CAMPS))),
        1 => (OriginKind::OtherCountry, Some(*rng.pick(data::ELSEWHERE))),
        2 => {
            let other = rng.pick(data::PLACES);
            let place = if other.name_ar == office.name_ar {
                data::PLACES[0].name_ar
            } else {
                other.name_ar
            };
            (OriginKind::InternalDisplacement, Some(place))
        }
        3 => (OriginKind::Detention, Some(*rng.pick(data::DETENTION))),
        _ => (OriginKind::Other, None),
    };
    OriginInput {
        kind,
        place: place.map(str::to_string),
    }
}

fn address(rng: &mut Rng, office: &Office<'_>) -> Option<String> {
    rng.chance(0.8).then(|| {
        format!(
            "{}، {}، دار {}",
            rng.pick(data::NEIGHBOURHOODS),
            office.name_ar,
            rng.range(1, 240)
        )
    })
}

/// When the case was opened: some days after the return, in office hours,
/// never in the future.
fn opened_at(rng: &mut Rng, returned: NaiveDate, now: NaiveDateTime) -> NaiveDateTime {
    let day = returned + Duration::days(rng.range(0, 45));
    let seconds = u32::try_from(rng.range(5 * 3600, 12 * 3600)).unwrap_or(5 * 3600);
    let at =
        day.and_time(NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).unwrap_or_default());
    if at >= now {
        now - Duration::seconds(rng.range(60, 86_400))
    } else {
        at
    }
}

struct Shared {
    origin: OriginInput,
    returned: NaiveDate,
    opened: NaiveDateTime,
    share: bool,
}

/// Who one member is, before the details are made up.
struct Person {
    names: (String, String),
    sex: Sex,
    age: i32,
    mother: bool,
    household: bool,
}

fn member(
    rng: &mut Rng,
    office: &Office<'_>,
    shared: &Shared,
    person: Person,
    today: NaiveDate,
) -> Member {
    let Person {
        names,
        sex,
        age,
        mother,
        household,
    } = person;
    let child = !mother;
    let has_id = rng.chance(if child { 0.4 } else { 0.65 });
    let mut flags = Vec::new();
    let mut flag = |f: VulnerabilityFlag, p: f64, rng: &mut Rng| {
        if rng.chance(p) {
            flags.push(f);
        }
    };
    if mother {
        flag(VulnerabilityFlag::FemaleHeadedHousehold, 0.65, rng);
        flag(VulnerabilityFlag::Unemployed, 0.7, rng);
        flag(VulnerabilityFlag::GbvSurvivor, 0.12, rng);
        flag(VulnerabilityFlag::PsychosocialDistress, 0.4, rng);
        flag(VulnerabilityFlag::ChronicIllness, 0.08, rng);
    } else {
        if !household {
            flag(VulnerabilityFlag::UnaccompaniedChild, 1.0, rng);
        }
        if (6..18).contains(&age) {
            flag(VulnerabilityFlag::OutOfSchool, 0.55, rng);
        }
        flag(VulnerabilityFlag::PsychosocialDistress, 0.35, rng);
        flag(VulnerabilityFlag::ChronicIllness, 0.03, rng);
    }
    flag(VulnerabilityFlag::Disability, 0.04, rng);
    if !has_id {
        flags.push(VulnerabilityFlag::LacksCivilDocuments);
    }
    let (arabic, latin) = names;
    Member {
        input: CreateCase {
            city_id: office.city_id,
            household_id: None,
            subject: SubjectInput {
                full_name: arabic,
                full_name_latin: rng.chance(0.7).then_some(latin),
                sex,
                date_of_birth: birth_date(rng, age, shared.returned.min(today)),
                national_id: has_id.then(|| national_id(rng)),
                phone: (mother && rng.chance(0.75)).then(|| phone(rng)),
                address: address(rng, office),
            },
            origin: shared.origin.clone(),
            return_date: shared.returned,
            vulnerability_flags: flags,
            vulnerability_notes: rng
                .chance(0.15)
                .then(|| (*rng.pick(data::VULNERABILITY_NOTES)).to_string()),
            consent: Consent {
                share_with_providers: shared.share,
                given_by: if mother {
                    ConsentGiver::SelfConsent
                } else {
                    ConsentGiver::Guardian
                },
                given_at: time::to_utc(shared.opened),
            },
            assigned_to: Some(office.worker),
        },
        created_at: shared.opened,
        age,
        mother,
    }
}

/// A family of at most `room` people (the batch may have less room left
/// than a whole family needs).
pub fn family(rng: &mut Rng, office: &Office<'_>, now: NaiveDateTime, room: usize) -> Family {
    let today = now.date();
    let year = 2019 + rng.weighted(&RETURN_YEAR_WEIGHTS) as i32;
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(today);
    let last = NaiveDate::from_ymd_opt(year, 12, 31)
        .unwrap_or(today)
        .min(today);
    let returned = rng.day_between(first, last);
    let shared = Shared {
        origin: origin(rng, office),
        returned,
        opened: opened_at(rng, returned, now),
        share: rng.chance(0.85),
    };
    let family_name = rng.pick(data::FAMILIES);

    // One child in twenty comes back alone.
    if room == 1 || rng.chance(0.05) {
        let lineage = (rng_man(rng), rng_man(rng), family_name);
        let person = child(rng, lineage, (10, 17), false);
        let child = member(rng, office, &shared, person, today);
        return Family {
            household: false,
            label: None,
            members: vec![child],
        };
    }

    let mother_age = i32::try_from(rng.range(19, 48)).unwrap_or(30);
    let children = (rng.weighted(&CHILDREN_WEIGHTS) + 1).min(room - 1);
    let (own, her_father, her_grandfather) = (rng.pick(data::WOMEN), rng_man(rng), rng_man(rng));
    let her_family = rng.pick(data::FAMILIES);
    let mother_name = full_name(rng, own, her_father, her_grandfather, her_family);
    let label = rng.chance(0.7).then(|| {
        format!(
            "أسرة {}",
            mother_name.0.split(' ').next().unwrap_or_default()
        )
    });
    let mother = Person {
        names: mother_name,
        sex: Sex::Female,
        age: mother_age,
        mother: true,
        household: true,
    };
    let mut members = vec![member(rng, office, &shared, mother, today)];
    // The children's father and grandfather: the same for all of them.
    let father = rng_man(rng);
    let grandfather = rng_man(rng);
    let oldest = (mother_age - 16).clamp(0, 17);
    for _ in 0..children {
        let person = child(
            rng,
            (father, grandfather, family_name),
            (0, i64::from(oldest)),
            true,
        );
        members.push(member(rng, office, &shared, person, today));
    }
    Family {
        household: true,
        label,
        members,
    }
}

/// A child of the given father, grandfather and family, of an age in
/// `ages` (inclusive).
fn child(
    rng: &mut Rng,
    (father, grandfather, family): (&Name, &Name, &Name),
    ages: (i64, i64),
    household: bool,
) -> Person {
    let sex = if rng.chance(0.5) {
        Sex::Female
    } else {
        Sex::Male
    };
    let own = rng.pick(if sex == Sex::Female {
        data::GIRLS
    } else {
        data::BOYS
    });
    Person {
        names: full_name(rng, own, father, grandfather, family),
        sex,
        age: i32::try_from(rng.range(ages.0, ages.1)).unwrap_or(0),
        mother: false,
        household,
    }
}

fn rng_man(rng: &mut Rng) -> &'static Name {
    rng.pick(data::MEN)
}

#[cfg(test)]
mod tests {
    use validator::Validate;

    use super::*;
    use crate::cases::checks::parse_subject;

    #[test]
    fn made_up_cases_pass_the_api_s_own_validation() {
        let office = Office {
            city_id: CityId::new(),
            name_ar: "الموصل",
            worker: UserId::new(),
        };
        let now = time::now();
        let mut rng = Rng::new(42, 0);
        let mut people = 0;
        let mut households = 0;
        while people < 5_000 {
            let family = family(&mut rng, &office, now, 7);
            households += usize::from(family.household);
            for m in &family.members {
                m.input.validate().unwrap();
                assert!(parse_subject(&m.input.subject, "subject.", now.date()).is_ok());
                assert!(m.created_at <= now);
                assert!(m.input.return_date <= now.date());
                people += 1;
            }
            if family.household {
                assert_eq!(family.members[0].input.subject.sex, Sex::Female);
                assert!(family.members.len() >= 2);
            }
        }
        // Mothers with 1-6 children: about 4.3 people a household.
        let per = people as f64 / households as f64;
        assert!((3.5..5.5).contains(&per), "{per}");
    }
}
