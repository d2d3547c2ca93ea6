//! A closure request's closed sets: why a case should close, and where the
//! request stands.

text_enum!(
    /// Why a case should close: a closed set, so that closures can be
    /// counted without opening anything; the detail goes in a sealed note.
    ClosureReason {
        ServicesCompleted => "services_completed",
        MovedAbroad => "moved_abroad",
        Deceased => "deceased",
        LostContact => "lost_contact",
        DeclinedServices => "declined_services",
        Other => "other",
    }
);

text_enum!(
    /// Where a closure request stands: `pending` → `approved` (the case
    /// closes) | `returned` (with a reason; the worker may ask again). A
    /// supervisor's direct close is recorded as `self_approved`.
    ClosureStatus {
        Pending => "pending",
        Approved => "approved",
        Returned => "returned",
        SelfApproved => "self_approved",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_match_serde() {
        for reason in ClosureReason::ALL {
            let json = serde_json::to_string(reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
            assert_eq!(ClosureReason::from_db(reason.as_str()), Some(*reason));
        }
        for status in ClosureStatus::ALL {
            let json = serde_json::to_string(status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
    }
}
