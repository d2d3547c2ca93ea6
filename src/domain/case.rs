//! The closed sets a case is described by. These are the plaintext coarse
//! categories that scoping and aggregates need; everything that names or
//! locates a person is encrypted elsewhere.

text_enum!(
    Sex {
        Female => "female",
        Male => "male",
    }
);

text_enum!(
    /// Where the person is returning from.
    OriginKind {
        Camp => "camp",
        Detention => "detention",
        OtherCountry => "other_country",
        InternalDisplacement => "internal_displacement",
        Other => "other",
    }
);

text_enum!(
    VulnerabilityFlag {
        UnaccompaniedChild => "unaccompanied_child",
        FemaleHeadedHousehold => "female_headed_household",
        Disability => "disability",
        ChronicIllness => "chronic_illness",
        GbvSurvivor => "gbv_survivor",
        LacksCivilDocuments => "lacks_civil_documents",
        PsychosocialDistress => "psychosocial_distress",
        OutOfSchool => "out_of_school",
        Unemployed => "unemployed",
    }
);

text_enum!(
    /// `open` → `active` (first referral or note) → `closed`; `erased` after
    /// crypto-shredding.
    CaseStatus {
        Open => "open",
        Active => "active",
        Closed => "closed",
        Erased => "erased",
    }
);

text_enum!(
    /// Who consented: the person, or a guardian for a child.
    ConsentGiver {
        #[serde(rename = "self")]
        SelfConsent => "self",
        Guardian => "guardian",
    }
);

/// Flags as stored: sorted, de-duplicated, comma-separated.
pub fn flags_to_db(flags: &[VulnerabilityFlag]) -> String {
    let mut sorted = flags.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn flags_from_db(text: &str) -> Option<Vec<VulnerabilityFlag>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(VulnerabilityFlag::from_db)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_match_the_stored_names() {
        for flag in VulnerabilityFlag::ALL {
            let json = serde_json::to_string(flag).unwrap();
            assert_eq!(json, format!("\"{}\"", flag.as_str()));
        }
        assert_eq!(
            serde_json::to_string(&ConsentGiver::SelfConsent).unwrap(),
            "\"self\""
        );
    }

    #[test]
    fn flags_round_trip_sorted_and_unique() {
        let flags = [
            VulnerabilityFlag::Unemployed,
            VulnerabilityFlag::Disability,
            VulnerabilityFlag::Unemployed,
        ];
        let stored = flags_to_db(&flags);
        assert_eq!(stored, "disability,unemployed");
        assert_eq!(
            flags_from_db(&stored).unwrap(),
            vec![VulnerabilityFlag::Disability, VulnerabilityFlag::Unemployed]
        );
        assert_eq!(flags_from_db("").unwrap(), vec![]);
        assert!(flags_from_db("bogus").is_none());
    }
}
