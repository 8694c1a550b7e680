//! Every view of the studio is a URL; this enum is the one place that spells them.

/// A place in the studio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Home,
    Maps,
}

impl Route {
    /// The path of this view, for links.
    pub fn path(&self) -> String {
        match self {
            Route::Home => "/".to_owned(),
            Route::Maps => "/maps".to_owned(),
        }
    }
}
