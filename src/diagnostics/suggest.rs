//! Did-you-mean: the closest known word to a misspelt one.

/// The candidate closest to `word` by edit distance, if it is close enough
/// to be a plausible typo (about one edit in three characters).
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let lower = word.to_lowercase();
    let limit = word.chars().count().div_ceil(3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let candidate_lower = candidate.to_lowercase();
        // `multiple` for `multi`, `dim` for `dimensions`: a shared start of
        // three or more letters is as good as a small typo.
        let prefix = lower.len() >= 3
            && candidate_lower.len() >= 3
            && (lower.starts_with(&candidate_lower) || candidate_lower.starts_with(&lower));
        let distance = if candidate_lower == lower {
            0
        } else if prefix {
            1
        } else {
            edit_distance(&lower, &candidate_lower)
        };
        let better = match best {
            None => true,
            Some((d, c)) => distance < d || (distance == d && candidate < c),
        };
        if distance <= limit && better {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// The IANA zone closest to `zone`: same name in another case, else the
/// closest whole name, else the closest city part (`Olso` → `Europe/Oslo`).
pub(crate) fn closest_time_zone(zone: &str) -> Option<String> {
    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    if let Some(found) = closest(zone, names.clone()) {
        return Some(found);
    }
    let city = zone.rsplit('/').next().unwrap_or(zone).to_lowercase();
    let limit = (city.chars().count() / 3).max(1);
    names
        .filter_map(|name| {
            let part = name.rsplit('/').next().unwrap_or(name).to_lowercase();
            let distance = edit_distance(&city, &part);
            (distance <= limit).then_some((distance, name))
        })
        .min()
        .map(|(_, name)| name.to_string())
}

/// Well-known zones, named first when several use one abbreviation.
const FAMILIAR_ZONES: [&str; 16] = [
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Oslo",
    "Europe/London",
    "Europe/Helsinki",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
];

/// How many zones a help names for one abbreviation.
const ZONES_PER_ABBREVIATION: usize = 4;

/// The IANA zones whose abbreviation `word` is (`CEST` → `Europe/Berlin`,
/// `Europe/Paris`, ...), in winter or summer of a fixed year so the answer
/// never depends on the clock: well-known zones first, then by name; a few.
pub(crate) fn zones_abbreviated(word: &str) -> Vec<String> {
    use chrono::TimeZone as _;
    use chrono_tz::OffsetName as _;
    if word.is_empty() || word.contains('/') {
        return Vec::new();
    }
    let instants = [
        chrono::NaiveDate::from_ymd_opt(2024, 1, 15),
        chrono::NaiveDate::from_ymd_opt(2024, 7, 15),
    ];
    let mut zones: Vec<&str> = chrono_tz::TZ_VARIANTS
        .iter()
        .filter(|tz| tz.name().contains('/') && !tz.name().starts_with("Etc/"))
        .filter(|tz| {
            instants.iter().flatten().any(|day| {
                let utc = day.and_hms_opt(12, 0, 0).unwrap_or_default();
                tz.offset_from_utc_datetime(&utc)
                    .abbreviation()
                    .is_some_and(|a| a.eq_ignore_ascii_case(word))
            })
        })
        .map(|tz| tz.name())
        .collect();
    let familiarity = |name: &str| {
        FAMILIAR_ZONES
            .iter()
            .position(|f| *f == name)
            .unwrap_or(FAMILIAR_ZONES.len())
    };
    zones.sort_by_key(|name| (familiarity(name), *name));
    zones
        .into_iter()
        .take(ZONES_PER_ABBREVIATION)
        .map(str::to_string)
        .collect()
}

/// Damerau-Levenshtein distance (optimal string alignment), over chars.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    // Long inputs are never typos of keywords; bound the work.
    if a.chars().count() > 64 || b.chars().count() > 64 {
        return usize::MAX / 2;
    }
    strsim::osa_distance(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_typos_and_not_strangers() {
        let words = ["window", "where", "shift", "speed"];
        assert_eq!(closest("windw", words).as_deref(), Some("window"));
        assert_eq!(closest("shfit", words).as_deref(), Some("shift"));
        assert_eq!(closest("banana", words), None);
        assert_eq!(
            closest("sinus", ["sine", "noise", "trend"]).as_deref(),
            Some("sine")
        );
        assert_eq!(
            closest("multiple", ["multi", "single"]).as_deref(),
            Some("multi")
        );
        assert_eq!(closest("WHERE", words).as_deref(), Some("where"));
    }

    #[test]
    fn edit_distance_is_optimal_string_alignment_and_bounded() {
        assert_eq!(edit_distance("windw", "window"), 1);
        assert_eq!(edit_distance("shfit", "shift"), 1);
        // OSA edits no substring twice: not 2, as unrestricted Damerau says.
        assert_eq!(edit_distance("ca", "abc"), 3);
        assert_eq!(edit_distance("Ösló", "Öslo"), 1);
        assert_eq!(edit_distance(&"a".repeat(65), "a"), usize::MAX / 2);
    }

    #[test]
    fn suggests_time_zones() {
        assert_eq!(
            closest_time_zone("Europe/Olso").as_deref(),
            Some("Europe/Oslo")
        );
        assert_eq!(
            closest_time_zone("europe/oslo").as_deref(),
            Some("Europe/Oslo")
        );
        assert_eq!(closest_time_zone("Oslo").as_deref(), Some("Europe/Oslo"));
        assert_eq!(closest_time_zone("Mars/Olympus_Mons"), None);
    }

    #[test]
    fn an_abbreviation_names_the_zones_that_use_it() {
        let cest = zones_abbreviated("CEST");
        assert_eq!(cest[..3], ["Europe/Berlin", "Europe/Paris", "Europe/Oslo"]);
        assert_eq!(cest.len(), ZONES_PER_ABBREVIATION);
        assert_eq!(zones_abbreviated("pdt")[0], "America/Los_Angeles");
        assert!(zones_abbreviated("Europe/Olso").is_empty());
        assert!(zones_abbreviated("XYZT").is_empty());
    }
}
