//! `GET /api/v1/vocabularies`: public, since it holds no personal data —
//! only the API's own closed lists — and a client needs the labels before
//! anyone signs in (a login screen in Arabic or Kurdish).

use actix_web::{HttpRequest, HttpResponse, get};

use super::localise::language_of;
use super::vocabulary::{Vocabularies, vocabularies};

/// Every closed list of the API (roles, sexes, origin kinds, vulnerability
/// flags, referral kinds, states and outcomes, …) with each value's label
/// in English, Arabic and Central Kurdish; `label` is in the language
/// `Accept-Language` asks for.
#[utoipa::path(
    tag = "service",
    params(("Accept-Language" = Option<String>, Header, description = "`en` (default), `ar`, `ckb` (also `ar-IQ`, `ku`, `ckb-IQ`; quality values understood)")),
    responses((status = 200, body = Vocabularies, headers(("Content-Language" = String, description = "`en`, `ar` or `ckb`"))))
)]
#[get("/vocabularies")]
pub async fn list_vocabularies(req: HttpRequest) -> HttpResponse {
    HttpResponse::Ok().json(vocabularies(language_of(&req)))
}
