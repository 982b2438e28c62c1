//! The language front end: scenario text → `ast::File`, with every syntax
//! error as a diagnostic. The grammar's parser, the statement chunker, the
//! tree builder, and the readers of literals and local times.

pub(crate) mod ast;
mod ast_builder;
pub(crate) mod chunks;
pub(crate) mod grammar;
pub(crate) mod literal;
pub(crate) mod names;
pub(crate) mod parser;
pub(crate) mod series_range;
