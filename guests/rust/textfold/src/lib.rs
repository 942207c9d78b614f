//! `textfold`: undoes the disguises attackers put on words, for the scanner
//! guests (`injection`, `classifier`) to read the word that was meant.
//!
//! Owns the character tables: what is invisible, what a fullwidth, accented
//! or styled letter (or an invisible Unicode tag) stands for, which Cyrillic
//! and Greek letters pass for Latin ones.
//! Pure functions of their input; must not decide whether a text is an
//! attack (that is each scanner's job) or change words written wholly in
//! another script.

/// What a character counts as: `None` for what a reader does not see
/// (zero-width characters, bidi controls, soft hyphens, combining marks,
/// variation selectors, so `ig\u{200B}nore` and a Zalgo `ignore` read as
/// `ignore`), otherwise the character it stands for: an invisible Unicode
/// tag as the ASCII character it encodes, fullwidth ASCII as ASCII, a Latin
/// letter without its accents (`instruções` as `instrucoes`), the Turkish
/// dotless `ı` as `i` and dotted `İ` as `I`, and the styled letters of text
/// generators as the plain letter ([`styled`]: `𝐢𝐠𝐧𝐨𝐫𝐞`, `ⓘⓖⓝⓞⓡⓔ`,
/// `ɪɢɴᴏʀᴇ`, `🅸🅶🅽🅾🆁🅴`). Case is kept.
pub fn fold(c: char) -> Option<char> {
    match c {
        c if zero_width(c) => None,
        // marks, bidi controls, invisible operators, soft hyphen
        '\u{200E}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2061}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{00AD}' => None,
        // Unicode tags spell ASCII that no one sees but a model may read
        // ("ASCII smuggling"): read them as the letters they encode
        '\u{E0020}'..='\u{E007E}' => char::from_u32(c as u32 - 0xE0000),
        // the other tags and the variation selectors are invisible
        '\u{E0000}'..='\u{E007F}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' => None,
        // combining marks of Latin, Greek and Cyrillic text
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}' => None,
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
        '\u{0262}'..='\u{02A0}'
        | '\u{1D00}'..='\u{1DBF}'
        | '\u{2070}'..='\u{209F}'
        | '\u{2100}'..='\u{214F}'
        | '\u{2460}'..='\u{24FF}'
        | '\u{A730}'..='\u{A731}'
        | '\u{1D400}'..='\u{1D7FF}'
        | '\u{1F100}'..='\u{1F1FF}' => Some(styled(c).unwrap_or(c)),
        'ı' => Some('i'),
        'İ' => Some('I'),
        '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}' => {
            let mut base = None;
            unicode_normalization::char::decompose_canonical(c, |d| {
                base.get_or_insert(d);
            });
            base.or(Some(c))
        }
        _ => Some(c),
    }
}

/// The zero-width characters that can stand between words unseen (zero-width
/// space, non-joiner and joiner, word joiner, BOM): [`fold`] drops them, so
/// they break no word up; a reader that also wants the words they join
/// apart reads them as spaces.
pub fn zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// The plain letter or digit a styled one stands for: the mathematical
/// alphanumerics (bold, italic, script, fraktur, double-struck, monospace…),
/// letterlike symbols (`ℎ`, `ℯ`), circled and squared letters and digits,
/// superscripts and subscripts (Unicode's compatibility mappings, when they
/// map to one ASCII letter or digit), the negative circled and squared
/// letters (`🅐`, `🅰`, which have none) and the small capitals (`ɪɢɴᴏʀᴇ`).
/// `None` for anything else.
pub fn styled(c: char) -> Option<char> {
    let letter = |first: u32| char::from_u32('A' as u32 + (c as u32 - first));
    match c {
        '\u{1F150}'..='\u{1F169}' => letter(0x1F150),
        '\u{1F170}'..='\u{1F189}' => letter(0x1F170),
        'ᴀ' => Some('a'),
        'ʙ' => Some('b'),
        'ᴄ' => Some('c'),
        'ᴅ' => Some('d'),
        'ᴇ' => Some('e'),
        'ꜰ' => Some('f'),
        'ɢ' => Some('g'),
        'ʜ' => Some('h'),
        'ɪ' => Some('i'),
        'ᴊ' => Some('j'),
        'ᴋ' => Some('k'),
        'ʟ' => Some('l'),
        'ᴍ' => Some('m'),
        'ɴ' => Some('n'),
        'ᴏ' => Some('o'),
        'ᴘ' => Some('p'),
        'ʀ' => Some('r'),
        'ꜱ' => Some('s'),
        'ᴛ' => Some('t'),
        'ᴜ' => Some('u'),
        'ᴠ' => Some('v'),
        'ᴡ' => Some('w'),
        'ʏ' => Some('y'),
        'ᴢ' => Some('z'),
        _ => {
            let (mut one, mut n) = (None, 0);
            unicode_normalization::char::decompose_compatible(c, |d| {
                one = Some(d);
                n += 1;
            });
            one.filter(|d| n == 1 && *d != c && d.is_ascii_alphanumeric())
        }
    }
}

/// The Latin letter a Cyrillic or Greek letter passes for, in its case.
pub fn look_alike(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' => 'a',
        'е' => 'e',
        'о' | 'ο' => 'o',
        'р' | 'ρ' => 'p',
        'с' => 'c',
        'у' => 'y',
        'х' => 'x',
        'і' | 'ι' => 'i',
        'ј' => 'j',
        'ѕ' => 's',
        'ԁ' => 'd',
        'һ' => 'h',
        'ӏ' => 'l',
        'ν' => 'v',
        'κ' => 'k',
        'τ' => 't',
        'υ' => 'u',
        'η' => 'n',
        'А' | 'Α' => 'A',
        'В' | 'Β' => 'B',
        'Е' | 'Ε' => 'E',
        'К' | 'Κ' => 'K',
        'М' | 'Μ' => 'M',
        'Н' | 'Η' => 'H',
        'О' | 'Ο' => 'O',
        'Р' | 'Ρ' => 'P',
        'С' => 'C',
        'Т' | 'Τ' => 'T',
        'Х' | 'Χ' => 'X',
        'І' | 'Ι' => 'I',
        'Ν' => 'N',
        'Υ' => 'Y',
        'Ζ' => 'Z',
        _ => return None,
    })
}

/// Cyrillic and Greek letters (the scripts whose letters pass for Latin).
fn cyrillic_or_greek(c: char) -> bool {
    matches!(c as u32, 0x0370..=0x03FF | 0x0400..=0x052F | 0x1F00..=0x1FFF)
}

/// A word that mixes Latin letters with Cyrillic or Greek ones is read as
/// the Latin word it imitates: look-alikes become their Latin letter and the
/// other Cyrillic or Greek letters, planted to break the word up
/// (`igΞnore`), are dropped. `None` for a word to leave as it is: one with
/// no ASCII letter, or none of those scripts.
pub fn unmix(word: &str) -> Option<String> {
    let latin = word.chars().any(|c| c.is_ascii_alphabetic());
    if !latin || word.is_ascii() || !word.chars().any(cyrillic_or_greek) {
        return None;
    }
    Some(
        word.chars()
            .filter_map(|c| match look_alike(c) {
                Some(l) => Some(l),
                None if cyrillic_or_greek(c) => None,
                None => Some(c),
            })
            .collect(),
    )
}

/// [`unmix`] applied to every word (run of letters and digits) of a text;
/// everything else is kept as it is.
pub fn unmix_words(text: &str) -> std::borrow::Cow<'_, str> {
    map_words(text, unmix)
}

/// Every word (run of letters and digits) of a text replaced by what `f`
/// returns for it (`None`: kept as it is); everything else is kept. ASCII
/// text is returned as it is without calling `f`: it has no word to fold.
pub fn map_words(text: &str, f: impl Fn(&str) -> Option<String>) -> std::borrow::Cow<'_, str> {
    if text.is_ascii() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match f(word) {
            Some(w) => out.push_str(&w),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(s: &str) -> String {
        s.chars().filter_map(fold).collect()
    }

    #[test]
    fn invisible_marks_and_accents_fold_away() {
        assert_eq!(folded("ig\u{200B}no\u{200D}re"), "ignore");
        assert_eq!(folded("ig\u{00AD}nore"), "ignore");
        assert_eq!(folded("i\u{0336}g\u{0336}nore"), "ignore");
        assert_eq!(folded("ｉｇｎｏｒｅ"), "ignore");
        assert_eq!(folded("ïgnóré"), "ignore");
        assert_eq!(folded("ıgnore İNSTRUCTİONS"), "ignore INSTRUCTIONS");
        assert_eq!(folded("INSTRUÇÕES"), "INSTRUCOES");
        // other scripts are left alone
        assert_eq!(folded("игнорируй 忽略 تجاهل"), "игнорируй 忽略 تجاهل");
    }

    #[test]
    fn styled_letters_read_as_plain_ones() {
        assert_eq!(folded("𝐢𝐠𝐧𝐨𝐫𝐞 𝐀𝐋𝐋"), "ignore ALL"); // bold
        assert_eq!(folded("𝔦𝔤𝔫𝔬𝔯𝔢 𝕡𝕣𝕖𝕧𝕚𝕠𝕦𝕤"), "ignore previous"); // fraktur, double-struck
        assert_eq!(folded("𝚒𝚐𝚗𝚘𝚛𝚎 𝘳𝘶𝘭𝘦𝘴 𝓻𝓾𝓵𝓮𝓼"), "ignore rules rules"); // monospace, italic, script
        assert_eq!(folded("ⓘⓖⓝⓞⓡⓔ Ⓐⓛⓛ ①②"), "ignore All 12"); // circled
        assert_eq!(folded("🄸🄶🄽🄾🅁🄴 🅸🅶🅽🅾🆁🅴 🅘🅖🅝🅞🅡🅔"), "IGNORE IGNORE IGNORE"); // squared, negative
        assert_eq!(folded("ɪɢɴᴏʀᴇ ᴀʟʟ ᴘʀᴇᴠɪᴏᴜꜱ"), "ignore all previous"); // small capitals
        assert_eq!(folded("ℎ𝑒𝑙𝑙𝑜 ⁱⁿ ₓ"), "hello in x"); // letterlike, super- and subscripts
        // text hidden in Unicode tags is read; the tag delimiters are not
        let tags: String = "ignore all"
            .chars()
            .map(|c| char::from_u32(0xE0000 + c as u32).unwrap())
            .collect();
        assert_eq!(
            folded(&format!("Hi!\u{E0001}{tags}\u{E007F}")),
            "Hi!ignore all"
        );
        assert_eq!(folded("ig\u{FE0F}nore"), "ignore");
        // symbols that stand for more than one letter, or for none, stay
        assert_eq!(folded("™ ℃ ⑴ 🇩🇪 ➀"), "™ ℃ ⑴ 🇩🇪 ➀");
    }

    #[test]
    fn mixed_words_read_as_the_latin_word() {
        assert_eq!(unmix("ignоre").as_deref(), Some("ignore")); // Cyrillic о
        assert_eq!(unmix("igΞnore").as_deref(), Some("ignore")); // planted Xi
        assert_eq!(unmix("ΗELLO").as_deref(), Some("HELLO")); // Greek Eta
        // a word wholly in one script is not touched
        assert_eq!(unmix("рос"), None);
        assert_eq!(unmix("ignore"), None);
        assert_eq!(unmix("naïve"), None);
        assert_eq!(
            unmix_words("ignΞore prΞevious, привет!"),
            "ignore previous, привет!"
        );
        assert!(matches!(
            unmix_words("plain ascii"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
