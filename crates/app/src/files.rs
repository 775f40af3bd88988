//! Uploaded files (上传文件): what an upload may be, recognised by its content, not by
//! what the browser says. PDF, images (PNG, JPEG, GIF) and Office documents (Word,
//! Excel, PowerPoint, old and new formats) up to `MAX_BYTES`; the file name's
//! extension must agree with the content, so a renamed executable is refused. And the
//! name a download carries.

/// The largest evidence file accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// The kind of an evidence file: its content type for downloads.
pub fn kind_of(filename: &str, content: &[u8]) -> Result<&'static str, String> {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let starts = |magic: &[u8]| content.starts_with(magic);
    let (allowed, content_type): (&[&str], &str) = if starts(b"%PDF-") {
        (&["pdf"], "application/pdf")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        (&["png"], "image/png")
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        (&["jpg", "jpeg"], "image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        (&["gif"], "image/gif")
    } else if starts(b"PK\x03\x04") {
        // Office Open XML is a zip; the extension says which.
        match ext.as_str() {
            "docx" => (&["docx"], "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            "xlsx" => (&["xlsx"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            "pptx" => (&["pptx"], "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            _ => return Err(format!("`{filename}`: a zip file is accepted only as .docx, .xlsx or .pptx")),
        }
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        match ext.as_str() {
            "doc" => (&["doc"], "application/msword"),
            "xls" => (&["xls"], "application/vnd.ms-excel"),
            "ppt" => (&["ppt"], "application/vnd.ms-powerpoint"),
            _ => return Err(format!("`{filename}`: an old Office file is accepted only as .doc, .xls or .ppt")),
        }
    } else {
        return Err(format!("`{filename}` is not a PDF, an image or an Office document"));
    };
    if !allowed.contains(&ext.as_str()) {
        return Err(format!("`{filename}`: the content is {content_type}, but the name ends in .{ext}"));
    }
    Ok(content_type)
}

/// A file name safe for a `Content-Disposition` header: no path, no quotes or
/// control characters; non-ASCII names go in the RFC 5987 form beside an ASCII one.
pub fn disposition(filename: &str) -> String {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let clean: String = base.chars().filter(|c| !c.is_control() && *c != '"' && *c != ';').collect();
    let ascii: String = clean.chars().map(|c| if c.is_ascii() { c } else { '_' }).collect();
    let encoded: String = clean
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides() {
        assert_eq!(kind_of("报告.pdf", b"%PDF-1.7 ..."), Ok("application/pdf"));
        assert_eq!(kind_of("photo.JPG", &[0xFF, 0xD8, 0xFF, 0xE0]), Ok("image/jpeg"));
        assert!(kind_of("table.xlsx", b"PK\x03\x04rest").is_ok());
        assert!(kind_of("tool.exe", b"MZ\x90\x00").is_err());
        assert!(kind_of("tool.pdf", b"MZ\x90\x00").is_err(), "an executable renamed .pdf");
        assert!(kind_of("report.png", b"%PDF-1.4").unwrap_err().contains("ends in .png"));
        assert!(kind_of("archive.zip", b"PK\x03\x04").is_err());
        assert!(kind_of("page.html", b"<html><script>").is_err());
    }

    #[test]
    fn dispositions_are_safe() {
        let d = disposition("../../etc/pa\"ss;wd\r\n.pdf");
        assert!(!d.contains("..") && !d.contains('\r') && !d.contains("\"ss"), "{d}");
        assert_eq!(disposition("佐证.pdf"), "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E4%BD%90%E8%AF%81.pdf");
    }
}
