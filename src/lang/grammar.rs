//! The scenario grammar (`grammar/scenario.pest`) as pest's parser and its
//! `Rule`s, shared by the parser, which runs it, and the tree builder, which
//! reads the pairs it yields.

#[derive(pest_derive::Parser)]
#[grammar = "grammar/scenario.pest"]
pub(crate) struct ScenarioParser;
