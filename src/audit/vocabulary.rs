//! What audit events are made of, as closed sets: actions, outcomes, the
//! kinds of entity an event is about, and the kinds of its subjects. No
//! member can carry a person's data.

macro_rules! closed_set {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value with this stored spelling, if any.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

closed_set! {
    /// What was done. The stored text is `<capability>.<verb>`.
    Action {
        AuthLogin => "auth.login",
        AuthLoginFailed => "auth.login_failed",
        AuthRefresh => "auth.refresh",
        AuthLogout => "auth.logout",
        AuthPasswordChange => "auth.password_change",
        /// A person set their own password with an enrolment code.
        AuthEnrol => "auth.enrol",
        /// A second factor's secret made (not yet in use).
        AuthTotpEnrol => "auth.totp_enrol",
        /// A second factor confirmed with its first code: now required.
        AuthTotpConfirm => "auth.totp_confirm",
        UserCreate => "user.create",
        /// A change of name or active flag.
        UserUpdate => "user.update",
        /// A change of role, cities or organisation: applied at once, or
        /// pending a second person's approval (the detail says which).
        UserGrant => "user.grant",
        /// A grant request approved by a second person (or the operator).
        UserApprove => "user.approve",
        /// A grant request rejected.
        UserReject => "user.reject",
        /// An account's password and second factor cleared, its sessions
        /// ended, a new enrolment code issued or requested.
        UserReset => "user.reset",
        PlaceCreate => "place.create",
        OrganisationCreate => "organisation.create",
        OrganisationUpdate => "organisation.update",
        CaseCreate => "case.create",
        CaseRead => "case.read",
        CaseList => "case.list",
        CaseUpdate => "case.update",
        CaseSearch => "case.search",
        CaseClose => "case.close",
        CaseReopen => "case.reopen",
        CaseErase => "case.erase",
        /// A closure asked for (a closed reason, a sealed note).
        ClosureRequest => "closure.request",
        ClosureList => "closure.list",
        /// A closure request approved by a second person: the case closed.
        ClosureApprove => "closure.approve",
        /// A closure request returned to the worker with a reason.
        ClosureReturn => "closure.return",
        /// A follow-up scheduled (by a worker; the system's referral
        /// checks are part of the referral's transition event).
        FollowUpCreate => "follow_up.create",
        FollowUpList => "follow_up.list",
        /// A follow-up ended (done, missed, cancelled) or rescheduled.
        FollowUpUpdate => "follow_up.update",
        /// A work queue read (`GET /tasks`), naming every case it listed.
        TaskList => "task.list",
        /// A plan version drafted (new, or a revision).
        PlanCreate => "plan.create",
        PlanList => "plan.list",
        PlanSubmit => "plan.submit",
        /// A plan version approved by a second person: the active plan.
        PlanApprove => "plan.approve",
        PlanReturn => "plan.return",
        PlanActionUpdate => "plan.action_update",
        NoteCreate => "note.create",
        NoteList => "note.list",
        HouseholdCreate => "household.create",
        HouseholdRead => "household.read",
        /// Several members of a household referred at once (the subjects
        /// name each person and each referral made).
        HouseholdRefer => "household.refer",
        TransferCreate => "transfer.create",
        TransferList => "transfer.list",
        TransferAccept => "transfer.accept",
        TransferReject => "transfer.reject",
        TransferCancel => "transfer.cancel",
        ReferralCreate => "referral.create",
        ReferralRead => "referral.read",
        ReferralList => "referral.list",
        ReferralTransition => "referral.transition",
        /// A provider's progress update posted on a referral in progress.
        ReferralProgress => "referral.progress",
        /// A referral's progress updates read.
        ReferralProgressList => "referral.progress_list",
        StatsExport => "stats.export",
        /// A statistical release made (by the server or the operator).
        StatsRelease => "stats.release",
        InstrumentPublish => "instrument.publish",
        AssessmentCreate => "assessment.create",
        AssessmentRead => "assessment.read",
        AssessmentList => "assessment.list",
        AssessmentUpdate => "assessment.update",
        AssessmentSubmit => "assessment.submit",
        AssessmentReview => "assessment.review",
        AssessmentVoid => "assessment.void",
        AuditRead => "audit.read",
        AuditVerify => "audit.verify",
        /// An auditor asked which events searched for a term.
        AuditLookup => "audit.lookup",
        /// A signed head handed to an outside witness (`sanad audit anchor`).
        AuditAnchor => "audit.anchor",
        /// The events from before the audit key, sealed and chained again
        /// (once).
        AuditRechain => "audit.rechain",
        KeysGenerate => "keys.generate",
        KeysRotate => "keys.rotate",
        DemoSeed => "demo.seed",
        /// Erased people's old key bytes reclaimed on disk (`sanad vacuum`).
        ErasureVacuum => "erasure.vacuum",
        /// A request refused by policy before any action was taken.
        AccessDenied => "access.denied",
    }
}

closed_set! {
    /// How it ended.
    Outcome {
        Success => "success",
        /// Refused by policy (403/404 for scope).
        Denied => "denied",
        /// Attempted and failed (wrong password, conflict, error).
        Failure => "failure",
    }
}

closed_set! {
    /// The kind of thing an event is about.
    Entity {
        Case => "case",
        Note => "note",
        Household => "household",
        Transfer => "transfer",
        Referral => "referral",
        User => "user",
        Session => "session",
        Governorate => "governorate",
        City => "city",
        Organisation => "organisation",
        Key => "key",
        AuditLog => "audit_log",
        Stats => "stats",
        Instrument => "instrument",
        Assessment => "assessment",
        ClosureRequest => "closure_request",
        FollowUp => "follow_up",
        Plan => "plan",
    }
}

closed_set! {
    /// What an event's subject is: a person it showed (their case), a
    /// referral it ended, or the blind index of a term a search looked for.
    SubjectKind {
        Case => "case",
        Referral => "referral",
        NationalId => "national_id",
        Phone => "phone",
        Name => "name",
    }
}

impl SubjectKind {
    /// The kinds an entity id can be found under (`GET /audit?entity_id=`).
    pub const ENTITIES: [SubjectKind; 2] = [SubjectKind::Case, SubjectKind::Referral];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_and_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(*action));
            assert!(seen.insert(action.as_str()), "{action} twice");
        }
        for required in [
            "auth.login",
            "auth.login_failed",
            "auth.refresh",
            "auth.logout",
            "auth.password_change",
            "case.read",
            "case.erase",
            "referral.transition",
            "transfer.list",
            "audit.verify",
            "audit.lookup",
            "audit.rechain",
            "keys.rotate",
            "access.denied",
        ] {
            assert!(Action::parse(required).is_some(), "{required}");
        }
        assert_eq!(Action::ALL.len(), 75);
    }

    #[test]
    fn outcomes_are_the_three_the_table_accepts() {
        let names: Vec<_> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(names, ["success", "denied", "failure"]);
    }

    #[test]
    fn subject_kinds_are_the_five_the_table_accepts() {
        let names: Vec<_> = SubjectKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, ["case", "referral", "national_id", "phone", "name"]);
    }
}
