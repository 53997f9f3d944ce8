//! A rule's summary template: literal text and placeholders (`{device} {monitor} {value}`),
//! rendered within ConnectWise's 100-character summary. The literal text is always kept whole
//! and every placeholder appears: when the values are too long, the longest are shortened (an
//! ellipsis shows where), never the template itself, so no placeholder is cut in half.

use bindery_shared::normalize::{clean_text, truncate_to_limit, utf16_len};

/// ConnectWise's `Ticket.summary` limit (UTF-16 units, as it counts).
const SUMMARY_MAX: usize = 100;
/// The literal text a template may have, leaving its placeholders room.
const LITERAL_MAX: usize = 70;

/// The placeholders a template may use, and what each is.
pub const PLACEHOLDERS: [(&str, &str); 6] = [
    ("device", "the device's name (its agent id without one)"),
    ("monitor", "the monitor's id (`disk-free`), or `help`"),
    ("value", "the measured value (`4.2`); empty without one"),
    (
        "subject",
        "what the monitor watches (a mount point, a service)",
    ),
    ("summary", "the alert's or the help request's own summary"),
    ("user", "the user who asked for help; empty for alerts"),
];

/// A template's values, by placeholder.
#[derive(Clone, Debug, Default)]
pub struct Values {
    pub device: String,
    pub monitor: String,
    pub value: String,
    pub subject: String,
    pub summary: String,
    pub user: String,
}

impl Values {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "device" => &self.device,
            "monitor" => &self.monitor,
            "value" => &self.value,
            "subject" => &self.subject,
            "summary" => &self.summary,
            "user" => &self.user,
            _ => return None,
        })
    }
}

enum Part<'t> {
    Text(&'t str),
    Slot(&'t str),
}

/// The template's parts, or what is wrong with it.
fn parse(template: &str) -> Result<Vec<Part<'_>>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("a '}' without its '{'".into());
        }
        if open > 0 {
            parts.push(Part::Text(&rest[..open]));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "a '{' without its '}'".to_owned())?;
        let name = &after[..close];
        if !PLACEHOLDERS.iter().any(|(p, _)| *p == name) {
            let known: Vec<_> = PLACEHOLDERS
                .iter()
                .map(|(p, _)| format!("{{{p}}}"))
                .collect();
            return Err(format!(
                "{{{name}}} is no placeholder (use {})",
                known.join(", ")
            ));
        }
        parts.push(Part::Slot(name));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    Ok(parts)
}

/// What is wrong with a template (empty: nothing).
pub fn template_problems(template: &str) -> Vec<String> {
    if template.trim().is_empty() || template.chars().any(char::is_control) {
        return vec!["a summary template is text without control characters".into()];
    }
    match parse(template) {
        Err(e) => vec![format!("the summary template: {e}")],
        Ok(parts) => {
            let literal: usize = parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => utf16_len(t),
                    Part::Slot(_) => 0,
                })
                .sum();
            if literal > LITERAL_MAX {
                vec![format!(
                    "the summary template's own text is at most {LITERAL_MAX} characters, so \
                     its placeholders have room in ConnectWise's {SUMMARY_MAX}"
                )]
            } else {
                Vec::new()
            }
        }
    }
}

/// The summary `template` makes with `values`, at most 100 characters. A template that does not
/// parse (never saved so) gives the values' summary, cut to fit.
pub fn render(template: &str, values: &Values) -> String {
    let Ok(parts) = parse(template) else {
        return fit(&clean_text(&values.summary), SUMMARY_MAX);
    };
    let literal: usize = parts
        .iter()
        .map(|p| match p {
            Part::Text(t) => utf16_len(t),
            Part::Slot(_) => 0,
        })
        .sum();
    let mut slots: Vec<String> = parts
        .iter()
        .filter_map(|p| match p {
            Part::Slot(name) => Some(clean_text(values.get(name).unwrap_or_default())),
            Part::Text(_) => None,
        })
        .collect();
    // Shorten the longest value until everything fits (each keeps a character and an ellipsis).
    loop {
        let total = literal + slots.iter().map(|s| utf16_len(s)).sum::<usize>();
        if total <= SUMMARY_MAX {
            break;
        }
        let Some(longest) = (0..slots.len()).max_by_key(|i| utf16_len(&slots[*i])) else {
            break;
        };
        let len = utf16_len(&slots[longest]);
        if len <= 2 {
            break;
        }
        slots[longest] = fit(
            &slots[longest],
            len.saturating_sub(total - SUMMARY_MAX).max(2),
        );
    }
    let mut slots = slots.into_iter();
    let out: String = parts
        .iter()
        .map(|p| match p {
            // Checked when saved: no control characters, spaces kept as written.
            Part::Text(t) => (*t).to_owned(),
            Part::Slot(_) => slots.next().unwrap_or_default(),
        })
        .collect();
    fit(out.trim(), SUMMARY_MAX)
}

/// `text` in at most `max` UTF-16 units, an ellipsis where it was cut.
fn fit(text: &str, max: usize) -> String {
    if utf16_len(text) <= max {
        return text.to_owned();
    }
    format!("{}…", truncate_to_limit(text, max.saturating_sub(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values() -> Values {
        Values {
            device: "ws-042".into(),
            monitor: "disk-free".into(),
            value: "4.2".into(),
            subject: "C:".into(),
            summary: "Disk C: has 4.2% free".into(),
            user: String::new(),
        }
    }

    #[test]
    fn placeholders_take_their_values_and_bad_templates_are_named() {
        assert_eq!(
            render("{device}: {monitor} at {value}% ({subject})", &values()),
            "ws-042: disk-free at 4.2% (C:)"
        );
        assert!(template_problems("{device} {montor}")[0].contains("{montor}"));
        assert!(template_problems("{device")[0].contains("without its '}'"));
        assert!(template_problems("device}")[0].contains("without its '{'"));
        assert!(!template_problems(&"x".repeat(71)).is_empty());
        assert!(template_problems("[{device}] {summary}").is_empty());
    }

    #[test]
    fn long_values_are_shortened_never_the_template() {
        let long = Values {
            device: "d".repeat(80),
            summary: "s".repeat(80),
            ..values()
        };
        let out = render("ALERT {device} :: {summary} !", &long);
        assert_eq!(utf16_len(&out), 100, "{out}");
        assert!(out.starts_with("ALERT d") && out.ends_with("… !"), "{out}");
        assert!(out.contains(" :: s"), "{out}");
    }

    proptest! {
        #[test]
        fn every_rendering_fits_and_keeps_the_literal_text(
            device in "\\PC{0,150}",
            summary in "\\PC{0,150}",
            value in "[0-9.]{0,10}",
            literal in "[A-Za-z ]{1,30}",
        ) {
            let v = Values { device, summary, value, ..values() };
            let template = format!("{literal}{{device}}-{{summary}}#{{value}}");
            let out = render(&template, &v);
            prop_assert!(utf16_len(&out) <= 100, "{} too long", out);
            prop_assert!(out.starts_with(literal.trim_start()), "{} lost {:?}", out, literal);
            prop_assert!(out.contains('-') && out.contains('#'), "{}", out);
        }
    }
}
