//! `calc` tool: evaluates an arithmetic expression given as
//! `{"expression": "2*(3+4)"}`. Supports `+ - * / % ^`, parentheses, unary
//! minus and decimals. Pure: no I/O at all.

wit_bindgen::generate!({ path: "../../../wit", world: "tool", generate_all });

struct Calc;

impl Guest for Calc {
    fn describe() -> ToolSpec {
        ToolSpec {
            name: "calc".into(),
            description: "Evaluate an arithmetic expression (+ - * / % ^, parentheses, decimals)."
                .into(),
            parameters: r#"{"type":"object","properties":{"expression":{"type":"string","description":"e.g. 2*(3+4)"}},"required":["expression"]}"#.into(),
        }
    }

    fn invoke(arguments: String) -> Result<String, String> {
        let v: serde_json::Value =
            serde_json::from_str(&arguments).map_err(|e| format!("arguments are not JSON: {e}"))?;
        let expr = v
            .get("expression")
            .and_then(|e| e.as_str())
            .ok_or("missing string field `expression`")?;
        eval(expr).map(format_number)
    }
}

export!(Calc);

/// Formats integers without a fractional part, others with up to 10 digits.
pub fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.10}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Evaluates an expression; errors name the position.
pub fn eval(src: &str) -> Result<f64, String> {
    let mut p = Parser {
        s: src.as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.expr()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected `{}` at {}", p.s[p.i] as char, p.i + 1));
    }
    if !v.is_finite() {
        return Err("result is not a finite number".into());
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: u32,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn expr(&mut self) -> Result<f64, String> {
        let mut v = self.term()?;
        while let Some(c @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            let r = self.term()?;
            v = if c == b'+' { v + r } else { v - r };
        }
        Ok(v)
    }
    fn term(&mut self) -> Result<f64, String> {
        let mut v = self.unary()?;
        while let Some(c @ (b'*' | b'/' | b'%')) = self.peek() {
            self.i += 1;
            let r = self.unary()?;
            v = match c {
                b'*' => v * r,
                _ if r == 0.0 => return Err("division by zero".into()),
                b'/' => v / r,
                _ => v % r,
            };
        }
        Ok(v)
    }
    /// Unary minus binds looser than `^`: `-2^2` is `-(2^2)`.
    fn unary(&mut self) -> Result<f64, String> {
        match self.peek() {
            Some(b'-') => {
                self.i += 1;
                Ok(-self.unary()?)
            }
            Some(b'+') => {
                self.i += 1;
                self.unary()
            }
            _ => self.power(),
        }
    }
    fn power(&mut self) -> Result<f64, String> {
        let base = self.atom()?;
        if self.peek() == Some(b'^') {
            self.i += 1;
            let exp = self.unary()?; // right-associative; allows 2^-1
            return Ok(base.powf(exp));
        }
        Ok(base)
    }
    fn atom(&mut self) -> Result<f64, String> {
        match self.peek() {
            Some(b'(') => {
                self.depth += 1;
                if self.depth > 64 {
                    return Err("expression nested too deeply".into());
                }
                self.i += 1;
                let v = self.expr()?;
                if self.peek() != Some(b')') {
                    return Err(format!("expected `)` at {}", self.i + 1));
                }
                self.i += 1;
                self.depth -= 1;
                Ok(v)
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.')
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                t.parse::<f64>()
                    .map_err(|_| format!("bad number `{t}` at {}", start + 1))
            }
            Some(c) => Err(format!("unexpected `{}` at {}", c as char, self.i + 1)),
            None => Err("unexpected end of expression".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_with_precedence() {
        assert_eq!(eval("2*(3+4)").map(format_number), Ok("14".into()));
        assert_eq!(eval("1+2*3^2").map(format_number), Ok("19".into()));
        assert_eq!(eval("-2^2").map(format_number), Ok("-4".into()));
        assert_eq!(eval("7/2").map(format_number), Ok("3.5".into()));
        assert_eq!(eval("2^3^2").map(format_number), Ok("512".into()));
        assert_eq!(eval("2^-1").map(format_number), Ok("0.5".into()));
        assert_eq!(eval("-(3)*-2").map(format_number), Ok("6".into()));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(eval("1/0").is_err());
        assert!(eval("2*(3").unwrap_err().contains("expected `)`"));
        assert!(eval("abc").is_err());
        assert!(eval("").is_err());
        assert!(eval(&"(".repeat(100)).unwrap_err().contains("nested"));
    }
}
