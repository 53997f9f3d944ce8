//! Which ConnectWise contact a device's user is (pure). ConnectWise has no rule for this, so
//! Bindery's is: an admin's manual mapping first; then, among the company's active contacts,
//! the e-mail's local part, then `securityIdentifier`, then first/last-name patterns. Each
//! step either finds exactly one contact, finds several (ambiguous: no contact, never a guess),
//! or passes to the next. Bindery never creates contacts.

use serde::{Deserialize, Serialize};

/// A contact as matching needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactCandidate {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub emails: Vec<String>,
    pub security_identifier: Option<String>,
}

/// What matching found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContactMatch {
    One(i64),
    /// Several contacts fit equally: none is set.
    Ambiguous(Vec<i64>),
    None,
}

/// A login as devices report it: `DOMAIN\user`, `user@domain` or `user`, split.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Login {
    whole: String,
    user: String,
}

fn parse(login: &str) -> Option<Login> {
    let whole = login.trim().to_lowercase();
    let user = match (whole.rsplit_once('\\'), whole.split_once('@')) {
        (Some((_, user)), _) => user,
        (None, Some((user, _))) => user,
        (None, None) => whole.as_str(),
    }
    .trim()
    .to_owned();
    (!user.is_empty()).then_some(Login { whole, user })
}

/// The user names a person with these names is commonly given.
fn name_patterns(first: &str, last: &str) -> Vec<String> {
    let (f, l) = (first.trim().to_lowercase(), last.trim().to_lowercase());
    if f.is_empty() || l.is_empty() {
        return Vec::new();
    }
    let initial: String = f.chars().take(1).collect();
    vec![
        format!("{f}.{l}"),
        format!("{f}_{l}"),
        format!("{f}-{l}"),
        format!("{f}{l}"),
        format!("{initial}{l}"),
        format!("{initial}.{l}"),
        format!("{l}.{f}"),
    ]
}

/// Matches `login` to one of `contacts`; `manual` maps logins (as typed by an admin, any case,
/// in any of the three forms) to contact ids and wins over everything else.
pub fn match_login(
    login: &str,
    contacts: &[ContactCandidate],
    manual: &[(String, i64)],
) -> ContactMatch {
    let Some(login) = parse(login) else {
        return ContactMatch::None;
    };
    if let Some((_, id)) = manual.iter().find(|(m, _)| {
        let m = m.trim().to_lowercase();
        m == login.whole || m == login.user
    }) {
        return ContactMatch::One(*id);
    }
    let steps: [&dyn Fn(&ContactCandidate) -> bool; 3] = [
        &|c| {
            c.emails.iter().any(|e| {
                e.trim()
                    .to_lowercase()
                    .split_once('@')
                    .is_some_and(|(local, _)| local == login.user)
            })
        },
        &|c| {
            c.security_identifier.as_deref().is_some_and(|s| {
                let s = s.trim().to_lowercase();
                s == login.whole || s == login.user
            })
        },
        &|c| name_patterns(&c.first_name, &c.last_name).contains(&login.user),
    ];
    for fits in steps {
        let found: Vec<i64> = contacts.iter().filter(|c| fits(c)).map(|c| c.id).collect();
        match found.as_slice() {
            [] => continue,
            [one] => return ContactMatch::One(*one),
            _ => return ContactMatch::Ambiguous(found),
        }
    }
    ContactMatch::None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: i64, first: &str, last: &str, email: &str, sid: Option<&str>) -> ContactCandidate {
        ContactCandidate {
            id,
            first_name: first.into(),
            last_name: last.into(),
            emails: vec![email.into()],
            security_identifier: sid.map(str::to_owned),
        }
    }

    fn acme() -> Vec<ContactCandidate> {
        vec![
            c(1, "Jane", "Doe", "jane.doe@acme.example", None),
            c(2, "Ana", "Lima", "ana@acme.example", Some("ACME\\alima")),
            c(3, "John", "Smith", "jsmith@acme.example", None),
            c(4, "Joan", "Smith", "joan@acme.example", None),
            c(
                5,
                "Mark",
                "Stone",
                "help@acme.example",
                Some("S-1-5-21-1004"),
            ),
        ]
    }

    #[test]
    fn every_login_form_finds_the_e_mail_s_owner() {
        for login in [
            "ACME\\jane.doe",
            "jane.doe@acme.local",
            "jane.doe",
            "  JANE.DOE ",
        ] {
            assert_eq!(
                match_login(login, &acme(), &[]),
                ContactMatch::One(1),
                "{login}"
            );
        }
    }

    #[test]
    fn the_security_identifier_then_name_patterns() {
        assert_eq!(
            match_login("ACME\\alima", &acme(), &[]),
            ContactMatch::One(2)
        );
        assert_eq!(
            match_login("S-1-5-21-1004", &acme(), &[]),
            ContactMatch::One(5)
        );
        assert_eq!(match_login("mstone", &acme(), &[]), ContactMatch::One(5));
        assert_eq!(
            match_login("CORP\\mark.stone", &acme(), &[]),
            ContactMatch::One(5)
        );
        // The e-mail's local part wins over a name pattern of someone else.
        assert_eq!(match_login("jsmith", &acme(), &[]), ContactMatch::One(3));
    }

    #[test]
    fn ambiguous_means_no_contact_and_unknown_means_none() {
        // j.smith fits both John and Joan Smith.
        assert_eq!(
            match_login("j.smith", &acme(), &[]),
            ContactMatch::Ambiguous(vec![3, 4])
        );
        assert_eq!(match_login("nobody", &acme(), &[]), ContactMatch::None);
        assert_eq!(match_login("", &acme(), &[]), ContactMatch::None);
        assert_eq!(match_login("ACME\\", &acme(), &[]), ContactMatch::None);
    }

    #[test]
    fn an_admin_s_mapping_wins() {
        let manual = vec![("ACME\\J.Smith".to_owned(), 4)];
        assert_eq!(
            match_login("acme\\j.smith", &acme(), &manual),
            ContactMatch::One(4)
        );
        let by_user = vec![("jane.doe".to_owned(), 3)];
        assert_eq!(
            match_login("ACME\\jane.doe", &acme(), &by_user),
            ContactMatch::One(3)
        );
    }
}
