//! A referral's closed sets: where it stands, what can be done to it (the
//! state machine), how it ended, and what the person needs.

text_enum!(
    /// Where a referral stands.
    ReferralState {
        Pending => "pending",
        Accepted => "accepted",
        InProgress => "in_progress",
        Completed => "completed",
        Declined => "declined",
        Cancelled => "cancelled",
    }
);

impl ReferralState {
    /// Pending, accepted or in progress: the provider may still see it.
    pub const OPEN: [ReferralState; 3] = [
        ReferralState::Pending,
        ReferralState::Accepted,
        ReferralState::InProgress,
    ];

    pub fn is_open(self) -> bool {
        ReferralState::OPEN.contains(&self)
    }
}

text_enum!(
    /// What can be done to a referral.
    Transition {
        Accept => "accept",
        Decline => "decline",
        Start => "start",
        Complete => "complete",
        Cancel => "cancel",
    }
);

/// The state machine: the state `transition` leads to from `state`, or
/// `None` when it is not allowed (409).
pub fn next(state: ReferralState, transition: Transition) -> Option<ReferralState> {
    use ReferralState as S;
    use Transition as T;
    match (state, transition) {
        (S::Pending, T::Accept) => Some(S::Accepted),
        (S::Pending, T::Decline) => Some(S::Declined),
        (S::Accepted, T::Start) => Some(S::InProgress),
        (S::InProgress, T::Complete) => Some(S::Completed),
        (S::Pending | S::Accepted | S::InProgress, T::Cancel) => Some(S::Cancelled),
        _ => None,
    }
}

/// The transitions the machine allows from `state`, in the order of
/// [`Transition::ALL`]: none from a final state.
pub fn allowed(state: ReferralState) -> Vec<Transition> {
    Transition::ALL
        .iter()
        .copied()
        .filter(|t| next(state, *t).is_some())
        .collect()
}

text_enum!(
    /// How a completed referral ended.
    Outcome {
        CompletedSuccessfully => "completed_successfully",
        DroppedOut => "dropped_out",
        NotEligible => "not_eligible",
        Other => "other",
        /// Placed in a job (employment, vocational training).
        Employed => "employed",
        /// Enrolled in school or a course.
        Enrolled => "enrolled",
        /// Finished a course with a certificate.
        Certified => "certified",
        /// Civil documents issued (civil documentation, legal aid).
        DocumentsIssued => "documents_issued",
    }
);

impl Outcome {
    /// Whether the service achieved what it was for: completed
    /// successfully, or a job, a place, a certificate or documents.
    pub fn is_success(self) -> bool {
        !matches!(
            self,
            Outcome::DroppedOut | Outcome::NotEligible | Outcome::Other
        )
    }
}

text_enum!(
    /// What the person needs from the provider: a closed set, so no free
    /// text about the person is kept in plaintext.
    Need {
        Counselling => "counselling",
        TraumaSupport => "trauma_support",
        FamilySupport => "family_support",
        SchoolEnrolment => "school_enrolment",
        CatchUpClasses => "catch_up_classes",
        Literacy => "literacy",
        SkillsTraining => "skills_training",
        JobPlacement => "job_placement",
        SmallBusiness => "small_business",
        StartUpGrant => "start_up_grant",
        CivilDocuments => "civil_documents",
        LegalAdvice => "legal_advice",
        HealthCare => "health_care",
        MentalHealthCare => "mental_health_care",
        CommunityActivities => "community_activities",
    }
);

/// Needs as stored: sorted, de-duplicated, comma-separated.
pub fn needs_to_db(needs: &[Need]) -> String {
    let mut sorted = needs.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn needs_from_db(text: &str) -> Option<Vec<Need>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(Need::from_db)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_times_every_transition() {
        use ReferralState as S;
        use Transition as T;
        let allowed = [
            (S::Pending, T::Accept, S::Accepted),
            (S::Pending, T::Decline, S::Declined),
            (S::Pending, T::Cancel, S::Cancelled),
            (S::Accepted, T::Start, S::InProgress),
            (S::Accepted, T::Cancel, S::Cancelled),
            (S::InProgress, T::Complete, S::Completed),
            (S::InProgress, T::Cancel, S::Cancelled),
        ];
        for &state in S::ALL {
            for &transition in T::ALL {
                let expected = allowed
                    .iter()
                    .find(|(s, t, _)| *s == state && *t == transition)
                    .map(|(_, _, to)| *to);
                assert_eq!(
                    next(state, transition),
                    expected,
                    "{state:?} × {transition:?}"
                );
            }
        }
        for state in [S::Completed, S::Declined, S::Cancelled] {
            assert!(!state.is_open());
        }
    }

    #[test]
    fn stored_names_match_serde_and_needs_round_trip() {
        for state in ReferralState::ALL {
            let json = serde_json::to_string(state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
        for outcome in Outcome::ALL {
            let json = serde_json::to_string(outcome).unwrap();
            assert_eq!(json, format!("\"{}\"", outcome.as_str()));
        }
        let needs = vec![Need::Literacy, Need::Counselling, Need::Literacy];
        let stored = needs_to_db(&needs);
        assert_eq!(stored, "counselling,literacy");
        assert_eq!(
            needs_from_db(&stored),
            Some(vec![Need::Counselling, Need::Literacy])
        );
        assert_eq!(needs_from_db(""), Some(Vec::new()));
        assert_eq!(needs_from_db("bogus"), None);
    }
}
