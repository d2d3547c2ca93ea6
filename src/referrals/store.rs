//! Queries on `referrals`: sealed on the way in (the reason, outcome note
//! and decision reason, with the case's data key, bound to the referral's id
//! and city), moved along the state machine, moved with their case.
//! Opening them for a reader is `views`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::audit::Entity;
use crate::auth::guard::CityRow;
use crate::auth::policy::{Action, Resource, Scope};
use crate::cases::data_keys;
use crate::cases::lifecycle::reseal_text;
use crate::cases::row::CaseRow;
use crate::cases::store as cases;
use crate::crypto::{Keyring, PersonKeys, Sealed};
use crate::db::column::TextSet;
use crate::db::schema::{organisations, referrals};
use crate::db::{AnyConnection, lock_row_and_case};
use crate::domain::{
    CaseId, CaseStatus, CityId, NonBlank, OrganisationId, OrganisationKind, ReferralId,
    ReferralState, UserId, time,
};
use crate::error::{ApiError, FieldError};
use crate::pagination::{Cursor, CursorKey, PageRequest};

use super::model::{CreateReferral, NewReferral, ReferralQuery, ReferralRow};

pub const TABLE: &str = "referrals";

/// A referral is held by the referring city and addressed to an
/// organisation, which reaches it only while it is open.
impl CityRow for ReferralRow {
    type Id = ReferralId;
    const ENTITY: Entity = Entity::Referral;

    /// Locks the case first, then the referral (the order every writer of
    /// both takes).
    fn find_for_update(
        conn: &mut AnyConnection,
        id: ReferralId,
    ) -> Result<Option<ReferralRow>, ApiError> {
        lock_row_and_case(conn, "referrals", id.into())?;
        find(conn, id)
    }

    fn find_to_read(
        conn: &mut AnyConnection,
        id: ReferralId,
    ) -> Result<Option<ReferralRow>, ApiError> {
        find(conn, id)
    }

    fn id(&self) -> ReferralId {
        self.id
    }

    fn city(&self) -> CityId {
        self.city_id
    }

    fn resource(&self, _: Action) -> Resource {
        Resource::Referral {
            city: self.city_id,
            organisation: self.organisation_id,
            open: self.state.is_open(),
        }
    }
}

pub fn find(conn: &mut AnyConnection, id: ReferralId) -> Result<Option<ReferralRow>, ApiError> {
    Ok(referrals::table
        .find(id)
        .select(referrals::all_columns)
        .first(conn)
        .optional()?)
}

/// A referral's input checked: the reason not blank, the organisation
/// active and of the referral's kind, the due date not past (422 naming
/// each bad field).
pub fn parse(
    conn: &mut AnyConnection,
    input: CreateReferral,
    today: NaiveDate,
) -> Result<NewReferral, ApiError> {
    let mut errors = Vec::new();
    let reason = NonBlank::parse(input.reason)
        .map_err(|e| errors.push(e.at("reason")))
        .ok();
    let org: Option<(OrganisationKind, bool)> = organisations::table
        .find(input.organisation_id)
        .select((organisations::kind, organisations::active))
        .first(conn)
        .optional()?;
    match org {
        None | Some((_, false)) => errors.push(FieldError::new(
            "organisation_id",
            "is not an active organisation",
        )),
        Some((kind, true)) if kind != input.kind => errors.push(FieldError::new(
            "organisation_id",
            "is not an organisation of this kind",
        )),
        Some(_) => {}
    }
    if input.due_by.is_some_and(|due| due < today) {
        errors.push(FieldError::new("due_by", "must not be in the past"));
    }
    match reason {
        Some(reason) if errors.is_empty() => Ok(NewReferral {
            kind: input.kind,
            organisation_id: input.organisation_id,
            reason,
            needs: input.needs,
            due_by: input.due_by,
        }),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Refers `case`. The person must have consented to sharing with
/// providers (409), the case must not be closed (409) or its person
/// erased (410). Returns the new row.
pub fn create(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
    referral: &NewReferral,
    by: UserId,
) -> Result<ReferralRow, ApiError> {
    if !case.consent_share {
        return Err(ApiError::Conflict(
            "The person has not consented to sharing with providers.".into(),
        ));
    }
    if case.status == CaseStatus::Closed {
        return Err(ApiError::Conflict(
            "The case is closed; reopen it before referring.".into(),
        ));
    }
    let person = data_keys::load(conn, keyring, case.id)?;
    if person.is_erased() {
        return Err(ApiError::Gone);
    }
    let row = seal_new(&person, case.id, case.city_id, referral, by, time::now())?;
    diesel::insert_into(referrals::table)
        .values(&row)
        .execute(conn)?;
    cases::mark_active(conn, case.id)?;
    Ok(row)
}

/// Seals one of a referral's text fields with the person's key, bound to
/// the referral's id and city.
pub fn seal(
    person: &PersonKeys,
    referral: ReferralId,
    city: CityId,
    column: &str,
    value: &str,
) -> Result<Sealed, ApiError> {
    person
        .row(referral, city)
        .seal_text(TABLE, column, value.trim())
        .map_err(ApiError::internal)
}

/// A new pending referral of the case `case` held in `city`, its reason
/// sealed with the person's key; nothing is stored.
pub fn seal_new(
    person: &PersonKeys,
    case: CaseId,
    city: CityId,
    referral: &NewReferral,
    by: UserId,
    now: NaiveDateTime,
) -> Result<ReferralRow, ApiError> {
    let id = ReferralId::new();
    let reason_enc = seal(person, id, city, "reason", referral.reason.as_str())?;
    Ok(ReferralRow {
        id,
        case_id: case,
        city_id: city,
        organisation_id: referral.organisation_id,
        kind: referral.kind,
        state: ReferralState::Pending,
        reason_enc,
        needs: TextSet::new(&referral.needs),
        due_by: referral.due_by,
        outcome: None,
        outcome_note_enc: None,
        decision_reason_enc: None,
        created_by: by,
        created_at: now,
        accepted_at: None,
        started_at: None,
        completed_at: None,
        declined_at: None,
        cancelled_at: None,
        updated_by: by,
        updated_at: now,
        version: 1,
    })
}

/// Stores referrals in multi-row INSERTs (`sanad demo seed`).
pub fn insert_many(conn: &mut AnyConnection, rows: &[ReferralRow]) -> Result<(), ApiError> {
    let rows: Vec<&ReferralRow> = rows.iter().collect();
    crate::insert_batches!(conn, referrals::table, rows, 22);
    Ok(())
}

/// What a list may return: the scope (cities or one organisation's open
/// referrals) and the caller's filters.
pub struct ListFilter {
    pub cities: Option<Vec<CityId>>,
    pub organisation: Option<OrganisationId>,
    pub open_only: bool,
    pub state: Option<ReferralState>,
    pub kind: Option<OrganisationKind>,
    pub organisation_id: Option<OrganisationId>,
    /// Open referrals due before this day.
    pub overdue_before: Option<NaiveDate>,
    /// Pending first, then oldest first (a provider's inbox); otherwise
    /// newest first.
    pub inbox_order: bool,
}

impl ListFilter {
    /// The caller's filters within their scope: the referring cities' for a
    /// city, newest first; one organisation's open referrals for a
    /// provider, pending first.
    pub fn within(
        scope: Scope,
        query: ReferralQuery,
        today: NaiveDate,
    ) -> Result<ListFilter, ApiError> {
        let mut filter = ListFilter {
            cities: None,
            organisation: None,
            open_only: false,
            state: query.status,
            kind: query.kind,
            organisation_id: query.organisation_id,
            overdue_before: query.overdue.unwrap_or(false).then_some(today),
            inbox_order: false,
        };
        match scope {
            Scope::Cities(cities) => filter.cities = Some(cities),
            Scope::Organisation(org) => {
                filter.organisation = Some(org);
                filter.open_only = true;
                filter.inbox_order = true;
            }
            Scope::National | Scope::Nothing => return Err(ApiError::Forbidden),
        }
        Ok(filter)
    }
}

/// Where a referral stands in a list: its time, and in a provider's inbox
/// its rank (0 pending, 1 accepted or in progress) before that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListKey {
    pub rank: u8,
    pub at: NaiveDateTime,
}

impl CursorKey for ListKey {
    fn encode(&self) -> String {
        format!("{}.{}", self.rank, self.at.encode())
    }

    fn decode(text: &str) -> Option<ListKey> {
        let (rank, at) = text.split_once('.')?;
        let rank = rank.parse().ok().filter(|r| *r <= 1)?;
        Some(ListKey {
            rank,
            at: NaiveDateTime::decode(at)?,
        })
    }
}

/// Where the next page starts after this row.
pub fn position(row: &ReferralRow, filter: &ListFilter) -> Cursor<ListKey> {
    let rank = u8::from(filter.inbox_order && row.state != ReferralState::Pending);
    Cursor::new(
        ListKey {
            rank,
            at: row.created_at,
        },
        row.id,
    )
}

/// A page of referrals in the filter's order, after the page's cursor. The
/// city's order (newest first) is stable. In the inbox (pending first, then
/// oldest first) a referral accepted between two pages moves from the first
/// group to the second and may be listed twice; none is skipped.
pub fn list(
    conn: &mut AnyConnection,
    filter: &ListFilter,
    page: &PageRequest<ListKey>,
) -> Result<Vec<ReferralRow>, ApiError> {
    let mut query = referrals::table
        .select(referrals::all_columns)
        .limit(page.fetch())
        .into_boxed();
    query = if filter.inbox_order {
        query.order((
            referrals::state.ne(ReferralState::Pending),
            referrals::created_at.asc(),
            referrals::id.asc(),
        ))
    } else {
        query.order((referrals::created_at.desc(), referrals::id.desc()))
    };
    if let Some(cities) = &filter.cities {
        query = query.filter(referrals::city_id.eq_any(cities.clone()));
    }
    if let Some(org) = filter.organisation {
        query = query.filter(referrals::organisation_id.eq(org));
    }
    if filter.open_only || filter.overdue_before.is_some() {
        query = query.filter(referrals::state.eq_any(ReferralState::OPEN));
    }
    if let Some(state) = filter.state {
        query = query.filter(referrals::state.eq(state));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(referrals::kind.eq(kind));
    }
    if let Some(org) = filter.organisation_id {
        query = query.filter(referrals::organisation_id.eq(org));
    }
    if let Some(day) = filter.overdue_before {
        query = query.filter(referrals::due_by.lt(day));
    }
    if let Some(Cursor { key, id }) = &page.after {
        let (at, id) = (key.at, ReferralId::from(*id));
        let pending = referrals::state.eq(ReferralState::Pending);
        let others = referrals::state.ne(ReferralState::Pending);
        query = match (filter.inbox_order, key.rank) {
            (false, _) => query.filter(
                referrals::created_at
                    .lt(at)
                    .or(referrals::created_at.eq(at).and(referrals::id.lt(id))),
            ),
            (true, rank) => {
                let later = referrals::created_at
                    .gt(at)
                    .or(referrals::created_at.eq(at).and(referrals::id.gt(id)));
                match rank {
                    0 => query.filter(pending.and(later).or(others)),
                    _ => query.filter(others.and(later)),
                }
            }
        };
    }
    Ok(query.load(conn)?)
}

/// Moves a case's referrals to another city with the case: every sealed
/// field is opened under the old city and sealed under the new one, and the
/// city follows (so the receiving city reaches them, the sending city no
/// longer does). Runs inside the caller's transaction.
pub fn move_to_city(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    case: &CaseRow,
    city: CityId,
) -> Result<usize, ApiError> {
    let rows: Vec<ReferralRow> = referrals::table
        .filter(referrals::case_id.eq(case.id))
        .select(referrals::all_columns)
        .load(conn)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let person = data_keys::load(conn, keyring, case.id)?;
    if person.is_erased() {
        return Err(ApiError::Gone);
    }
    for row in &rows {
        let from = person.row(row.id, row.city_id);
        let to = person.row(row.id, city);
        let reseal =
            |column: &str, sealed: &Sealed| reseal_text(&from, &to, TABLE, column, sealed, row.id);
        let reseal_opt = |column: &str, sealed: &Option<Sealed>| {
            sealed.as_ref().map(|s| reseal(column, s)).transpose()
        };
        diesel::update(referrals::table.find(row.id))
            .set((
                referrals::city_id.eq(city),
                referrals::reason_enc.eq(reseal("reason", &row.reason_enc)?),
                referrals::outcome_note_enc.eq(reseal_opt("outcome_note", &row.outcome_note_enc)?),
                referrals::decision_reason_enc
                    .eq(reseal_opt("decision_reason", &row.decision_reason_enc)?),
                referrals::version.eq(referrals::version + 1),
                referrals::updated_at.eq(time::now()),
            ))
            .execute(conn)?;
    }
    super::updates::move_to_city(conn, &person, case.id, city)?;
    Ok(rows.len())
}
