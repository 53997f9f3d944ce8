//! Matching policy names to ConnectWise company names, for MSPs that link hundreds of policies:
//! names are compared after normalising case, punctuation and legal suffixes ("Acme, Inc." and
//! "ACME" are one name), then by the overlap of their letter pairs.

use std::collections::HashSet;

/// Legal forms and filler words that say nothing about which company it is.
const NOISE: &[&str] = &[
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "llp",
    "lp",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "aps",
    "pty",
    "pte",
    "co",
    "corp",
    "corporation",
    "company",
    "the",
    "and",
];

/// The comparable form of a name: lower case, letters and digits in words, without the noise.
pub fn normalise(name: &str) -> String {
    let lowered = name.to_lowercase().replace('&', " and ");
    let words: Vec<String> = lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let kept: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !NOISE.contains(w))
        .collect();
    // A name that is all noise ("The Company") keeps its words.
    if kept.is_empty() {
        words.join(" ")
    } else {
        kept.join(" ")
    }
}

fn pairs(s: &str) -> HashSet<(char, char)> {
    let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// How alike two names are, from 0 (nothing shared) to 1 (the same after normalising).
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (normalise(a), normalise(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let (pa, pb) = (pairs(&a), pairs(&b));
    if pa.is_empty() || pb.is_empty() {
        return 0.0;
    }
    let shared = pa.intersection(&pb).count();
    // Dice's coefficient, a little below a true match so that equality always ranks first.
    0.99 * 2.0 * shared as f64 / (pa.len() + pb.len()) as f64
}

/// Below this, a name is not offered as a suggestion.
pub const MIN_SCORE: f64 = 0.5;

/// The best match for `name` among `(id, name)` candidates, with its score; ties go to the
/// lower id (the older company).
pub fn best<'a, T: Ord>(
    name: &str,
    candidates: &'a [(T, String)],
) -> Option<(&'a (T, String), f64)> {
    candidates
        .iter()
        .map(|c| (c, similarity(name, &c.1)))
        .filter(|(_, s)| *s >= MIN_SCORE)
        .max_by(|(x, sx), (y, sy)| sx.total_cmp(sy).then(y.0.cmp(&x.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_forms_case_and_punctuation_do_not_matter() {
        for (a, b) in [
            ("Acme", "Acme, Inc."),
            ("acme corp", "ACME Corporation"),
            ("Müller GmbH", "müller"),
            ("Smith & Sons Ltd", "Smith and Sons"),
            ("The Globex Company", "Globex"),
        ] {
            assert_eq!(similarity(a, b), 1.0, "{a} ~ {b}");
        }
    }

    #[test]
    fn the_closest_company_is_suggested_and_strangers_are_not() {
        let companies = vec![
            (2, "Acme Corporation".to_owned()),
            (3, "Globex Inc".to_owned()),
            (4, "Acme Rockets LLC".to_owned()),
            (5, "Initech".to_owned()),
        ];
        assert_eq!(best("ACME", &companies).map(|(c, _)| c.0), Some(2));
        assert_eq!(best("Acme Rocket", &companies).map(|(c, _)| c.0), Some(4));
        assert_eq!(best("globex office", &companies).map(|(c, _)| c.0), Some(3));
        assert_eq!(best("Umbrella", &companies), None);
        assert_eq!(best("", &companies), None);
    }
}
