//! Every view of the studio is a URL; this enum is the one place that spells them.

use dualwrite_core::schema::Side;

/// A place in the studio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Home,
    Maps,
    /// A map's tab; `id` is `new` for a map not saved yet.
    Map {
        id: String,
        tab: MapTab,
    },
    IntegrationKeys,
    /// The tables of one environment.
    Tables {
        side: Side,
    },
    /// The rows of one table.
    Table {
        side: Side,
        table: String,
    },
    /// Loading an environment's rows from data exports.
    Load {
        side: Side,
    },
    Alerts,
    Import,
    /// Admins issue and revoke tokens.
    Tokens,
    /// Signing in: `#token=` in the fragment, `?next=` the view to open afterwards.
    SignIn,
}

impl Route {
    /// The path of this view, for links.
    pub fn path(&self) -> String {
        match self {
            Route::Home => "/".to_owned(),
            Route::Maps => "/maps".to_owned(),
            Route::Map { id, tab } => format!("/maps/{}/{}", encode(id), tab.slug()),
            Route::IntegrationKeys => "/integration-keys".to_owned(),
            Route::Tables { side } => format!("/envs/{side}/tables"),
            Route::Table { side, table } => format!("/envs/{side}/tables/{}", encode(table)),
            Route::Load { side } => format!("/envs/{side}/load"),
            Route::Alerts => "/alerts".to_owned(),
            Route::Import => "/import".to_owned(),
            Route::Tokens => "/tokens".to_owned(),
            Route::SignIn => "/sign-in".to_owned(),
        }
    }

    /// The path with a query string built from `pairs` (pairs with an empty value left out).
    pub fn with_query(&self, pairs: &[(&str, String)]) -> String {
        with_query(self.path(), pairs)
    }
}

/// `path?k=v&…`, values percent-encoded, empty values left out.
pub fn with_query(path: String, pairs: &[(&str, String)]) -> String {
    let query: Vec<String> =
        pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode(v))).collect();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// The tabs of a map, in the order the studio shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapTab {
    Mapping,
    Filters,
    Keys,
    Validation,
    InitialSync,
    Queue,
    Preflight,
}

impl MapTab {
    pub const ALL: [MapTab; 7] = [
        MapTab::Mapping,
        MapTab::Filters,
        MapTab::Keys,
        MapTab::Validation,
        MapTab::InitialSync,
        MapTab::Queue,
        MapTab::Preflight,
    ];

    /// The tab's segment of the URL.
    pub fn slug(self) -> &'static str {
        match self {
            MapTab::Mapping => "mapping",
            MapTab::Filters => "filters",
            MapTab::Keys => "keys",
            MapTab::Validation => "validation",
            MapTab::InitialSync => "initial-sync",
            MapTab::Queue => "queue",
            MapTab::Preflight => "preflight",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MapTab::Mapping => "Mapping",
            MapTab::Filters => "Filters",
            MapTab::Keys => "Integration key",
            MapTab::Validation => "Validation",
            MapTab::InitialSync => "Initial sync",
            MapTab::Queue => "Queue",
            MapTab::Preflight => "Preflight",
        }
    }

    pub fn from_slug(slug: &str) -> Option<MapTab> {
        MapTab::ALL.into_iter().find(|t| t.slug() == slug)
    }

    /// Whether the tab shows the map's definition (and so carries a draft).
    pub fn edits_definition(self) -> bool {
        matches!(self, MapTab::Mapping | MapTab::Filters | MapTab::Keys | MapTab::Validation)
    }
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters stay as they are).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_has_its_own_path() {
        assert_eq!(Route::Map { id: "4".into(), tab: MapTab::InitialSync }.path(), "/maps/4/initial-sync");
        assert_eq!(
            Route::Table { side: Side::Dataverse, table: "account".into() }.path(),
            "/envs/dataverse/tables/account"
        );
        assert_eq!(Route::Tables { side: Side::Finops }.path(), "/envs/finops/tables");
        assert_eq!(Route::Load { side: Side::Dataverse }.path(), "/envs/dataverse/load");
        assert_eq!(
            Route::SignIn.with_query(&[("next", "/maps/4/mapping?field=2#draft=x".into())]),
            "/sign-in?next=%2Fmaps%2F4%2Fmapping%3Ffield%3D2%23draft%3Dx"
        );
    }

    #[test]
    fn queries_leave_out_empty_values_and_encode_the_rest() {
        let path = Route::Maps.with_query(&[("search", "a b&c".into()), ("page", String::new())]);
        assert_eq!(path, "/maps?search=a%20b%26c");
    }

    #[test]
    fn every_tab_reads_back_from_its_slug() {
        for tab in MapTab::ALL {
            assert_eq!(MapTab::from_slug(tab.slug()), Some(tab));
        }
        assert_eq!(MapTab::from_slug("nope"), None);
    }
}
