//! A case's input, parsed: what `validator` rules cannot say (a name that
//! is only spaces, a national ID without digits, a date of birth in the
//! future) is checked here, once, into types the store takes. Every bad
//! field is named, none repeats what was sent.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use crate::db::schema::households;
use crate::db::{AnyConnection, lock_row};
use crate::domain::{
    CityId, HouseholdId, NationalId, NonBlank, OriginKind, Phone, Sex, UserId, VulnerabilityFlag,
};
use crate::error::{ApiError, FieldError};
use crate::users::store as users;

use super::model::{CaseView, Consent, CreateCase, OriginInput, SubjectInput, UpdateCase};

/// A person as a worker describes them, checked.
#[derive(Debug, Clone)]
pub struct NewSubject {
    pub full_name: NonBlank,
    pub full_name_latin: Option<String>,
    pub sex: Sex,
    pub date_of_birth: NaiveDate,
    pub national_id: Option<NationalId>,
    pub phone: Option<Phone>,
    pub address: Option<String>,
}

/// What a PATCH leaves: the merged case, parsed again as a whole.
pub struct Merged {
    pub subject: NewSubject,
    pub origin_kind: OriginKind,
    pub origin_place: Option<String>,
    pub return_date: NaiveDate,
    pub vulnerability_flags: Vec<VulnerabilityFlag>,
    pub vulnerability_notes: Option<String>,
    pub consent: Consent,
    pub household_id: Option<HouseholdId>,
    pub assigned_to: Option<UserId>,
}

/// A new case whose input passed every check that needs no database.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub city_id: CityId,
    pub household_id: Option<HouseholdId>,
    pub subject: NewSubject,
    pub origin: OriginInput,
    pub return_date: NaiveDate,
    pub vulnerability_flags: Vec<VulnerabilityFlag>,
    pub vulnerability_notes: Option<String>,
    pub consent: Consent,
    pub assigned_to: Option<UserId>,
}

/// Parses a subject; `prefix` is the JSON path it came under.
pub fn parse_subject(
    subject: &SubjectInput,
    prefix: &str,
    today: NaiveDate,
) -> Result<NewSubject, Vec<FieldError>> {
    let field = |name: &str| format!("{prefix}{name}");
    let mut errors = Vec::new();
    let full_name = NonBlank::parse(subject.full_name.as_str())
        .map_err(|e| errors.push(e.at(field("full_name"))))
        .ok();
    errors.extend(check_date_of_birth(
        subject.date_of_birth,
        &field("date_of_birth"),
        today,
    ));
    let national_id = optional(&subject.national_id, |t| NationalId::parse(t))
        .map_err(|e| errors.push(e.at(field("national_id"))))
        .ok();
    let phone = optional(&subject.phone, |t| Phone::parse(t))
        .map_err(|e| errors.push(e.at(field("phone"))))
        .ok();
    match (full_name, national_id, phone) {
        (Some(full_name), Some(national_id), Some(phone)) if errors.is_empty() => Ok(NewSubject {
            full_name,
            full_name_latin: subject.full_name_latin.clone(),
            sex: subject.sex,
            date_of_birth: subject.date_of_birth,
            national_id,
            phone,
            address: subject.address.clone(),
        }),
        _ => Err(errors),
    }
}

fn optional<T, E>(
    text: &Option<String>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, E> {
    text.as_deref().map(parse).transpose()
}

/// Parses a new case: every field checked, every bad one named.
pub fn parse_case(input: &CreateCase, today: NaiveDate) -> Result<NewCase, Vec<FieldError>> {
    let subject = parse_subject(&input.subject, "subject.", today);
    let return_date = check_return_date(input.return_date, today);
    match (subject, return_date) {
        (Ok(subject), None) => Ok(NewCase {
            city_id: input.city_id,
            household_id: input.household_id,
            subject,
            origin: input.origin.clone(),
            return_date: input.return_date,
            vulnerability_flags: input.vulnerability_flags.clone(),
            vulnerability_notes: input.vulnerability_notes.clone(),
            consent: input.consent.clone(),
            assigned_to: input.assigned_to,
        }),
        (subject, return_date) => {
            let mut errors = subject.err().unwrap_or_default();
            errors.extend(return_date);
            Err(errors)
        }
    }
}

pub fn check_date_of_birth(dob: NaiveDate, field: &str, today: NaiveDate) -> Option<FieldError> {
    if dob > today {
        Some(FieldError::new(field, "must not be in the future"))
    } else if dob.year() < 1900 {
        Some(FieldError::new(field, "must be after 1900"))
    } else {
        None
    }
}

pub fn check_return_date(date: NaiveDate, today: NaiveDate) -> Option<FieldError> {
    if date.year() < 2003 || date > today + chrono::Duration::days(366) {
        Some(FieldError::new(
            "return_date",
            "must be between 2003 and a year from today",
        ))
    } else {
        None
    }
}

/// The rules a PATCH's own fields must keep, checked before its If-Match,
/// so that bad input is a 422 naming the field whatever the version.
/// (`store::update` parses the merged case again.)
pub fn check_patch(patch: &UpdateCase, today: NaiveDate) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(subject) = &patch.subject {
        if let Some(Err(e)) = subject.full_name.as_deref().map(NonBlank::parse) {
            errors.push(e.at("subject.full_name"));
        }
        if let Some(dob) = subject.date_of_birth {
            errors.extend(check_date_of_birth(dob, "subject.date_of_birth", today));
        }
        if let Some(Some(Err(e))) = subject
            .national_id
            .as_ref()
            .map(|id| id.as_deref().map(NationalId::parse))
        {
            errors.push(e.at("subject.national_id"));
        }
        if let Some(Some(Err(e))) = subject
            .phone
            .as_ref()
            .map(|p| p.as_deref().map(Phone::parse))
        {
            errors.push(e.at("subject.phone"));
        }
    }
    if let Some(date) = patch.return_date {
        errors.extend(check_return_date(date, today));
    }
    errors
}

/// Checks that refer to other rows: the household is in the case's city
/// and the assignee works there.
pub fn check_links(
    conn: &mut AnyConnection,
    city: CityId,
    household: Option<HouseholdId>,
    assigned_to: Option<UserId>,
) -> Result<Vec<FieldError>, ApiError> {
    let mut errors = Vec::new();
    if let Some(household) = household {
        // Locked, so that a transfer moving the household cannot slip in
        // between this check and the write that relies on it.
        lock_row(conn, "households", household.into())?;
        let held_in: Option<CityId> = households::table
            .find(household)
            .select(households::city_id)
            .first(conn)
            .optional()?;
        if held_in != Some(city) {
            errors.push(FieldError::new(
                "household_id",
                "is not a household of this city",
            ));
        }
    }
    if let Some(user) = assigned_to {
        let works_here = match users::load_principal(conn, user)? {
            Some(p) => p.role.is_city_scoped() && p.city_ids.contains(&city),
            None => false,
        };
        if !works_here {
            errors.push(FieldError::new(
                "assigned_to",
                "must be an active social worker or supervisor of this city",
            ));
        }
    }
    Ok(errors)
}

/// A value parsed without error and no further errors, or every error.
pub fn all_or_nothing<T>(
    parsed: Result<T, Vec<FieldError>>,
    more: Vec<FieldError>,
) -> Result<T, ApiError> {
    match parsed {
        Ok(value) if more.is_empty() => Ok(value),
        parsed => {
            let mut errors = parsed.err().unwrap_or_default();
            errors.extend(more);
            Err(ApiError::Validation(errors))
        }
    }
}

/// A PATCH laid over the current case, parsed again as a whole (a field
/// the patch leaves out keeps its value; `null` clears an optional one).
pub fn merge(current: &CaseView, patch: &UpdateCase, today: NaiveDate) -> Result<Merged, ApiError> {
    let subject = patch.subject.clone().unwrap_or_default();
    let now = &current.subject;
    let merged = SubjectInput {
        full_name: subject.full_name.unwrap_or_else(|| now.full_name.clone()),
        full_name_latin: subject
            .full_name_latin
            .unwrap_or_else(|| now.full_name_latin.clone()),
        sex: subject.sex.unwrap_or(now.sex),
        date_of_birth: subject.date_of_birth.unwrap_or(now.date_of_birth),
        national_id: subject
            .national_id
            .unwrap_or_else(|| now.national_id.clone()),
        phone: subject.phone.unwrap_or_else(|| now.phone.clone()),
        address: subject.address.unwrap_or_else(|| now.address.clone()),
    };
    let return_date = patch.return_date.unwrap_or(current.return_date);
    let subject = all_or_nothing(
        parse_subject(&merged, "subject.", today),
        check_return_date(return_date, today).into_iter().collect(),
    )?;
    let (origin_kind, origin_place) = match &patch.origin {
        Some(origin) => (origin.kind, origin.place.clone()),
        None => (current.origin.kind, current.origin.place.clone()),
    };
    Ok(Merged {
        subject,
        origin_kind,
        origin_place,
        return_date,
        vulnerability_flags: patch
            .vulnerability_flags
            .clone()
            .unwrap_or_else(|| current.vulnerability_flags.clone()),
        vulnerability_notes: patch
            .vulnerability_notes
            .clone()
            .unwrap_or_else(|| current.vulnerability_notes.clone()),
        consent: patch
            .consent
            .clone()
            .unwrap_or_else(|| current.consent.clone()),
        household_id: patch.household_id.unwrap_or(current.household_id),
        assigned_to: patch.assigned_to.unwrap_or(current.assigned_to),
    })
}
