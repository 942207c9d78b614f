//! Test-only tool with an invalid JSON Schema (`"type": "nope"`): the host
//! must refuse to offer it and `kennel check` must name the problem.

wit_bindgen::generate!({ path: "../../../wit", world: "tool", generate_all });

struct BadSchema;

impl Guest for BadSchema {
    fn describe() -> ToolSpec {
        ToolSpec {
            name: "badschema".into(),
            description: "A tool whose schema is invalid.".into(),
            parameters: r#"{"type":"object","properties":{"n":{"type":"nope"}}}"#.into(),
        }
    }

    fn invoke(_arguments: String) -> Result<String, String> {
        Ok("should never be called".into())
    }
}

export!(BadSchema);
