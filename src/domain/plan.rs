//! A reintegration plan's closed sets.

text_enum!(
    /// What a plan's goal is about.
    PlanDimension {
        Economic => "economic",
        Social => "social",
        Psychosocial => "psychosocial",
        Education => "education",
        Protection => "protection",
    }
);

text_enum!(
    /// Where a plan version stands: `draft` → `submitted` → `approved`
    /// (the active plan) | `returned`; an approved version becomes
    /// `superseded` when a revision of it is approved.
    PlanStatus {
        Draft => "draft",
        Submitted => "submitted",
        Approved => "approved",
        Returned => "returned",
        Superseded => "superseded",
    }
);

text_enum!(
    /// Where an action stands: `planned` → `in_progress` → `done` |
    /// `dropped` (a planned action may also be done or dropped at once).
    ActionStatus {
        Planned => "planned",
        InProgress => "in_progress",
        Done => "done",
        Dropped => "dropped",
    }
);

impl ActionStatus {
    /// Whether an action may move from `self` to `to`.
    pub fn may_become(self, to: ActionStatus) -> bool {
        use ActionStatus as A;
        matches!(
            (self, to),
            (A::Planned, A::InProgress | A::Done | A::Dropped)
                | (A::InProgress, A::Done | A::Dropped)
        )
    }

    /// Done or dropped: nothing more to do.
    pub fn is_settled(self) -> bool {
        matches!(self, ActionStatus::Done | ActionStatus::Dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_status_times_every_other() {
        use ActionStatus as A;
        let allowed = [
            (A::Planned, A::InProgress),
            (A::Planned, A::Done),
            (A::Planned, A::Dropped),
            (A::InProgress, A::Done),
            (A::InProgress, A::Dropped),
        ];
        for &from in A::ALL {
            for &to in A::ALL {
                assert_eq!(
                    from.may_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }
}
