//! WordprocessingML (.docx) packages written by hand: label/value tables, DASH tables with typed
//! answers, content-control checkboxes (w14) and legacy form checkboxes (FORMCHECKBOX).

use crate::form::{Block, TickStyle, Val};
use crate::util::{xml, Stamp};
use crate::zipw::{zip, Method};

pub struct DocMeta {
    pub title: String,
    pub author: String,
    pub created: Stamp,
}

pub const CONTENT_TYPES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\r\n",
    r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#
);

pub const PACKAGE_RELS: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\r\n",
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#
);

const DOC_RELS: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\r\n",
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#
);

const STYLES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\r\n",
    r#"<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Arial" w:hAnsi="Arial" w:cs="Arial"/><w:sz w:val="20"/><w:lang w:val="en-GB"/></w:rPr></w:rPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:pPr><w:spacing w:after="60"/></w:pPr></w:style><w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:left w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:right w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="auto"/></w:tblBorders></w:tblPr></w:style></w:styles>"#
);

const SETTINGS: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\r\n",
    r#"<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:zoom w:percent="100"/><w:defaultTabStop w:val="720"/><w:characterSpacingControl w:val="doNotCompress"/><w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat></w:settings>"#
);

/// Renders blocks as document.xml body content.
pub struct Writer {
    pub body: String,
    tick: TickStyle,
    counter: u32,
    /// Split labels over two runs, as Word does after edits.
    split: bool,
}

fn run(text: &str, bold: bool) -> String {
    if text.is_empty() {
        return String::new();
    }
    let rpr = if bold { "<w:rPr><w:b/></w:rPr>" } else { "" };
    format!(r#"<w:r>{rpr}<w:t xml:space="preserve">{}</w:t></w:r>"#, xml(text))
}

impl Writer {
    pub fn new(tick: TickStyle, split: bool) -> Writer {
        Writer { body: String::new(), tick, counter: 0, split }
    }

    fn runs(&mut self, text: &str, bold: bool) -> String {
        if !self.split || text.len() < 12 {
            return run(text, bold);
        }
        // Break after the first word that passes the middle: two runs, a proofing mark between.
        let mid = text.len() / 2;
        match text[mid..].find(' ') {
            Some(i) => {
                let (a, b) = text.split_at(mid + i + 1);
                format!(
                    r#"{}<w:proofErr w:type="gramStart"/>{}<w:proofErr w:type="gramEnd"/>"#,
                    run(a, bold),
                    run(b, bold)
                )
            }
            None => run(text, bold),
        }
    }

    fn tick_xml(&mut self, on: bool) -> String {
        self.counter += 1;
        let k = self.counter;
        match self.tick {
            TickStyle::YesNo => run(if on { "Yes" } else { "No" }, false),
            TickStyle::Glyph => format!(
                r#"<w:r><w:rPr><w:rFonts w:ascii="MS Gothic" w:eastAsia="MS Gothic" w:hAnsi="MS Gothic"/></w:rPr><w:t>{}</w:t></w:r>"#,
                if on { "\u{2612}" } else { "\u{2610}" }
            ),
            TickStyle::X => run(if on { "X" } else { "" }, true),
            TickStyle::Word => run(if on { "Ticked" } else { "Not ticked" }, false),
            TickStyle::ContentControl => {
                let val = match (on, k.is_multiple_of(4)) {
                    (true, false) => "1",
                    (true, true) => "true",
                    (false, false) => "0",
                    (false, true) => "false",
                };
                format!(
                    concat!(
                        r#"<w:sdt><w:sdtPr><w:id w:val="-{}"/><w14:checkbox><w14:checked w14:val="{}"/>"#,
                        r#"<w14:checkedState w14:val="2612" w14:font="MS Gothic"/><w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/></w14:checkbox></w:sdtPr>"#,
                        r#"<w:sdtContent><w:r><w:rPr><w:rFonts w:ascii="MS Gothic" w:eastAsia="MS Gothic" w:hAnsi="MS Gothic" w:hint="eastAsia"/></w:rPr><w:t>{}</w:t></w:r></w:sdtContent></w:sdt>"#
                    ),
                    1_700_000_000 + k * 7919,
                    val,
                    if on { "\u{2612}" } else { "\u{2610}" }
                )
            }
            TickStyle::Legacy => {
                // Every way Word records the state: w:default alone, w:checked overriding it,
                // a bare <w:checked/>, and w:checked with an explicit value.
                let state = if on {
                    match k % 3 {
                        0 => r#"<w:default w:val="1"/>"#,
                        1 => r#"<w:default w:val="0"/><w:checked/>"#,
                        _ => r#"<w:default w:val="0"/><w:checked w:val="1"/>"#,
                    }
                } else {
                    match k % 3 {
                        0 => r#"<w:default w:val="0"/>"#,
                        1 => r#"<w:default w:val="1"/><w:checked w:val="0"/>"#,
                        _ => r#"<w:default w:val="0"/><w:checked w:val="false"/>"#,
                    }
                };
                let separate =
                    if k.is_multiple_of(2) { r#"<w:r><w:fldChar w:fldCharType="separate"/></w:r>"# } else { "" };
                format!(
                    concat!(
                        r#"<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check{}"/><w:enabled/><w:calcOnExit w:val="0"/>"#,
                        r#"<w:checkBox><w:sizeAuto/>{}</w:checkBox></w:ffData></w:fldChar></w:r>"#,
                        r#"<w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r>{}<w:r><w:fldChar w:fldCharType="end"/></w:r>"#
                    ),
                    k, state, separate
                )
            }
        }
    }

    fn cell(&mut self, width: u32, content: &str, shade: bool) -> String {
        let shd = if shade { r#"<w:shd w:val="clear" w:color="auto" w:fill="EDE3F2"/>"# } else { "" };
        format!(r#"<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shd}</w:tcPr><w:p>{content}</w:p></w:tc>"#)
    }

    fn val(&mut self, v: &Val) -> String {
        match v {
            Val::Text(s) => run(s, false),
            Val::Tick(on) => self.tick_xml(*on),
        }
    }

    fn table(&mut self, widths: &[u32], rows: String) {
        let grid: String = widths.iter().map(|w| format!(r#"<w:gridCol w:w="{w}"/>"#)).collect();
        let total: u32 = widths.iter().sum();
        self.body += &format!(
            r#"<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="{total}" w:type="dxa"/><w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{rows}</w:tbl>"#
        );
        // Word always separates consecutive tables with a paragraph.
        self.body += "<w:p/>";
    }

    pub fn block(&mut self, b: &Block) {
        match b {
            Block::Title(s) => {
                self.body += &format!(
                    r#"<w:p><w:r><w:rPr><w:b/><w:sz w:val="32"/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
                    xml(s)
                )
            }
            Block::Para(s) => self.body += &format!("<w:p>{}</w:p>", run(s, false)),
            Block::Heading(s) => {
                self.body += &format!(
                    r#"<w:p><w:pPr><w:keepNext/></w:pPr><w:r><w:rPr><w:b/><w:sz w:val="24"/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
                    xml(s)
                )
            }
            Block::Kv(rows) => {
                let mut out = String::new();
                for (label, v) in rows {
                    let l = self.runs(label, true);
                    let value = self.val(v);
                    let a = self.cell(3402, &l, true);
                    let b = self.cell(6463, &value, false);
                    out += &format!("<w:tr>{a}{b}</w:tr>");
                }
                self.table(&[3402, 6463], out);
            }
            Block::Grid { header, widths, rows } => {
                let mut out = String::from(r#"<w:tr><w:trPr><w:tblHeader/></w:trPr>"#);
                for (h, w) in header.iter().zip(widths) {
                    let c = self.cell(*w, &run(h, true), true);
                    out += &c;
                }
                out += "</w:tr>";
                for r in rows {
                    out += "<w:tr>";
                    for (v, w) in r.iter().zip(widths) {
                        let content = self.val(v);
                        let c = self.cell(*w, &content, false);
                        out += &c;
                    }
                    out += "</w:tr>";
                }
                self.table(widths, out);
            }
        }
    }
}

pub fn document_xml(body: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            "\r\n",
            r#"<w:document xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" mc:Ignorable="w14">"#,
            r#"<w:body>{}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="1021" w:bottom="1134" w:left="1021" w:header="567" w:footer="567" w:gutter="0"/></w:sectPr></w:body></w:document>"#
        ),
        body
    )
}

fn core_xml(meta: &DocMeta) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            "\r\n",
            r#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            r#"<dc:title>{}</dc:title><dc:creator>{}</dc:creator><cp:lastModifiedBy>{}</cp:lastModifiedBy><cp:revision>3</cp:revision>"#,
            r#"<dcterms:created xsi:type="dcterms:W3CDTF">{}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{}</dcterms:modified></cp:coreProperties>"#
        ),
        xml(&meta.title),
        xml(&meta.author),
        xml(&meta.author),
        meta.created.minus_secs(3600).w3c(),
        meta.created.w3c()
    )
}

const APP_XML: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\r\n",
    r#"<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Template>Normal.dotm</Template><TotalTime>12</TotalTime><Pages>2</Pages><Application>Microsoft Office Word</Application><DocSecurity>0</DocSecurity><AppVersion>16.0000</AppVersion></Properties>"#
);

/// The parts of a package around `document_xml`, in Word's order.
pub fn parts(document: String, meta: &DocMeta) -> Vec<(&'static str, Vec<u8>, Method)> {
    vec![
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes().to_vec(), Method::Deflated),
        ("_rels/.rels", PACKAGE_RELS.as_bytes().to_vec(), Method::Deflated),
        ("word/document.xml", document.into_bytes(), Method::Deflated),
        ("word/_rels/document.xml.rels", DOC_RELS.as_bytes().to_vec(), Method::Deflated),
        ("word/styles.xml", STYLES.as_bytes().to_vec(), Method::Deflated),
        ("word/settings.xml", SETTINGS.as_bytes().to_vec(), Method::Deflated),
        ("docProps/core.xml", core_xml(meta).into_bytes(), Method::Deflated),
        ("docProps/app.xml", APP_XML.as_bytes().to_vec(), Method::Deflated),
    ]
}

/// A .docx of `blocks`.
pub fn docx(blocks: &[Block], tick: TickStyle, split: bool, meta: &DocMeta) -> Vec<u8> {
    let mut w = Writer::new(tick, split);
    for b in blocks {
        w.block(b);
    }
    zip(&parts(document_xml(&w.body), meta))
}
