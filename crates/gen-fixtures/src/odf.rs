//! OpenDocument packages (.ods, .odt) written by hand: `mimetype` first and stored, as the
//! specification requires, then the XML parts.

use crate::data::{question, Ans, Dash};
use crate::form::{Block, Val};
use crate::pdf::DashHead;
use crate::util::{xml, Stamp};
use crate::zipw::{zip, Method};

const NS: &str = concat!(
    r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" "#,
    r#"xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" "#,
    r#"xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" "#,
    r#"xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" "#,
    r#"xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" "#,
    r#"xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" "#,
    r#"xmlns:dc="http://purl.org/dc/elements/1.1/" "#,
    r#"xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" "#,
    r#"office:version="1.3""#
);

fn package(media: &str, content: String, title: &str, created: Stamp) -> Vec<u8> {
    let meta = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta {NS}><office:meta><meta:creation-date>{}</meta:creation-date><dc:date>{}</dc:date><dc:title>{}</dc:title><meta:generator>LibreOffice/7.4.7.2$Linux_X86_64 LibreOffice_project/40$Build-2</meta:generator></office:meta></office:document-meta>
"#,
        created.minus_secs(1800).w3c(),
        created.w3c(),
        xml(title)
    );
    let styles = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles {NS}><office:styles><style:default-style style:family="paragraph"><style:text-properties fo:font-size="10pt"/></style:default-style></office:styles></office:document-styles>
"#
    );
    let manifest = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="{media}"/>
 <manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"#
    );
    zip(&[
        ("mimetype", media.as_bytes().to_vec(), Method::Stored),
        ("meta.xml", meta.into_bytes(), Method::Deflated),
        ("styles.xml", styles.into_bytes(), Method::Deflated),
        ("content.xml", content.into_bytes(), Method::Deflated),
        ("META-INF/manifest.xml", manifest.into_bytes(), Method::Deflated),
    ])
}

fn cell(s: &str) -> String {
    if s.is_empty() {
        "<table:table-cell/>".to_string()
    } else {
        format!(
            r#"<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
            xml(s)
        )
    }
}

fn bold_cell(s: &str) -> String {
    format!(
        r#"<table:table-cell table:style-name="ce1" office:value-type="string" calcext:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
        xml(s)
    )
}

/// A DASH spreadsheet: merged title, header block, No | Question | Answer | Comments.
pub fn ods_dash(head: &DashHead, dash: &Dash, abuser_first: Option<&str>, created: Stamp) -> Vec<u8> {
    let mut rows = String::new();
    rows += &format!(
        r#"<table:table-row><table:table-cell table:style-name="ce1" table:number-columns-spanned="4" table:number-rows-spanned="1" office:value-type="string" calcext:value-type="string"><text:p>{} - DASH Risk Identification Checklist</text:p></table:table-cell><table:covered-table-cell table:number-columns-repeated="3"/></table:table-row>"#,
        xml(&head.area)
    );
    rows += r#"<table:table-row><table:table-cell table:number-columns-repeated="4"/></table:table-row>"#;
    for (l, v) in [
        ("Victim name", &head.victim),
        ("Victim DOB", &head.dob),
        ("Abuser name", &head.abuser),
        ("Date completed", &head.completed),
        ("Completed by", &head.by),
    ] {
        rows += &format!(
            "<table:table-row>{}{}<table:table-cell table:number-columns-repeated=\"2\"/></table:table-row>",
            bold_cell(l),
            cell(v)
        );
    }
    rows += r#"<table:table-row><table:table-cell table:number-columns-repeated="4"/></table:table-row>"#;
    rows += &format!(
        "<table:table-row>{}{}{}{}</table:table-row>",
        bold_cell("No"),
        bold_cell("Question"),
        bold_cell("Answer"),
        bold_cell("Comments")
    );
    for q in 1..=24 {
        let a = match dash.answers[q - 1] {
            Ans::Yes => "Yes",
            Ans::No => "No",
            Ans::Dk => "Don't know",
            Ans::Blank => "",
            Ans::Both => "Yes / No",
        };
        let comment = dash.comment(q).unwrap_or("");
        let tail = match (a.is_empty(), comment.is_empty()) {
            (true, true) => r#"<table:table-cell table:number-columns-repeated="2"/>"#.to_string(),
            _ => format!("{}{}", cell(a), cell(comment)),
        };
        rows += &format!(
            r#"<table:table-row><table:table-cell office:value-type="float" office:value="{q}" calcext:value-type="float"><text:p>{q}</text:p></table:table-cell>{}{tail}</table:table-row>"#,
            cell(&question(q, abuser_first))
        );
    }
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content {NS}><office:automatic-styles><style:style style:name="ce1" style:family="table-cell"><style:text-properties fo:font-weight="bold"/></style:style></office:automatic-styles><office:body><office:spreadsheet><table:table table:name="DASH RIC"><table:table-column table:number-columns-repeated="4"/>{rows}</table:table></office:spreadsheet></office:body></office:document-content>
"#
    );
    package("application/vnd.oasis.opendocument.spreadsheet", content, "DASH RIC", created)
}

fn tick_text(on: bool) -> &'static str {
    if on {
        "\u{2612}"
    } else {
        "\u{2610}"
    }
}

fn val_text(v: &Val) -> String {
    match v {
        Val::Text(s) => s.clone(),
        Val::Tick(on) => tick_text(*on).to_string(),
    }
}

/// A text document of `blocks`; ticks are shown as ☒ / ☐.
pub fn odt(blocks: &[Block], title: &str, created: Stamp) -> Vec<u8> {
    let mut body = String::new();
    let mut tables = 0;
    for b in blocks {
        match b {
            Block::Title(s) => {
                body += &format!(r#"<text:h text:style-name="P1" text:outline-level="1">{}</text:h>"#, xml(s))
            }
            Block::Para(s) => body += &format!("<text:p>{}</text:p>", xml(s)),
            Block::Heading(s) => body += &format!(r#"<text:h text:outline-level="2">{}</text:h>"#, xml(s)),
            Block::Kv(rows) => {
                tables += 1;
                body += &format!(
                    r#"<table:table table:name="Table{tables}"><table:table-column table:number-columns-repeated="2"/>"#
                );
                for (l, v) in rows {
                    body += &format!(
                        r#"<table:table-row><table:table-cell office:value-type="string"><text:p><text:span text:style-name="T1">{}</text:span></text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell></table:table-row>"#,
                        xml(l),
                        xml(&val_text(v))
                    );
                }
                body += "</table:table>";
            }
            Block::Grid { header, rows, .. } => {
                tables += 1;
                body += &format!(
                    r#"<table:table table:name="Table{tables}"><table:table-column table:number-columns-repeated="{}"/><table:table-header-rows><table:table-row>"#,
                    header.len()
                );
                for h in header {
                    body += &format!(
                        r#"<table:table-cell office:value-type="string"><text:p><text:span text:style-name="T1">{}</text:span></text:p></table:table-cell>"#,
                        xml(h)
                    );
                }
                body += "</table:table-row></table:table-header-rows>";
                for r in rows {
                    body += "<table:table-row>";
                    for v in r {
                        body += &format!(
                            r#"<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
                            xml(&val_text(v))
                        );
                    }
                    body += "</table:table-row>";
                }
                body += "</table:table>";
            }
        }
    }
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content {NS}><office:automatic-styles><style:style style:name="P1" style:family="paragraph"><style:text-properties fo:font-size="16pt" fo:font-weight="bold"/></style:style><style:style style:name="T1" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style></office:automatic-styles><office:body><office:text>{body}</office:text></office:body></office:document-content>
"#
    );
    package("application/vnd.oasis.opendocument.text", content, title, created)
}
