//! An assessment's closed sets: when in the case it is made, where it
//! stands, and the three dimensions of reintegration it scores.

text_enum!(
    /// When in the case an assessment is made.
    Stage {
        Baseline => "baseline",
        FollowUp => "follow_up",
        Exit => "exit",
    }
);

text_enum!(
    /// `draft` → `submitted` → `reviewed`; any but `voided` → `voided`.
    AssessmentState {
        Draft => "draft",
        Submitted => "submitted",
        Reviewed => "reviewed",
        Voided => "voided",
    }
);

impl AssessmentState {
    /// Submitted or reviewed: scored, and counted.
    pub fn is_scored(self) -> bool {
        matches!(self, AssessmentState::Submitted | AssessmentState::Reviewed)
    }
}

text_enum!(
    /// The dimensions of reintegration an instrument scores (the structure
    /// of IOM's Reintegration Sustainability Survey).
    ScoreDimension {
        Economic => "economic",
        Social => "social",
        Psychosocial => "psychosocial",
    }
);
