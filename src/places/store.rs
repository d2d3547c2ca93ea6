//! Queries on governorates, cities and organisations.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{cities, governorates, organisations};
use crate::domain::{CityId, GovernorateId, OrganisationId, OrganisationKind, time};
use crate::error::{ApiError, FieldError};

use super::model::{
    City, CityRow, CreateCity, CreateGovernorate, CreateOrganisation, Governorate, GovernorateRow,
    Organisation, OrganisationRow, UpdateOrganisation,
};

pub fn governorates(conn: &mut AnyConnection) -> Result<Vec<Governorate>, ApiError> {
    let rows: Vec<GovernorateRow> = governorates::table
        .select(governorates::all_columns)
        .order(governorates::code.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(Governorate::from).collect())
}

pub fn create_governorate(
    conn: &mut AnyConnection,
    new: &CreateGovernorate,
) -> Result<Governorate, ApiError> {
    let id = GovernorateId::new();
    diesel::insert_into(governorates::table)
        .values((
            governorates::id.eq(id),
            governorates::code.eq(&new.code),
            governorates::name_en.eq(new.name_en.trim()),
            governorates::name_ar.eq(new.name_ar.trim()),
            governorates::created_at.eq(time::now()),
        ))
        .execute(conn)
        .map_err(|err| ApiError::taken_or("code", err))?;
    Ok(Governorate {
        id,
        code: new.code.clone(),
        name_en: new.name_en.trim().to_string(),
        name_ar: new.name_ar.trim().to_string(),
    })
}

pub fn cities(conn: &mut AnyConnection) -> Result<Vec<City>, ApiError> {
    let rows: Vec<CityRow> = cities::table
        .select(cities::all_columns)
        .order(cities::code.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(City::from).collect())
}

pub fn find_city(conn: &mut AnyConnection, id: CityId) -> Result<Option<CityRow>, ApiError> {
    Ok(cities::table
        .find(id)
        .select(cities::all_columns)
        .first(conn)
        .optional()?)
}

pub fn create_city(conn: &mut AnyConnection, new: &CreateCity) -> Result<City, ApiError> {
    let governorate: i64 = governorates::table
        .find(new.governorate_id)
        .count()
        .get_result(conn)?;
    if governorate == 0 {
        return Err(ApiError::field("governorate_id", "does not exist"));
    }
    let id = CityId::new();
    diesel::insert_into(cities::table)
        .values((
            cities::id.eq(id),
            cities::code.eq(&new.code),
            cities::name_en.eq(new.name_en.trim()),
            cities::name_ar.eq(new.name_ar.trim()),
            cities::governorate_id.eq(new.governorate_id),
            cities::created_at.eq(time::now()),
        ))
        .execute(conn)
        .map_err(|err| ApiError::taken_or("code", err))?;
    Ok(City {
        id,
        code: new.code.clone(),
        name_en: new.name_en.trim().to_string(),
        name_ar: new.name_ar.trim().to_string(),
        governorate_id: new.governorate_id,
    })
}

fn organisation_view(row: OrganisationRow) -> Result<Organisation, ApiError> {
    Ok(Organisation {
        kind: row.kind,
        id: row.id,
        name: row.name,
        city_id: row.city_id,
        active: row.active,
    })
}

pub fn organisations(
    conn: &mut AnyConnection,
    kind: Option<OrganisationKind>,
    city: Option<CityId>,
) -> Result<Vec<Organisation>, ApiError> {
    let mut query = organisations::table
        .select(organisations::all_columns)
        .order((organisations::name.asc(), organisations::id.asc()))
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(organisations::kind.eq(kind));
    }
    if let Some(city) = city {
        query = query.filter(organisations::city_id.eq(city));
    }
    let rows: Vec<OrganisationRow> = query.load(conn)?;
    rows.into_iter().map(organisation_view).collect()
}

pub fn find_organisation(
    conn: &mut AnyConnection,
    id: OrganisationId,
) -> Result<Option<Organisation>, ApiError> {
    let row: Option<OrganisationRow> = organisations::table
        .find(id)
        .select(organisations::all_columns)
        .first(conn)
        .optional()?;
    row.map(organisation_view).transpose()
}

pub fn create_organisation(
    conn: &mut AnyConnection,
    new: &CreateOrganisation,
) -> Result<Organisation, ApiError> {
    if find_city(conn, new.city_id)?.is_none() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "city_id",
            "does not exist",
        )]));
    }
    let id = OrganisationId::new();
    let now = time::now();
    diesel::insert_into(organisations::table)
        .values((
            organisations::id.eq(id),
            organisations::name.eq(new.name.trim()),
            organisations::kind.eq(new.kind),
            organisations::city_id.eq(new.city_id),
            organisations::active.eq(true),
            organisations::created_at.eq(now),
            organisations::updated_at.eq(now),
        ))
        .execute(conn)?;
    find_organisation(conn, id)?.ok_or(ApiError::NotFound)
}

pub fn update_organisation(
    conn: &mut AnyConnection,
    id: OrganisationId,
    changes: &UpdateOrganisation,
) -> Result<Organisation, ApiError> {
    let current = find_organisation(conn, id)?.ok_or(ApiError::NotFound)?;
    diesel::update(organisations::table.find(id))
        .set((
            organisations::name.eq(changes
                .name
                .as_deref()
                .map(str::trim)
                .unwrap_or(&current.name)),
            organisations::active.eq(changes.active.unwrap_or(current.active)),
            organisations::updated_at.eq(time::now()),
        ))
        .execute(conn)?;
    find_organisation(conn, id)?.ok_or(ApiError::NotFound)
}
