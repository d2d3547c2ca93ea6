//! A follow-up's closed sets: what kind of contact, and where it stands.

text_enum!(
    /// A scheduled contact with a person.
    FollowUpKind {
        HomeVisit => "home_visit",
        PhoneCall => "phone_call",
        /// Checking how a referral went, after it was completed or
        /// declined (scheduled by the system).
        ReferralCheck => "referral_check",
        AssessmentDue => "assessment_due",
    }
);

text_enum!(
    /// Where a follow-up stands: `scheduled` → `done` (with an optional
    /// sealed note) | `missed` | `cancelled`. Only a scheduled follow-up
    /// changes.
    FollowUpStatus {
        Scheduled => "scheduled",
        Done => "done",
        Missed => "missed",
        Cancelled => "cancelled",
    }
);

impl FollowUpStatus {
    /// Whether a follow-up may move from `self` to `to`.
    pub fn may_become(self, to: FollowUpStatus) -> bool {
        self == FollowUpStatus::Scheduled && to != FollowUpStatus::Scheduled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_scheduled_follow_up_ends_and_it_ends_once() {
        use FollowUpStatus as S;
        for &from in S::ALL {
            for &to in S::ALL {
                let allowed = from == S::Scheduled && to != S::Scheduled;
                assert_eq!(from.may_become(to), allowed, "{from:?} -> {to:?}");
            }
        }
        for kind in FollowUpKind::ALL {
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }
}
