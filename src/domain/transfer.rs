//! Where a transfer between cities stands.

text_enum!(
    TransferStatus {
        Pending => "pending",
        Accepted => "accepted",
        Rejected => "rejected",
        Cancelled => "cancelled",
    }
);
