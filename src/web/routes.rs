//! The route table: every handler the server serves, in one place. The
//! OpenAPI document is collected from this same table, and `ACCESS` names
//! the policy action of every route (a test fails when a served route is
//! missing from it).

use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Action;
use crate::web::{docs, metrics};
use crate::{
    assessments, audit, auth, cases, closures, follow_ups, health, households, i18n, places, plans,
    referrals, stats, tasks, transfers, users,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::routes::live)
        .service(health::routes::ready)
        .service(metrics::metrics)
        .service(auth::routes::jwks)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .service(docs::openapi_json)
                .service(i18n::routes::list_vocabularies)
                .service(auth::login::login)
                .service(auth::enrol::enrol)
                .service(auth::routes::refresh_tokens)
                .service(auth::routes::logout)
                .service(auth::routes::me)
                .service(auth::routes::change_password)
                .service(auth::routes::begin_totp)
                .service(auth::routes::confirm_totp)
                .service(places::routes::list_governorates)
                .service(places::routes::create_governorate)
                .service(places::routes::list_cities)
                .service(places::routes::create_city)
                .service(places::routes::list_organisations)
                .service(places::routes::create_organisation)
                .service(places::routes::update_organisation)
                .service(users::routes::create_user)
                .service(users::routes::list_users)
                .service(users::routes::get_user)
                .service(users::routes::update_user)
                .service(users::review::approve_user)
                .service(users::review::reject_user)
                .service(users::review::reset_user)
                .service(cases::routes::create_case)
                .service(cases::routes::list_cases)
                .service(cases::routes::search_cases)
                .service(cases::routes::get_case)
                .service(cases::routes::update_case)
                .service(cases::routes::notes::add_note)
                .service(cases::routes::notes::list_notes)
                .service(cases::routes::status::close_case)
                .service(cases::routes::status::reopen_case)
                .service(cases::routes::status::erase_case)
                .service(households::routes::create_household)
                .service(households::routes::get_household)
                .service(transfers::routes::create_transfer)
                .service(transfers::routes::list_transfers)
                .service(transfers::routes::accept_transfer)
                .service(transfers::routes::reject_transfer)
                .service(transfers::routes::cancel_transfer)
                .service(referrals::routes::create_referral)
                .service(referrals::routes::list_referrals)
                .service(referrals::routes::get_referral)
                .service(referrals::routes::accept_referral)
                .service(referrals::routes::decline_referral)
                .service(referrals::routes::start_referral)
                .service(referrals::routes::complete_referral)
                .service(referrals::routes::cancel_referral)
                .service(referrals::routes::post_update)
                .service(referrals::routes::list_updates)
                .service(households::routes::refer_household)
                .service(follow_ups::routes::schedule_follow_up)
                .service(follow_ups::routes::list_follow_ups)
                .service(follow_ups::routes::update_follow_up)
                .service(tasks::routes::list_tasks)
                .service(plans::routes::create_plan)
                .service(plans::routes::list_plans)
                .service(plans::routes::submit_plan)
                .service(plans::routes::approve_plan)
                .service(plans::routes::return_plan)
                .service(plans::routes::revise_plan)
                .service(plans::routes::update_action)
                .service(closures::routes::request_closure)
                .service(closures::routes::list_closure_requests)
                .service(closures::routes::approve_closure)
                .service(closures::routes::return_closure)
                .service(assessments::routes::list_instruments)
                .service(assessments::routes::get_instrument)
                .service(assessments::routes::publish_instrument)
                .service(assessments::routes::create_assessment)
                .service(assessments::routes::list_assessments)
                .service(assessments::routes::get_assessment)
                .service(assessments::routes::update_assessment)
                .service(assessments::routes::submit_assessment)
                .service(assessments::routes::review_assessment)
                .service(assessments::routes::void_assessment)
                .service(stats::routes::case_stats)
                .service(stats::routes::referral_stats)
                .service(stats::routes::assessment_stats)
                .service(stats::routes::releases)
                .service(audit::routes::list_events)
                .service(audit::routes::verify_chain)
                .service(audit::routes::lookups),
        );
}

/// Who may call a route: nobody needs to be signed in (`None`), or the
/// caller must be allowed this policy action.
pub const ACCESS: &[(&str, &str, Option<Action>)] = &[
    ("get", "/health/live", None),
    ("get", "/health/ready", None),
    ("get", "/metrics", None),
    ("get", "/.well-known/jwks.json", None),
    ("get", "/api/v1/openapi.json", None),
    ("get", "/api/v1/vocabularies", None),
    ("post", "/api/v1/auth/login", None),
    ("post", "/api/v1/auth/enrol", None),
    ("post", "/api/v1/auth/refresh", None),
    ("post", "/api/v1/auth/logout", Some(Action::SelfService)),
    ("get", "/api/v1/me", Some(Action::SelfService)),
    ("post", "/api/v1/me/password", Some(Action::SelfService)),
    ("post", "/api/v1/me/totp", Some(Action::SelfService)),
    ("post", "/api/v1/me/totp/confirm", Some(Action::SelfService)),
    ("get", "/api/v1/governorates", Some(Action::PlaceRead)),
    ("post", "/api/v1/governorates", Some(Action::PlaceWrite)),
    ("get", "/api/v1/cities", Some(Action::PlaceRead)),
    ("post", "/api/v1/cities", Some(Action::PlaceWrite)),
    ("get", "/api/v1/organisations", Some(Action::PlaceRead)),
    ("post", "/api/v1/organisations", Some(Action::PlaceWrite)),
    (
        "patch",
        "/api/v1/organisations/{id}",
        Some(Action::PlaceWrite),
    ),
    ("post", "/api/v1/users", Some(Action::UserWrite)),
    ("get", "/api/v1/users", Some(Action::UserRead)),
    ("get", "/api/v1/users/{id}", Some(Action::UserRead)),
    ("patch", "/api/v1/users/{id}", Some(Action::UserWrite)),
    (
        "post",
        "/api/v1/users/{id}/approve",
        Some(Action::UserApprove),
    ),
    (
        "post",
        "/api/v1/users/{id}/reject",
        Some(Action::UserApprove),
    ),
    ("post", "/api/v1/users/{id}/reset", Some(Action::UserWrite)),
    ("post", "/api/v1/cases", Some(Action::CaseCreate)),
    ("get", "/api/v1/cases", Some(Action::CaseList)),
    ("post", "/api/v1/cases/search", Some(Action::CaseSearch)),
    ("get", "/api/v1/cases/{id}", Some(Action::CaseRead)),
    ("patch", "/api/v1/cases/{id}", Some(Action::CaseUpdate)),
    ("post", "/api/v1/cases/{id}/notes", Some(Action::NoteCreate)),
    ("get", "/api/v1/cases/{id}/notes", Some(Action::NoteRead)),
    ("post", "/api/v1/cases/{id}/close", Some(Action::CaseClose)),
    (
        "post",
        "/api/v1/cases/{id}/reopen",
        Some(Action::CaseReopen),
    ),
    ("post", "/api/v1/cases/{id}/erase", Some(Action::CaseErase)),
    (
        "post",
        "/api/v1/cases/{id}/follow-ups",
        Some(Action::FollowUpWrite),
    ),
    (
        "get",
        "/api/v1/cases/{id}/follow-ups",
        Some(Action::FollowUpRead),
    ),
    (
        "patch",
        "/api/v1/follow-ups/{id}",
        Some(Action::FollowUpWrite),
    ),
    ("get", "/api/v1/tasks", Some(Action::TaskRead)),
    ("post", "/api/v1/cases/{id}/plans", Some(Action::PlanWrite)),
    ("get", "/api/v1/cases/{id}/plans", Some(Action::PlanRead)),
    ("post", "/api/v1/plans/{id}/submit", Some(Action::PlanWrite)),
    (
        "post",
        "/api/v1/plans/{id}/approve",
        Some(Action::PlanDecide),
    ),
    (
        "post",
        "/api/v1/plans/{id}/return",
        Some(Action::PlanDecide),
    ),
    ("post", "/api/v1/plans/{id}/revise", Some(Action::PlanWrite)),
    (
        "patch",
        "/api/v1/plans/{id}/actions/{action_id}",
        Some(Action::PlanWrite),
    ),
    (
        "post",
        "/api/v1/cases/{id}/closure-requests",
        Some(Action::ClosureRequest),
    ),
    (
        "get",
        "/api/v1/cases/{id}/closure-requests",
        Some(Action::ClosureRead),
    ),
    (
        "post",
        "/api/v1/closure-requests/{id}/approve",
        Some(Action::ClosureDecide),
    ),
    (
        "post",
        "/api/v1/closure-requests/{id}/return",
        Some(Action::ClosureDecide),
    ),
    ("post", "/api/v1/households", Some(Action::HouseholdCreate)),
    (
        "get",
        "/api/v1/households/{id}",
        Some(Action::HouseholdRead),
    ),
    (
        "post",
        "/api/v1/households/{id}/referrals",
        Some(Action::ReferralCreate),
    ),
    (
        "post",
        "/api/v1/cases/{id}/transfers",
        Some(Action::TransferCreate),
    ),
    ("get", "/api/v1/transfers", Some(Action::TransferList)),
    (
        "post",
        "/api/v1/transfers/{id}/accept",
        Some(Action::TransferDecide),
    ),
    (
        "post",
        "/api/v1/transfers/{id}/reject",
        Some(Action::TransferDecide),
    ),
    (
        "post",
        "/api/v1/transfers/{id}/cancel",
        Some(Action::TransferCancel),
    ),
    (
        "post",
        "/api/v1/cases/{id}/referrals",
        Some(Action::ReferralCreate),
    ),
    ("get", "/api/v1/referrals", Some(Action::ReferralList)),
    ("get", "/api/v1/referrals/{id}", Some(Action::ReferralRead)),
    (
        "post",
        "/api/v1/referrals/{id}/accept",
        Some(Action::ReferralRespond),
    ),
    (
        "post",
        "/api/v1/referrals/{id}/decline",
        Some(Action::ReferralRespond),
    ),
    (
        "post",
        "/api/v1/referrals/{id}/start",
        Some(Action::ReferralRespond),
    ),
    (
        "post",
        "/api/v1/referrals/{id}/complete",
        Some(Action::ReferralRespond),
    ),
    (
        "post",
        "/api/v1/referrals/{id}/cancel",
        Some(Action::ReferralCancel),
    ),
    (
        "post",
        "/api/v1/referrals/{id}/updates",
        Some(Action::ReferralProgress),
    ),
    (
        "get",
        "/api/v1/referrals/{id}/updates",
        Some(Action::ReferralRead),
    ),
    ("get", "/api/v1/instruments", Some(Action::InstrumentRead)),
    (
        "get",
        "/api/v1/instruments/{id}",
        Some(Action::InstrumentRead),
    ),
    (
        "post",
        "/api/v1/instruments",
        Some(Action::InstrumentPublish),
    ),
    (
        "post",
        "/api/v1/cases/{id}/assessments",
        Some(Action::AssessmentWrite),
    ),
    (
        "get",
        "/api/v1/cases/{id}/assessments",
        Some(Action::AssessmentRead),
    ),
    (
        "get",
        "/api/v1/assessments/{id}",
        Some(Action::AssessmentRead),
    ),
    (
        "patch",
        "/api/v1/assessments/{id}",
        Some(Action::AssessmentWrite),
    ),
    (
        "post",
        "/api/v1/assessments/{id}/submit",
        Some(Action::AssessmentWrite),
    ),
    (
        "post",
        "/api/v1/assessments/{id}/review",
        Some(Action::AssessmentReview),
    ),
    (
        "post",
        "/api/v1/assessments/{id}/void",
        Some(Action::AssessmentReview),
    ),
    ("get", "/api/v1/stats/cases", Some(Action::StatsRead)),
    ("get", "/api/v1/stats/referrals", Some(Action::StatsRead)),
    ("get", "/api/v1/stats/assessments", Some(Action::StatsRead)),
    ("get", "/api/v1/stats/releases", Some(Action::StatsRead)),
    ("get", "/api/v1/audit", Some(Action::AuditRead)),
    ("get", "/api/v1/audit/verify", Some(Action::AuditRead)),
    ("post", "/api/v1/audit/lookups", Some(Action::AuditLookup)),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::ACCESS;

    #[test]
    fn every_served_route_names_its_access_rule_and_no_rule_is_stale() {
        let doc = serde_json::to_value(crate::web::openapi::document()).unwrap();
        let mut served = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                served.insert((method.clone(), path.clone()));
            }
        }
        let named: BTreeSet<(String, String)> = ACCESS
            .iter()
            .map(|(m, p, _)| (m.to_string(), p.to_string()))
            .collect();
        let missing: Vec<_> = served.difference(&named).collect();
        let stale: Vec<_> = named.difference(&served).collect();
        assert!(
            missing.is_empty(),
            "routes without an access rule: {missing:?}"
        );
        assert!(
            stale.is_empty(),
            "access rules for routes not served: {stale:?}"
        );
    }
}
