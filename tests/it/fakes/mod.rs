//! Fakes of the outside services, each a server in the test process:
//! `strict` a Timestream (write and query) that enforces the service's
//! rules, `influx` an InfluxDB v2/v3; both stand on `http`, a small
//! HTTP/1.1 server.
//!
//! The test binary compiles them once. A bench or an example that runs
//! one of them declares this folder with only what it needs, and allows
//! the parts it does not use:
//!
//! ```ignore
//! #[allow(dead_code)] // the bench runs part of the fake
//! #[path = "../tests/it/fakes"]
//! mod fakes {
//!     mod http;
//!     pub mod strict;
//! }
//! ```

mod http;
pub mod influx;
pub mod strict;
