//! Building RFC 5322 / MIME messages byte by byte (CRLF line ends, fixed boundaries and ids).

use crate::manifest::Att;
use crate::util::{base64_lines, hexid, quoted_printable, Stamp};

pub const MARAC_TO: &str = "Kingsmere MARAC <marac@marac.example.test>";
pub const MX: &str = "mx.marac.example.test";

/// A MIME entity: its header fields and its body.
pub struct Part {
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

pub enum Body {
    Bytes(Vec<u8>),
    Multi { boundary: String, preamble: Option<String>, parts: Vec<Part> },
}

impl Part {
    pub fn render(&self, out: &mut Vec<u8>) {
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b":");
            if !value.starts_with("\r\n") {
                out.push(b' ');
            }
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        match &self.body {
            Body::Bytes(b) => out.extend_from_slice(b),
            Body::Multi { boundary, preamble, parts } => {
                if let Some(p) = preamble {
                    out.extend_from_slice(p.as_bytes());
                    out.extend_from_slice(b"\r\n");
                }
                for part in parts {
                    out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                    part.render(out);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            }
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.render(&mut v);
        v
    }
}

fn h(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_string(), value.into())
}

/// Text to CRLF lines.
pub fn crlf(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A text/plain part in us-ascii 7bit (or UTF-8 quoted-printable when it needs it).
pub fn text_plain(text: &str) -> Part {
    if text.is_ascii() {
        Part {
            headers: vec![
                h("Content-Type", "text/plain; charset=\"us-ascii\""),
                h("Content-Transfer-Encoding", "7bit"),
            ],
            body: Body::Bytes(crlf(text)),
        }
    } else {
        text_qp(text)
    }
}

/// A UTF-8 text/plain part, quoted-printable.
pub fn text_qp(text: &str) -> Part {
    Part {
        headers: vec![
            h("Content-Type", "text/plain; charset=\"utf-8\""),
            h("Content-Transfer-Encoding", "quoted-printable"),
        ],
        body: Body::Bytes(quoted_printable(text.as_bytes())),
    }
}

pub fn text_html_qp(html: &str) -> Part {
    Part {
        headers: vec![
            h("Content-Type", "text/html; charset=\"utf-8\""),
            h("Content-Transfer-Encoding", "quoted-printable"),
        ],
        body: Body::Bytes(quoted_printable(html.as_bytes())),
    }
}

pub fn multi(subtype: &str, boundary: &str, parts: Vec<Part>) -> Part {
    Part {
        headers: vec![h("Content-Type", format!("multipart/{subtype}; boundary=\"{boundary}\""))],
        body: Body::Multi { boundary: boundary.to_string(), preamble: None, parts },
    }
}

/// The MIME type Outlook declares for a file kind.
pub fn mime_for(kind: &str) -> &'static str {
    match kind {
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xls" => "application/vnd.ms-excel",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "doc" => "application/msword",
        "tnef" => "application/ms-tnef",
        "image" => "image/png",
        "text" => "text/plain",
        _ => "application/octet-stream",
    }
}

/// An attachment as Outlook writes it, with its truth for the manifest.
pub struct Attachment {
    pub part: Part,
    pub truth: Att,
}

/// A base64 attachment with a plain ASCII file name.
pub fn attach(name: &str, kind: &'static str, problem: Option<&'static str>, bytes: &[u8]) -> Attachment {
    attach_as(name, mime_for(kind), kind, problem, bytes)
}

/// Like [`attach`] but with a declared Content-Type that may not match the content.
pub fn attach_as(
    name: &str,
    ctype: &str,
    kind: &'static str,
    problem: Option<&'static str>,
    bytes: &[u8],
) -> Attachment {
    let part = Part {
        headers: vec![
            h("Content-Transfer-Encoding", "base64"),
            h("Content-Type", format!("\r\n {ctype};\r\n name=\"{name}\"")),
            h("Content-Disposition", format!("attachment; filename=\"{name}\"")),
        ],
        body: Body::Bytes(base64_lines(bytes, 76)),
    };
    Attachment { part, truth: Att { name: name.to_string(), kind, problem } }
}

/// An attachment whose name parameters are written by the caller (RFC 2231 / RFC 2047 forms).
pub fn attach_raw_headers(
    decoded_name: &str,
    ctype_value: String,
    disposition_value: String,
    kind: &'static str,
    problem: Option<&'static str>,
    bytes: &[u8],
) -> Attachment {
    let part = Part {
        headers: vec![
            h("Content-Type", ctype_value),
            h("Content-Disposition", disposition_value),
            h("Content-Transfer-Encoding", "base64"),
        ],
        body: Body::Bytes(base64_lines(bytes, 76)),
    };
    Attachment { part, truth: Att { name: decoded_name.to_string(), kind, problem } }
}

/// What the receiving server recorded about the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Pass,
    /// dmarc=fail recorded by mx.marac.example.test itself.
    DmarcFail,
    /// spf=fail and dkim=fail, dmarc=none.
    SpfDkimFail,
    /// The trusted server passes; an extra header from another authserv-id (added upstream,
    /// so forgeable) says dmarc=fail and must be ignored.
    PassWithForeignFail,
}

/// The outer envelope of one fixture message.
pub struct Env {
    /// Seed for every id in the message.
    pub seed: String,
    pub arrival: Stamp,
    /// Seconds between the Date header and arrival.
    pub transit_secs: i64,
    pub from_name: String,
    pub from_addr: String,
    pub to: String,
    pub cc: Option<String>,
    pub reply_to: Option<String>,
    /// The Subject header value as written (already RFC 2047-encoded where needed).
    pub subject: String,
    /// Subject as a person reads it, for Thread-Topic.
    pub subject_plain: String,
    pub auth: Auth,
    /// Extra header fields written after Message-ID (auto-reply and list fields).
    pub extra: Vec<(String, String)>,
    /// Write the Outlook/Exchange fields (Thread-Topic, X-MS-*).
    pub outlook: bool,
    pub has_attach: bool,
}

impl Env {
    pub fn new(seed: &str, arrival: Stamp, from_name: &str, from_addr: &str, subject: &str) -> Env {
        Env {
            seed: seed.to_string(),
            arrival,
            transit_secs: 150,
            from_name: from_name.to_string(),
            from_addr: from_addr.to_string(),
            to: MARAC_TO.to_string(),
            cc: None,
            reply_to: None,
            subject: subject.to_string(),
            subject_plain: subject.to_string(),
            auth: Auth::Pass,
            extra: Vec::new(),
            outlook: true,
            has_attach: true,
        }
    }

    pub fn domain(&self) -> String {
        self.from_addr.split('@').nth(1).unwrap_or("example.test").to_ascii_lowercase()
    }

    fn ip(&self) -> String {
        let d = self.domain();
        let n = u8::from_str_radix(&hexid(&d, 2), 16).unwrap_or(7) % 200 + 20;
        if d.starts_with("webmail") {
            format!("203.0.113.{n}")
        } else {
            format!("198.51.100.{n}")
        }
    }

    pub fn message_id(&self) -> String {
        let d = self.domain();
        if self.outlook {
            let a = hexid(&format!("{}/mid", self.seed), 16);
            let b = hexid(&format!("{}/mid2", self.seed), 4);
            let region = if d.contains("nhs") { "GBRP265" } else { "eurprd06" };
            format!("<AM6PR06MB{a}@AM6PR06MB{b}.{region}.exch.example.test>")
        } else {
            format!(
                "<{}.{}@{}>",
                hexid(&format!("{}/mid", self.seed), 12).to_lowercase(),
                self.arrival.at.and_utc().timestamp(),
                d
            )
        }
    }

    /// The top-level header block: trace and authentication fields first, as the receiving
    /// server prepends them, then the originator's fields.
    pub fn headers(&self, content_type: String) -> Vec<(String, String)> {
        let d = self.domain();
        let ip = self.ip();
        let relay = if d.starts_with("webmail") { format!("smtp-out.{d}") } else { format!("mail.{d}") };
        let qid = hexid(&format!("{}/qid", self.seed), 14);
        let qid2 = hexid(&format!("{}/qid2", self.seed), 10);
        let bh = hexid(&format!("{}/bh", self.seed), 8).to_lowercase();
        let mut v = vec![h(
            "Received",
            format!(
                "from {relay} ({relay} [{ip}])\r\n\tby {MX} (Postfix) with ESMTPS id {qid}\r\n\tfor <marac@marac.example.test>; {}",
                self.arrival.rfc5322()
            ),
        )];
        let from = &self.from_addr;
        let (spf, dkim, dmarc) = match self.auth {
            Auth::Pass | Auth::PassWithForeignFail => (
                format!("spf=pass ({MX}: domain of {from}\r\n\t designates {ip} as permitted sender) smtp.mailfrom={from}"),
                format!("dkim=pass (2048-bit key) header.d={d}\r\n\t header.i=@{d} header.b={bh}"),
                format!("dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from={d}"),
            ),
            Auth::DmarcFail => (
                format!("spf=fail ({MX}: domain of {from}\r\n\t does not designate {ip} as permitted sender) smtp.mailfrom={from}"),
                format!("dkim=fail (signature verification failed) header.d={d}\r\n\t header.i=@{d} header.b={bh}"),
                format!("dmarc=fail (p=QUARANTINE sp=QUARANTINE dis=QUARANTINE) header.from={d}"),
            ),
            Auth::SpfDkimFail => (
                format!("spf=fail ({MX}: domain of {from}\r\n\t does not designate {ip} as permitted sender) smtp.mailfrom={from}"),
                format!("dkim=fail (body hash did not verify) header.d={d}\r\n\t header.i=@{d} header.b={bh}"),
                format!("dmarc=none (p=NONE sp=NONE dis=NONE) header.from={d}"),
            ),
        };
        v.push(h("Authentication-Results", format!("{MX};\r\n\t{dkim};\r\n\t{spf};\r\n\t{dmarc}")));
        let inner = self.arrival.minus_secs(self.transit_secs / 3);
        v.push(h(
            "Received",
            format!(
                "from internal.{d} (internal.{d} [10.20.4.{}])\r\n\tby {relay} with ESMTPSA id {qid2}\r\n\tfor <marac@marac.example.test>; {}",
                u8::from_str_radix(&hexid(&self.seed, 2), 16).unwrap_or(9),
                inner.rfc5322()
            ),
        ));
        if self.auth == Auth::PassWithForeignFail {
            v.push(h(
                "Authentication-Results",
                format!(
                    "filter.{d};\r\n\tspf=fail smtp.mailfrom={from};\r\n\tdkim=fail header.d={d};\r\n\tdmarc=fail (p=REJECT) header.from={d}"
                ),
            ));
        }
        if !d.starts_with("webmail") {
            let b = crate::util::base64(&hexid(&format!("{}/sig", self.seed), 96).into_bytes());
            v.push(h(
                "DKIM-Signature",
                format!(
                    "v=1; a=rsa-sha256; c=relaxed/relaxed; d={d}; s=sel2024;\r\n\th=From:To:Subject:Date:Message-ID:Content-Type:MIME-Version;\r\n\tbh={}=;\r\n\tb={}\r\n\t{}",
                    &crate::util::base64(hexid(&format!("{}/bhv", self.seed), 32).as_bytes())[..43],
                    &b[..64],
                    &b[64..128]
                ),
            ));
        }
        v.push(h("From", format!("{} <{}>", self.from_name, self.from_addr)));
        v.push(h("To", self.to.clone()));
        if let Some(cc) = &self.cc {
            v.push(h("CC", cc.clone()));
        }
        if let Some(rt) = &self.reply_to {
            v.push(h("Reply-To", rt.clone()));
        }
        v.push(h("Subject", self.subject.clone()));
        v.push(h("Date", self.arrival.minus_secs(self.transit_secs).rfc5322()));
        v.push(h("Message-ID", self.message_id()));
        if self.outlook {
            v.push(h("Thread-Topic", self.subject_plain.clone()));
            v.push(h(
                "Thread-Index",
                crate::util::base64(hexid(&format!("{}/ti", self.seed), 16).as_bytes())[..22].to_string() + "==",
            ));
            v.push(h("Accept-Language", "en-GB, en-US"));
            v.push(h("Content-Language", "en-GB"));
            v.push(h("X-MS-Has-Attach", if self.has_attach { "yes" } else { "" }));
            v.push(h("X-MS-TNEF-Correlator", ""));
        }
        v.extend(self.extra.iter().cloned());
        v.push(h("MIME-Version", "1.0"));
        v.push(h("Content-Type", content_type));
        v
    }

    pub fn boundary(&self, n: u32) -> String {
        format!("_00{n}_{}_", hexid(&format!("{}/b{n}", self.seed), 20))
    }

    /// A message whose body is `body` (its Content-Type header moves to the top level).
    pub fn message(&self, mut body: Part) -> Vec<u8> {
        let ct_pos = body.headers.iter().position(|(n, _)| n == "Content-Type").expect("body has a Content-Type");
        let (_, ct) = body.headers.remove(ct_pos);
        let mut headers = self.headers(ct);
        headers.extend(body.headers);
        Part { headers, body: body.body }.to_bytes()
    }

    /// The common shape: multipart/mixed with a text body and attachments.
    pub fn mixed(&self, text: Part, atts: Vec<Part>) -> Vec<u8> {
        let mut parts = vec![text];
        parts.extend(atts);
        self.message(multi("mixed", &self.boundary(1), parts))
    }
}
