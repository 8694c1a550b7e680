//! Serving the built studio: its files, and its `index.html` for every client-side route, so a deep
//! link such as `/maps/3/mapping` opens the studio on that view.
//!
//! A browser that takes gzip gets the `.gz` copy the build writes beside each file (`cargo xtask run`
//! does), so a first visit downloads the studio's wasm at about a third of its size; a file without
//! one is sent as it is.

use std::path::Path;

use tower_http::services::{ServeDir, ServeFile};

pub fn service(dir: &Path) -> ServeDir<ServeFile> {
    ServeDir::new(dir)
        .precompressed_gzip()
        .fallback(ServeFile::new(dir.join("index.html")).precompressed_gzip())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::service;

    /// What the studio directory answers for `path`: status, `Content-Encoding` and body.
    async fn get(dir: &std::path::Path, path: &str, gzip: bool) -> (StatusCode, Option<String>, Vec<u8>) {
        let mut request = Request::get(path);
        if gzip {
            request = request.header(header::ACCEPT_ENCODING, "gzip, deflate, br");
        }
        let response =
            service(dir).oneshot(request.body(Body::empty()).expect("request")).await.expect("infallible");
        let encoding = response
            .headers()
            .get(header::CONTENT_ENCODING)
            .map(|v| v.to_str().expect("ascii header").to_owned());
        let status = response.status();
        let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        (status, encoding, body)
    }

    #[tokio::test]
    async fn a_browser_taking_gzip_gets_the_compressed_copy_and_others_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("index.html"), "<html>studio</html>").expect("write");
        std::fs::write(dir.path().join("index.html.gz"), "gzipped index").expect("write");
        std::fs::write(dir.path().join("studio_bg.wasm"), "wasm").expect("write");
        std::fs::write(dir.path().join("studio_bg.wasm.gz"), "gzipped wasm").expect("write");
        std::fs::write(dir.path().join("main.css"), "body {}").expect("write");

        assert_eq!(
            get(dir.path(), "/studio_bg.wasm", true).await,
            (StatusCode::OK, Some("gzip".into()), b"gzipped wasm".to_vec())
        );
        assert_eq!(get(dir.path(), "/studio_bg.wasm", false).await, (StatusCode::OK, None, b"wasm".to_vec()));
        assert_eq!(
            get(dir.path(), "/maps/3/mapping", true).await,
            (StatusCode::OK, Some("gzip".into()), b"gzipped index".to_vec()),
            "a deep link gets the studio's page, compressed too"
        );
        assert_eq!(
            get(dir.path(), "/main.css", true).await,
            (StatusCode::OK, None, b"body {}".to_vec()),
            "a file without a .gz copy is sent as it is"
        );
    }
}
