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
        approval -> Text,
        enrolment_code_hash -> Nullable<Text>,
        enrolment_expires_at -> Nullable<Timestamp>,
        totp_secret_enc -> Nullable<Binary>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    user_cities (user_id, city_id) {
        user_id -> Text,
        city_id -> Text,
    }
}

diesel::table! {
    /// A grant waiting for, or given by, a second person; see
    /// `migrations/*/2026-12-02-000008_accounts`.
    grant_requests (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        role -> Text,
        organisation_id -> Nullable<Text>,
        city_ids -> Text,
        approver -> Text,
        concerned_city_ids -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Login attempts per keyed hash of a username or client address.
    login_attempts (key) {
        key -> Text,
        window_start -> Timestamp,
        attempts -> Integer,
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

diesel::table! {
    /// Append-only; see `migrations/*/2026-11-22-000003_audit` and
    /// `2026-12-02-000009_audit_trail`. `queue_no` is an identity on
    /// PostgreSQL and the rowid on SQLite.
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
        key_id -> Nullable<Text>,
        mac -> Nullable<Binary>,
        chain_key_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// Append-only: whom an event is about besides its entity.
    audit_subjects (subject_id, occurred_at, event_id, kind) {
        subject_id -> Text,
        occurred_at -> Timestamp,
        event_id -> Text,
        kind -> Text,
    }
}

diesel::table! {
    /// One row: whether the events from before the audit key were re-chained.
    audit_rechain (id) {
        id -> Integer,
        done_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    data_keys (subject_id) {
        subject_id -> Text,
        kek_version -> Nullable<Integer>,
        wrapped_key -> Nullable<Binary>,
        created_at -> Timestamp,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    households (id) {
        id -> Text,
        city_id -> Text,
        label_enc -> Nullable<Binary>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    case_counters (city_id, year) {
        city_id -> Text,
        year -> Integer,
        last_number -> BigInt,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        case_number -> Text,
        city_id -> Text,
        household_id -> Nullable<Text>,
        status -> Text,
        sex -> Text,
        birth_year -> Integer,
        origin_kind -> Text,
        return_date -> Date,
        vulnerability_flags -> Text,
        consent_share -> Bool,
        consent_given_by -> Text,
        consent_given_at -> Timestamp,
        assigned_to -> Nullable<Text>,
        full_name_enc -> Binary,
        full_name_latin_enc -> Nullable<Binary>,
        date_of_birth_enc -> Binary,
        national_id_enc -> Nullable<Binary>,
        phone_enc -> Nullable<Binary>,
        address_enc -> Nullable<Binary>,
        origin_place_enc -> Nullable<Binary>,
        vulnerability_notes_enc -> Nullable<Binary>,
        closure_reason_enc -> Nullable<Binary>,
        version -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    case_search_index (case_id, kind, value) {
        case_id -> Text,
        kind -> Text,
        value -> Text,
        city_id -> Text,
    }
}

diesel::table! {
    case_notes (id) {
        id -> Text,
        case_id -> Text,
        city_id -> Text,
        author_id -> Text,
        visit_date -> Nullable<Date>,
        body_enc -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    transfers (id) {
        id -> Text,
        case_id -> Text,
        from_city_id -> Text,
        to_city_id -> Text,
        with_household -> Bool,
        status -> Text,
        reason_enc -> Binary,
        decision_reason_enc -> Nullable<Binary>,
        requested_by -> Text,
        requested_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    referrals (id) {
        id -> Text,
        case_id -> Text,
        city_id -> Text,
        organisation_id -> Text,
        kind -> Text,
        state -> Text,
        reason_enc -> Binary,
        needs -> Text,
        due_by -> Nullable<Date>,
        outcome -> Nullable<Text>,
        outcome_note_enc -> Nullable<Binary>,
        decision_reason_enc -> Nullable<Binary>,
        created_by -> Text,
        created_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        started_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        declined_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        updated_by -> Text,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    closure_requests (id) {
        id -> Text,
        case_id -> Text,
        city_id -> Text,
        reason -> Text,
        note_enc -> Nullable<Binary>,
        status -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        return_reason_enc -> Nullable<Binary>,
        version -> BigInt,
    }
}

diesel::table! {
    follow_ups (id) {
        id -> Text,
        case_id -> Text,
        city_id -> Text,
        kind -> Text,
        due_on -> Date,
        assigned_to -> Text,
        status -> Text,
        referral_id -> Nullable<Text>,
        note_enc -> Nullable<Binary>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        ended_by -> Nullable<Text>,
        ended_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    plans (id) {
        id -> Text,
        case_id -> Text,
        city_id -> Text,
        version -> Integer,
        status -> Text,
        previous_id -> Nullable<Text>,
        author_id -> Text,
        created_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        return_reason_enc -> Nullable<Binary>,
        row_version -> BigInt,
    }
}

diesel::table! {
    plan_goals (id) {
        id -> Text,
        plan_id -> Text,
        case_id -> Text,
        city_id -> Text,
        dimension -> Text,
        text_enc -> Binary,
        position -> Integer,
    }
}

diesel::table! {
    plan_actions (id) {
        id -> Text,
        plan_id -> Text,
        goal_id -> Text,
        case_id -> Text,
        city_id -> Text,
        text_enc -> Binary,
        referral_id -> Nullable<Text>,
        target_date -> Nullable<Date>,
        status -> Text,
        position -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    referral_updates (id) {
        id -> Text,
        referral_id -> Text,
        case_id -> Text,
        city_id -> Text,
        note_enc -> Binary,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    stats_releases (seq) {
        seq -> BigInt,
        id -> Text,
        created_at -> Timestamp,
        trigger_kind -> Text,
        first_month -> Text,
        last_month -> Text,
        ledger_year -> Integer,
        rho -> Text,
        rho_year_total -> Text,
        rho_year_limit -> Text,
        epsilon_at_delta -> Text,
        small_cell_k -> Integer,
        referrals_per_person -> Integer,
    }
}

diesel::table! {
    stats_ledger (release_seq, table_name) {
        release_seq -> BigInt,
        table_name -> Text,
        first_month -> Text,
        last_month -> Text,
        measurements -> Integer,
        d_in -> Integer,
        scale -> Text,
        rho -> Text,
    }
}

diesel::table! {
    stats_frozen_months (table_name, month) {
        table_name -> Text,
        month -> Text,
        release_seq -> BigInt,
    }
}

diesel::table! {
    stats_cells (table_name, release_seq, month, governorate, d1, d2, d3) {
        table_name -> Text,
        release_seq -> BigInt,
        month -> Text,
        governorate -> Text,
        d1 -> Text,
        d2 -> Text,
        d3 -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    instruments (id) {
        id -> Text,
        code -> Text,
        version -> Integer,
        definition -> Text,
        published_by -> Nullable<Text>,
        published_at -> Timestamp,
    }
}

diesel::table! {
    assessments (id) {
        id -> Text,
        case_id -> Text,
        city_id -> Text,
        instrument_id -> Text,
        stage -> Text,
        state -> Text,
        answers_enc -> Binary,
        score_economic -> Nullable<SmallInt>,
        score_social -> Nullable<SmallInt>,
        score_psychosocial -> Nullable<SmallInt>,
        score_composite -> Nullable<SmallInt>,
        void_reason_enc -> Nullable<Binary>,
        author_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
        reviewed_by -> Nullable<Text>,
        reviewed_at -> Nullable<Timestamp>,
        voided_by -> Nullable<Text>,
        voided_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::joinable!(cities -> governorates (governorate_id));
diesel::joinable!(households -> cities (city_id));
diesel::joinable!(cases -> cities (city_id));
diesel::joinable!(cases -> households (household_id));
diesel::joinable!(case_search_index -> cases (case_id));
diesel::joinable!(case_notes -> cases (case_id));
diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(user_cities -> users (user_id));
diesel::joinable!(user_cities -> cities (city_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(grant_requests -> organisations (organisation_id));
diesel::joinable!(grant_requests -> users (user_id));
diesel::joinable!(organisations -> cities (city_id));
diesel::joinable!(audit_subjects -> audit_events (event_id));
diesel::joinable!(referral_updates -> referrals (referral_id));

diesel::allow_tables_to_appear_in_same_query!(
    governorates,
    cities,
    organisations,
    users,
    user_cities,
    grant_requests,
    login_attempts,
    refresh_tokens,
    audit_events,
    audit_subjects,
    audit_rechain,
    data_keys,
    households,
    case_counters,
    cases,
    case_search_index,
    case_notes,
    transfers,
    referrals,
    referral_updates,
    closure_requests,
    follow_ups,
    plans,
    plan_goals,
    plan_actions,
    stats_releases,
    stats_ledger,
    stats_frozen_months,
    stats_cells,
    instruments,
    assessments,
);
