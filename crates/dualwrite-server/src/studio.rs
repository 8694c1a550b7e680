//! Serving the built studio: its files, and its `index.html` for every client-side route, so a deep
//! link such as `/maps/3/mapping` opens the studio on that view.

use std::path::Path;

use tower_http::services::{ServeDir, ServeFile};

pub fn service(dir: &Path) -> ServeDir<ServeFile> {
    ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")))
}
