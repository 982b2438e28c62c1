//! Every integration test, in one binary: one module per area, the
//! helpers they share (`common`), and the fakes of outside services
//! (`fakes`), each compiled once. Fixtures live in `tests/fixtures/`,
//! insta snapshots in `snapshots/`.

mod common;
mod fakes;

mod apply;
mod capture;
mod ci_recipe;
mod clean;
mod clean_influxdb;
mod cli;
mod cli_compile;
mod codes;
mod compile;
mod diff;
mod diff_plot;
mod expect;
mod fixtures;
mod fmt;
mod gallery;
mod hostile_cli;
mod influx_endpoint;
mod influxdb_apply;
mod influxdb_server;
mod journal;
mod kill_resume;
mod layers;
mod missing_dimension;
mod no_panic;
mod output_files;
mod outside_checkout;
mod plot;
mod plot_html;
mod secrets;
mod security_docs;
mod source_defects;
mod source_fuzz;
mod streamed_replay;
mod strict_endpoint;
mod timestream_moto;
mod timestream_strict;
mod tls;
mod unload;
mod verify;
mod verify_influx_endpoint;
mod warnings;
mod workflow;
