//! What real environments publish and export, read into dualwrite's own documents: each module reads
//! one format in the shape the real systems write it, streaming and bounded, and reports bad input
//! with its place in the file. Native only: the server and the CLI read these; the studio uploads them.

pub mod csdl;
pub mod data_export;
pub mod solution;
