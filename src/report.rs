//! Human-readable rendering of an [`Inspection`] for the terminal.

use crate::inspect::Inspection;
use crate::recognise::answer::Answer;
use std::fmt::Write;

pub fn human(file: &str, i: &Inspection) -> String {
    let mut s = String::new();
    let e = &i.envelope;
    let _ = writeln!(s, "== {file}");
    let addr = |m: &Option<crate::mime::Mailbox>| m.as_ref().map(|m| m.address.clone()).unwrap_or_else(|| "-".into());
    let _ = writeln!(s, "From:        {}", addr(&e.from));
    if !e.reply_to.is_empty() {
        let _ = writeln!(s, "Reply-To:    {}", e.reply_to.iter().map(|m| m.address.as_str()).collect::<Vec<_>>().join(", "));
    }
    let _ = writeln!(s, "Message-ID:  {}", e.message_id.as_deref().unwrap_or("-"));
    let _ = writeln!(s, "Received:    {}", e.received.map(|d| d.to_rfc3339()).unwrap_or_else(|| "-".into()));
    for ar in &e.authentication_results {
        let r: Vec<String> = ar.results.iter().map(|r| format!("{}={}", r.method, r.result)).collect();
        let _ = writeln!(s, "Auth:        {} {}", ar.authserv_id, r.join(" "));
    }
    for sig in &i.signals {
        let _ = writeln!(s, "Signal:      {:?} ({})", sig.kind, sig.evidence);
    }
    for a in &i.attachments {
        let _ = writeln!(
            s,
            "Attachment {}: {} [{:?}, {} bytes] {:?}{}",
            a.at,
            a.name.as_deref().unwrap_or("(no name)"),
            a.kind,
            a.size,
            a.outcome,
            if a.recognised.is_empty() { String::new() } else { format!(" — {}", a.recognised.join(" + ")) }
        );
    }
    match &i.dash {
        Some(d) => {
            let _ = writeln!(s, "DASH:        {} yes, {} no, {} unknown (attachment {})", d.yes, d.no, d.unknown, d.attachment);
            for a in &d.answers {
                let mark = match a.answer {
                    Answer::Yes => "Yes",
                    Answer::No => "No",
                    Answer::DontKnow => "DK",
                    Answer::Blank => "-",
                };
                let _ = writeln!(s, "  {:>2}. {:<48} {:<3}  {}", a.question, a.topic, mark, a.at);
            }
        }
        None => {
            let _ = writeln!(s, "DASH:        none read");
        }
    }
    if let Some(r) = &i.referral {
        let _ = writeln!(s, "Referral:    {} fields read", r.fields.len());
        for (k, v) in &r.reasons {
            let _ = writeln!(s, "  reason {k}: {}", if *v { "ticked" } else { "not ticked" });
        }
        if let Some(n) = r.stated_dash_score {
            let _ = writeln!(s, "  stated DASH score: {n}");
        }
        if let Some(n) = r.police_callouts {
            let _ = writeln!(s, "  police call-outs: {n}");
        }
    }
    for p in &i.problems {
        let _ = writeln!(s, "Problem:     [{}] {:?}: {}", p.place, p.problem.kind, p.problem.detail);
    }
    s
}
