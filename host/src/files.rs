//! File contents: what the host reads out of an attached file (the text of
//! text-like files and PDFs; images sized for a vision model) and the data
//! URL a model gets for an image.
//!
//! Pure functions over bytes: no network, no Mattermost, no guests, no
//! async. Every function is bounded (text by characters, PDFs by
//! decompressed size, images by pixels and allocation) and turns bad input
//! into a one-line note, never a panic. Callers run them on a blocking thread.

use base64::Engine;

/// Largest decompressed content of one PDF page (a zip bomb stops here).
const MAX_PDF_PAGE: usize = 32 * 1024 * 1024;
/// Most pages read from one PDF.
const MAX_PDF_PAGES: usize = 500;
/// Largest image decoded (pixels); larger ones are refused, not decoded.
const MAX_DECODE_PIXELS: u64 = 100_000_000;
/// Images larger than this (bytes) are re-encoded even within the pixel
/// cap (a huge file of few pixels would make a huge request).
const MAX_KEEP_BYTES: usize = 4 * 1024 * 1024;
/// Most memory the image decoder may allocate.
const MAX_DECODE_ALLOC: u64 = 512 * 1024 * 1024;

/// What the host can do with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text, JSON, YAML, CSV, source code, logs: read as UTF-8.
    Text,
    /// PDF: its text layer is extracted.
    Pdf,
    /// PNG, JPEG, GIF, WebP: passed to a vision model.
    Image,
    /// Anything else: the agent gets a note.
    Other,
}

/// File extensions read as text whatever MIME type the server reports
/// (browsers label source files `application/octet-stream`).
const TEXT_EXTENSIONS: &[&str] = &[
    "txt",
    "md",
    "markdown",
    "rst",
    "csv",
    "tsv",
    "json",
    "jsonl",
    "ndjson",
    "yaml",
    "yml",
    "toml",
    "xml",
    "html",
    "htm",
    "log",
    "ini",
    "cfg",
    "conf",
    "env",
    "properties",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "py",
    "rs",
    "go",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "java",
    "kt",
    "scala",
    "c",
    "h",
    "cpp",
    "hpp",
    "cc",
    "cs",
    "rb",
    "php",
    "pl",
    "swift",
    "sql",
    "diff",
    "patch",
    "css",
    "scss",
    "gradle",
    "lua",
    "r",
    "tex",
    "wit",
    "proto",
    "graphql",
    "dockerfile",
    "makefile",
];

/// MIME types (beside `text/*`) read as text.
const TEXT_MIMES: &[&str] = &[
    "application/json",
    "application/ld+json",
    "application/x-ndjson",
    "application/xml",
    "application/yaml",
    "application/x-yaml",
    "application/toml",
    "application/javascript",
    "application/x-javascript",
    "application/typescript",
    "application/x-sh",
    "application/x-python",
    "application/sql",
    "application/csv",
];

const IMAGE_MIMES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/jpg",
    "image/gif",
    "image/webp",
];

/// How a file is treated, from its MIME type and name.
pub fn kind(name: &str, mime: &str) -> Kind {
    let mime = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_else(|| name.to_ascii_lowercase());
    if mime == "application/pdf" || ext == "pdf" {
        Kind::Pdf
    } else if IMAGE_MIMES.contains(&mime.as_str())
        || ["png", "jpg", "jpeg", "gif", "webp"].contains(&ext.as_str())
    {
        Kind::Image
    } else if mime.starts_with("text/")
        || TEXT_MIMES.contains(&mime.as_str())
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
        || TEXT_EXTENSIONS.contains(&ext.as_str())
    {
        Kind::Text
    } else {
        Kind::Other
    }
}

/// Text read from a file, and a note when it is incomplete or missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    pub text: Option<String>,
    pub note: Option<String>,
}

impl Extracted {
    fn note(note: String) -> Extracted {
        Extracted {
            text: None,
            note: Some(note),
        }
    }
}

/// The text of a text-like file or PDF, cut to `max_chars` characters.
/// Images and other files give no text (and no note: the caller knows why).
pub fn extract_text(name: &str, mime: &str, bytes: &[u8], max_chars: usize) -> Extracted {
    let text = match kind(name, mime) {
        Kind::Text => match decode_text(bytes) {
            Ok(t) => t,
            Err(why) => return Extracted::note(format!("{name}: not read ({why})")),
        },
        Kind::Pdf => match pdf_text(bytes) {
            Ok(t) if t.trim().is_empty() => {
                return Extracted::note(format!(
                    "{name}: PDF has no text layer (a scan?); its pages were not read"
                ));
            }
            Ok(t) => t,
            Err(why) => {
                return Extracted::note(format!("{name}: PDF text could not be read ({why})"));
            }
        },
        Kind::Image | Kind::Other => return Extracted::default(),
    };
    cap_text(name, text, max_chars)
}

fn decode_text(bytes: &[u8]) -> Result<String, &'static str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Err("binary content, not text");
    }
    Ok(match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    })
}

fn pdf_text(bytes: &[u8]) -> Result<String, String> {
    let doc = lopdf::Document::load_mem(bytes).map_err(|e| e.to_string())?;
    if doc.is_encrypted() {
        return Err("it is encrypted".into());
    }
    let pages: Vec<u32> = doc
        .get_pages()
        .keys()
        .copied()
        .take(MAX_PDF_PAGES)
        .collect();
    let mut out = String::new();
    for chunk in doc.extract_text_chunks_with_limit(&pages, MAX_PDF_PAGE) {
        match chunk {
            Ok(t) => out.push_str(&t),
            Err(e) if out.is_empty() => return Err(e.to_string()),
            Err(_) => {}
        }
    }
    Ok(out)
}

fn cap_text(name: &str, text: String, max_chars: usize) -> Extracted {
    let total = text.chars().count();
    if total <= max_chars {
        return Extracted {
            text: Some(text),
            note: None,
        };
    }
    let cut: String = text.chars().take(max_chars).collect();
    Extracted {
        text: Some(cut),
        note: Some(format!(
            "{name}: only the first {max_chars} of {total} characters are included"
        )),
    }
}

/// An image ready for a model: its MIME type and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub mime: &'static str,
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// The image as a model gets it: unchanged when within `max_pixels`
/// (width × height) and in a format models take; otherwise decoded,
/// downscaled to fit (aspect kept) and re-encoded (JPEG for photos, PNG
/// otherwise).
pub fn prepare_image(bytes: &[u8], max_pixels: u64) -> Result<Prepared, String> {
    use image::ImageFormat;
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let format = reader.format().ok_or("not an image in a known format")?;
    let (mime, keep) = match format {
        ImageFormat::Png => ("image/png", true),
        ImageFormat::Jpeg => ("image/jpeg", true),
        ImageFormat::Gif => ("image/gif", true),
        ImageFormat::WebP => ("image/webp", true),
        _ => ("image/png", false),
    };
    let (w, h) = reader.into_dimensions().map_err(|e| e.to_string())?;
    let pixels = u64::from(w) * u64::from(h);
    if pixels == 0 {
        return Err("the image is empty".into());
    }
    if keep && pixels <= max_pixels.max(1) && bytes.len() <= MAX_KEEP_BYTES {
        return Ok(Prepared {
            mime,
            bytes: bytes.to_vec(),
            width: w,
            height: h,
        });
    }
    if pixels > MAX_DECODE_PIXELS {
        return Err(format!("{w}×{h} pixels is too large to decode"));
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| e.to_string())?;
    let scale = (max_pixels.max(1) as f64 / pixels as f64).sqrt().min(1.0);
    let (nw, nh) = (
        ((f64::from(w) * scale).floor() as u32).max(1),
        ((f64::from(h) * scale).floor() as u32).max(1),
    );
    let small = img.resize_exact(nw, nh, image::imageops::FilterType::Triangle);
    let mut out = std::io::Cursor::new(Vec::new());
    let mime = if format == ImageFormat::Jpeg {
        small
            .to_rgb8()
            .write_to(&mut out, ImageFormat::Jpeg)
            .map_err(|e| e.to_string())?;
        "image/jpeg"
    } else {
        small
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|e| e.to_string())?;
        "image/png"
    };
    Ok(Prepared {
        mime,
        bytes: out.into_inner(),
        width: nw,
        height: nh,
    })
}

/// `data:MIME;base64,…` for an image part.
pub fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// A MIME type for a reply file from its name (agents may leave it empty).
pub fn mime_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "md" | "markdown" => "text/markdown",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "yaml" | "yml" => "application/yaml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_mime_or_extension() {
        assert_eq!(kind("a.txt", "text/plain"), Kind::Text);
        assert_eq!(kind("main.rs", "application/octet-stream"), Kind::Text);
        assert_eq!(kind("x", "application/json; charset=utf-8"), Kind::Text);
        assert_eq!(kind("r.pdf", "application/octet-stream"), Kind::Pdf);
        assert_eq!(kind("s.png", "image/png"), Kind::Image);
        assert_eq!(kind("s.bin", "image/webp"), Kind::Image);
        assert_eq!(kind("a.zip", "application/zip"), Kind::Other);
        assert_eq!(kind("Makefile", ""), Kind::Text);
    }

    #[test]
    fn text_is_capped_with_a_note_and_binary_refused() {
        let e = extract_text("a.txt", "text/plain", "héllo world".as_bytes(), 5);
        assert_eq!(e.text.as_deref(), Some("héllo"));
        assert_eq!(
            e.note.as_deref(),
            Some("a.txt: only the first 5 of 11 characters are included")
        );
        let e = extract_text("b.log", "text/plain", b"ok\0\x01", 100);
        assert_eq!(e.text, None);
        assert!(e.note.unwrap().contains("binary"));
        assert_eq!(
            extract_text("c.zip", "application/zip", b"PK", 100),
            Extracted::default()
        );
    }

    #[test]
    fn a_broken_pdf_is_a_note_not_a_panic() {
        let e = extract_text("x.pdf", "application/pdf", b"%PDF-1.4 garbage", 100);
        assert_eq!(e.text, None);
        assert!(
            e.note
                .unwrap()
                .starts_with("x.pdf: PDF text could not be read")
        );
    }

    #[test]
    fn hostile_pdfs_and_images_are_notes() {
        // Deep nesting (a parser's stack), a bogus xref, a zip-bomb-sized claim.
        let mut nested = b"%PDF-1.4\n1 0 obj\n".to_vec();
        nested.extend(std::iter::repeat_n(b'[', 200_000));
        nested.extend_from_slice(b"\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF");
        let e = extract_text("deep.pdf", "application/pdf", &nested, 100);
        assert_eq!(e.text, None);
        assert!(e.note.is_some());
        // A PNG header claiming 100k × 100k pixels is refused before decoding.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert!(prepare_image(&png, 1 << 20).is_err());
    }

    #[test]
    fn images_over_the_cap_are_downscaled_and_small_ones_kept() {
        let img = image::RgbImage::from_pixel(400, 300, image::Rgb([200, 10, 10]));
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        let png = png.into_inner();
        let kept = prepare_image(&png, 400 * 300).unwrap();
        assert_eq!(
            (kept.width, kept.height, kept.bytes == png),
            (400, 300, true)
        );
        let small = prepare_image(&png, 10_000).unwrap();
        assert!(u64::from(small.width) * u64::from(small.height) <= 10_000);
        assert_eq!(small.width * 3 / 4, small.height);
        assert_eq!(small.mime, "image/png");
        assert!(prepare_image(b"not an image", 100).is_err());
        assert!(data_url("image/png", b"ab").starts_with("data:image/png;base64,YWI="));
    }
}
