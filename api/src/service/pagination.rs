//! Keyset pagination: a page starts after the last key of the previous one, so pages stay
//! stable while rows are added and cost the same however deep the client goes.

/// The default and the hard upper limit of items on one page.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// The sort key of the last item already seen.
    pub after: Option<String>,
    /// Clamped to `1..=MAX_PAGE_SIZE`.
    pub limit: u64,
}

impl PageRequest {
    pub fn new(after: Option<String>, limit: Option<u64>) -> Self {
        Self {
            after,
            limit: limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE),
        }
    }

    /// Queries fetch one row more than the page holds to learn whether another page follows.
    pub fn fetch_limit(&self) -> u64 {
        self.limit + 1
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The key to continue after, if there is more.
    pub next_after: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `fetch_limit()` rows, trimming the probe row.
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> String) -> Self {
        let more = rows.len() as u64 > request.limit;
        rows.truncate(request.limit as usize);
        let next_after = if more { rows.last().map(key) } else { None };
        Self {
            items: rows,
            next_after,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_after: self.next_after,
        }
    }
}
