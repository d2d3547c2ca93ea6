//! Table definitions for diesel, written to match `migrations/` on both
//! backends (portable column types only).

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
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        organisation_id -> Nullable<Text>,
        active -> Bool,
        token_version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_cities (user_id, city_id) {
        user_id -> Text,
        city_id -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        spent_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(cities -> governorates (governorate_id));
diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(user_cities -> users (user_id));
diesel::joinable!(user_cities -> cities (city_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(organisations -> cities (city_id));

diesel::allow_tables_to_appear_in_same_query!(
    governorates,
    cities,
    organisations,
    users,
    user_cities,
    refresh_tokens,
);
