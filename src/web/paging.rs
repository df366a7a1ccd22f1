//! Pages of a list that can grow (the pending cases, the audit log, search results): a page
//! number from the query string, and the links to the pages before and after, so that nothing
//! is cut off without a way to reach it. Page 1 is the first; a number past the end shows the
//! last page.

use serde::{Deserialize, Serialize};

/// `?page=N` (1 when absent or unreadable).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct PageParam {
    #[serde(default, deserialize_with = "lenient")]
    pub page: Option<usize>,
}

pub(super) fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    Ok(s.and_then(|s| s.trim().parse().ok()))
}

/// Where a page sits in its list, as the templates' `pager.html` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pager {
    /// This page, 1-based.
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    /// The first and last item shown, 1-based (0 and 0 for an empty list).
    pub first: usize,
    pub last: usize,
    /// Links to the pages before and after (the list's own query string kept), if any.
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// Page `wanted` (clamped to the list) of `total` items, `per` a page. `link` makes the
    /// address of a page from its number.
    pub fn new(wanted: Option<usize>, per: usize, total: usize, link: impl Fn(usize) -> String) -> Pager {
        let per = per.max(1);
        let pages = total.div_ceil(per).max(1);
        let page = wanted.unwrap_or(1).clamp(1, pages);
        let first = if total == 0 { 0 } else { (page - 1) * per + 1 };
        let last = (page * per).min(total);
        Pager { page, pages, total, first, last, prev: (page > 1).then(|| link(page - 1)), next: (page < pages).then(|| link(page + 1)) }
    }

    /// How many items come before this page.
    pub fn offset(&self) -> usize {
        self.first.saturating_sub(1)
    }

    /// This page's part of a whole list.
    pub fn slice<'a, T>(&self, all: &'a [T]) -> &'a [T] {
        let start = self.offset().min(all.len());
        &all[start..self.last.min(all.len()).max(start)]
    }
}

/// `path?query&page=N`, with `query` already encoded (its own `page` left out by the caller).
pub fn link(path: &str, query: &str, page: usize) -> String {
    if query.is_empty() { format!("{path}?page={page}") } else { format!("{path}?{query}&page={page}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_the_whole_list_with_links_both_ways() {
        let p = Pager::new(None, 200, 450, |n| link("/", "", n));
        assert_eq!((p.page, p.pages, p.first, p.last, p.prev.as_deref(), p.next.as_deref()), (1, 3, 1, 200, None, Some("/?page=2")));
        let p = Pager::new(Some(3), 200, 450, |n| link("/", "status=pending", n));
        assert_eq!((p.first, p.last, p.prev.as_deref(), p.next), (401, 450, Some("/?status=pending&page=2"), None));
        assert_eq!(Pager::new(Some(99), 200, 450, |n| n.to_string()).page, 3, "past the end: the last page");
        let empty = Pager::new(Some(2), 50, 0, |n| n.to_string());
        assert_eq!((empty.page, empty.pages, empty.first, empty.last), (1, 1, 0, 0));
        let all: Vec<usize> = (0..450).collect();
        assert_eq!(Pager::new(Some(3), 200, 450, |n| n.to_string()).slice(&all), &all[400..450]);
    }
}
