//! What a scan means to the person holding the goods, in one of four words: `genuine` (safe to
//! eat as far as the records go), `caution` (genuine, but the label may have been copied),
//! `danger` (genuine, but the goods must not be eaten: a failed inspection, a recall, a revoked
//! code) and `forged` (not a code this county issued). The API's `verdict` field and the scan
//! page both read it from here, so they never disagree.

use super::codes::{Verification, Warning};

/// How a scan ends, from the best to the worst; a scan's verdict is its worst warning's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Issued here, no warning.
    Genuine,
    /// Issued here, but scanned so often or from so many places that the label may be a copy.
    Caution,
    /// Issued here, but the goods failed an inspection, were recalled, or the code was revoked.
    Danger,
    /// Not a code this county issued: a forged or mistyped label.
    Forged,
}

impl Verdict {
    /// The verdict of a whole scan.
    pub fn of(v: &Verification) -> Self {
        let worst = v
            .warnings
            .iter()
            .map(Warning::verdict)
            .max()
            .unwrap_or(Self::Genuine);
        if v.genuine { worst } else { Self::Forged }
    }

    /// The word the API answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Genuine => "genuine",
            Self::Caution => "caution",
            Self::Danger => "danger",
            Self::Forged => "forged",
        }
    }
}

impl Warning {
    /// How bad this warning alone is.
    pub fn verdict(&self) -> Verdict {
        match self {
            Self::Forged | Self::UnknownKey | Self::NotIssued => Verdict::Forged,
            Self::Revoked { .. } | Self::Recalled { .. } | Self::FailedInspection { .. } => {
                Verdict::Danger
            }
            Self::OverScanned { .. } | Self::ManyPlaces { .. } => Verdict::Caution,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn scan(genuine: bool, warnings: Vec<Warning>) -> Verification {
        Verification {
            code: "X".into(),
            genuine,
            provenance: None,
            scans: None,
            warnings,
        }
    }

    #[test]
    fn the_worst_warning_decides_and_an_unissued_code_is_forged() {
        let at = Utc::now();
        let over = Warning::OverScanned { count: 30 };
        let recalled = Warning::Recalled {
            reason: "抽检不合格".into(),
            at,
        };
        let cases = [
            (scan(true, vec![]), Verdict::Genuine),
            (scan(true, vec![over.clone()]), Verdict::Caution),
            (
                scan(true, vec![Warning::ManyPlaces { places: 9 }]),
                Verdict::Caution,
            ),
            (
                scan(true, vec![over.clone(), recalled.clone()]),
                Verdict::Danger,
            ),
            (
                scan(true, vec![Warning::FailedInspection { at }]),
                Verdict::Danger,
            ),
            (
                scan(
                    true,
                    vec![
                        Warning::Revoked {
                            reason: "丢失".into(),
                        },
                        over,
                    ],
                ),
                Verdict::Danger,
            ),
            (scan(false, vec![Warning::Forged]), Verdict::Forged),
            (scan(false, vec![Warning::UnknownKey]), Verdict::Forged),
            (scan(false, vec![Warning::NotIssued]), Verdict::Forged),
            (scan(false, vec![]), Verdict::Forged),
        ];
        for (v, expected) in cases {
            assert_eq!(Verdict::of(&v), expected, "{:?}", v.warnings);
        }
        assert_eq!(Verdict::Danger.as_str(), "danger");
    }
}
