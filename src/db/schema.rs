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

diesel::joinable!(cities -> governorates (governorate_id));
diesel::joinable!(organisations -> cities (city_id));

diesel::allow_tables_to_appear_in_same_query!(governorates, cities, organisations);
