//! RFC 5988 `Link` headers as ConnectWise sends them for paging.

/// `(rel, url)` pairs of a `Link` header: `<https://…?page=2>; rel="next", <…>; rel="last"`.
/// URLs may hold commas (`fields=id,name`), so entries are found by their angle brackets.
pub fn parse_link_header(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>').map(|i| open + i) else {
            break;
        };
        let url = &rest[open + 1..close];
        let after = &rest[close + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        for param in after[..params_end].split(';') {
            if let Some((k, v)) = param.split_once('=')
                && k.trim().eq_ignore_ascii_case("rel")
            {
                let rel = v.trim().trim_end_matches(',').trim().trim_matches('"');
                for r in rel.split_whitespace() {
                    out.push((r.to_ascii_lowercase(), url.to_owned()));
                }
            }
        }
        rest = &after[params_end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_even_with_commas_in_urls() {
        let h = r#"<https://x/apis/3.0/company/configurations?fields=id,name&pageSize=50&page=2>; rel="next", <https://x/apis/3.0/company/configurations?fields=id,name&pageSize=50&page=9>; rel="last""#;
        let links = parse_link_header(h);
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].0, "next");
        assert!(links[0].1.ends_with("page=2"));
        assert_eq!(links[1].0, "last");
        assert!(parse_link_header("").is_empty());
        assert!(parse_link_header("<unterminated; rel=next").is_empty());
    }
}
