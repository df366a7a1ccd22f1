//! The HTML, embedded in the binary: minijinja templates with auto-escaping (every `.html`
//! template escapes what it prints), and the one stylesheet.

use minijinja::Environment;

pub const STYLE: &str = include_str!("templates/style.css");

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("enrol.html", include_str!("templates/enrol.html")),
    ("recovery.html", include_str!("templates/recovery.html")),
    ("queue.html", include_str!("templates/queue.html")),
    ("case.html", include_str!("templates/case.html")),
    ("case_evidence.html", include_str!("templates/case_evidence.html")),
    ("correct.html", include_str!("templates/correct.html")),
    ("message.html", include_str!("templates/message.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("users.html", include_str!("templates/users.html")),
    ("account.html", include_str!("templates/account.html")),
    ("meetings.html", include_str!("templates/meetings.html")),
    ("meeting.html", include_str!("templates/meeting.html")),
    ("rules_parts.html", include_str!("templates/rules_parts.html")),
    ("rules.html", include_str!("templates/rules.html")),
    ("rule_section.html", include_str!("templates/rule_section.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    ("restricted.html", include_str!("templates/restricted.html")),
    ("subject.html", include_str!("templates/subject.html")),
    ("restrictions.html", include_str!("templates/restrictions.html")),
    ("data_return.html", include_str!("templates/data_return.html")),
    ("search.html", include_str!("templates/search.html")),
    ("pager.html", include_str!("templates/pager.html")),
    ("confirm.html", include_str!("templates/confirm.html")),
];

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source).unwrap_or_else(|e| panic!("template {name} does not compile: {e}"));
    }
    // `{{ t | uk }}`: a stored UTC instant (or a date) as UK local time (`crate::clock::uk_text`).
    env.add_filter("uk", |s: String| crate::clock::uk_text(&s));
    env
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_compiles_and_escapes() {
        let env = super::environment();
        let html = env.get_template("message.html").unwrap().render(minijinja::context! { area => "A", title => "<b>t</b>", text => "x" }).unwrap();
        assert!(html.contains("&lt;b&gt;t") && !html.contains("<b>"), "{html}");
        assert!(html.contains("<html lang=\"en-GB\">"));
    }
}
