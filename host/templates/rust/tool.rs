//! `{{name}}` tool: counts the words and characters of a text.
//! Arguments `{"text": "..."}`; answer `{"words": W, "characters": C}`.

wit_bindgen::generate!({ path: "wit", world: "tool", generate_all });

struct Tool;

impl Guest for Tool {
    fn describe() -> ToolSpec {
        ToolSpec {
            name: "{{name}}".into(),
            description: "Count the words and characters of a text.".into(),
            parameters: r#"{"type":"object","properties":{"text":{"type":"string","description":"the text to count"}},"required":["text"]}"#.into(),
        }
    }

    fn invoke(arguments: String) -> Result<String, String> {
        let v: serde_json::Value =
            serde_json::from_str(&arguments).map_err(|e| format!("arguments are not JSON: {e}"))?;
        let text = v
            .get("text")
            .and_then(|t| t.as_str())
            .ok_or("missing string field `text`")?;
        let (words, characters) = count(text);
        Ok(format!(r#"{{"words":{words},"characters":{characters}}}"#))
    }
}

export!(Tool);

/// Words (separated by whitespace) and characters (Unicode scalar values).
pub fn count(text: &str) -> (usize, usize) {
    (text.split_whitespace().count(), text.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words_and_characters() {
        assert_eq!(count("hello wide  world"), (3, 17));
        assert_eq!(count(""), (0, 0));
        assert_eq!(count("grüße"), (1, 5));
    }

    #[test]
    fn bad_arguments_are_an_error() {
        assert!(Tool::invoke("not json".into()).is_err());
        assert!(Tool::invoke("{}".into()).is_err());
        assert_eq!(
            Tool::invoke(r#"{"text":"a b"}"#.into()).as_deref(),
            Ok(r#"{"words":2,"characters":3}"#)
        );
    }
}
