//! HTML to readable text, and the small URL helpers `web_fetch` needs.
//! Pure functions, unit-tested natively.

/// The parts of an absolute http(s) URL.
#[derive(Debug, PartialEq, Eq)]
pub struct UrlParts {
    pub https: bool,
    pub authority: String,
    /// Path and query, starting with `/`; fragment dropped.
    pub path: String,
}

pub fn split_url(url: &str) -> Result<UrlParts, String> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(format!(
            "`{url}` is not an absolute http:// or https:// URL"
        ));
    };
    let rest = rest.split('#').next().unwrap_or("");
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    if authority.is_empty() || authority.contains('@') || authority.contains(' ') {
        return Err(format!("`{url}` has no usable host"));
    }
    Ok(UrlParts {
        https,
        authority: authority.to_string(),
        path,
    })
}

/// Resolves a `Location` header against the URL that answered.
pub fn join_url(base: &str, location: &str) -> Result<String, String> {
    let location = location.trim();
    if location.starts_with("http://") || location.starts_with("https://") {
        return Ok(location.to_string());
    }
    let b = split_url(base)?;
    let scheme = if b.https { "https" } else { "http" };
    if let Some(rest) = location.strip_prefix("//") {
        return Ok(format!("{scheme}://{rest}"));
    }
    if location.starts_with('/') {
        return Ok(format!("{scheme}://{}{location}", b.authority));
    }
    let dir = match b.path.split('?').next().unwrap_or("/").rfind('/') {
        Some(i) => b.path[..=i].to_string(),
        None => "/".to_string(),
    };
    Ok(format!("{scheme}://{}{dir}{location}", b.authority))
}

/// Elements whose content is never text.
const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "head", "iframe", "object",
];
/// Elements that end a line.
const BLOCK: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "blockquote",
    "dd",
    "dt",
    "hr",
    "title",
    "main",
    "nav",
];

/// Text of an HTML document: tags removed, script/style/comment contents
/// dropped, block elements on their own lines, entities decoded, blank runs collapsed.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut skipping: Option<String> = None;
    loop {
        // Inside script/style/…: jump straight to its closing tag (the
        // content may hold `<` that is not markup).
        if let Some(name) = skipping.take() {
            let close = format!("</{name}");
            match rest.to_ascii_lowercase().find(&close) {
                Some(i) => rest = &rest[i..],
                None => {
                    rest = "";
                    break;
                }
            }
        }
        let Some(lt) = rest.find('<') else { break };
        out.push_str(&decode_entities(&rest[..lt]));
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map(|i| &after[i + 3..]).unwrap_or("");
            continue;
        }
        let Some(gt) = rest.find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !closing && SKIP.contains(&name.as_str()) && !tag.ends_with('/') {
            skipping = Some(name);
        } else if BLOCK.contains(&name.as_str()) && !out.ends_with('\n') {
            out.push('\n');
        } else if name == "td" || name == "th" {
            out.push(' ');
        }
    }
    out.push_str(&decode_entities(rest));
    collapse(&out)
}

/// Collapses runs of spaces inside lines and runs of blank lines.
pub fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(&words.join(" "));
    }
    out
}

/// Cuts to at most `max` characters, saying so.
pub fn cap(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}\n[… cut at {max} characters]", &text[..i]),
        None => text.to_string(),
    }
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..].find(';').map(|i| i + 1).filter(|&i| i <= 10);
        let decoded = end.and_then(|e| entity(&rest[1..e]));
        match (decoded, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "copy" => '©',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_scripts_and_entities_are_gone() {
        let html = "<html><head><title>T</title><style>p{color:red}</style></head><body>\
            <h1>Hello &amp; welcome</h1><script>alert('x<y')</script><!-- hidden -->\
            <p>One&nbsp;two <b>three</b></p><ul><li>a</li><li>b&#x21;</li></ul></body></html>";
        assert_eq!(html_to_text(html), "Hello & welcome\nOne two three\na\nb!");
    }

    #[test]
    fn urls_split_and_join() {
        let p = split_url("https://example.com:8443/a/b?q=1#frag").expect("split");
        assert_eq!(
            p,
            UrlParts {
                https: true,
                authority: "example.com:8443".into(),
                path: "/a/b?q=1".into()
            }
        );
        assert_eq!(split_url("http://x.io").expect("split").path, "/");
        assert!(split_url("ftp://x.io").is_err());
        assert!(split_url("http://user@x.io/").is_err());
        assert_eq!(
            join_url("https://x.io/a/b", "/c").expect("join"),
            "https://x.io/c"
        );
        assert_eq!(
            join_url("https://x.io/a/b", "c").expect("join"),
            "https://x.io/a/c"
        );
        assert_eq!(
            join_url("https://x.io/a/b", "http://y.io/").expect("join"),
            "http://y.io/"
        );
        assert_eq!(
            join_url("https://x.io/a", "//y.io/z").expect("join"),
            "https://y.io/z"
        );
    }

    #[test]
    fn long_text_is_capped_on_a_char_boundary() {
        assert_eq!(cap("héllo", 2), "hé\n[… cut at 2 characters]");
        assert_eq!(cap("hi", 5), "hi");
    }
}
