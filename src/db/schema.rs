//! Table definitions for diesel, written to match `migrations/` on both
//! backends (portable column types only). A test in `tests/api` checks them
//! against the migrated database.

diesel::table! {
    governorates (id) {
        id -> Text,
        code -> Text,
        name_en -> Text,
        name_ar -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    cities (id) {
        id -> Text,
        code -> Text,
        name_en -> Text,
        name_ar -> Text,
        governorate_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        city_id -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Append-only; see `migrations/*/2026-11-22-000003_audit`. `queue_no`
    /// is an identity on PostgreSQL and the rowid on SQLite.
    audit_events (id) {
        id -> Text,
        queue_no -> BigInt,
        occurred_at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_role -> Nullable<Text>,
        action -> Text,
        entity -> Nullable<Text>,
        entity_id -> Nullable<Text>,
        city_id -> Nullable<Text>,
        outcome -> Text,
        request_id -> Nullable<Text>,
        detail -> Nullable<Text>,
        seq -> Nullable<BigInt>,
        prev_hash -> Nullable<Binary>,
        hash -> Nullable<Binary>,
    }
}

diesel::joinable!(cities -> governorates (governorate_id));
diesel::joinable!(organisations -> cities (city_id));

diesel::allow_tables_to_appear_in_same_query!(governorates, cities, organisations, audit_events);
