//! The four types a measure has: a leaf of the vocabulary, named by the
//! validated scenario, by the diagnostics that explain a type mismatch, and
//! by every stage after them.

/// `double`, `bigint`, `boolean` or `varchar`, as the language and
/// Timestream spell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MeasureType {
    Double,
    Bigint,
    Boolean,
    Varchar,
}

impl MeasureType {
    pub fn name(self) -> &'static str {
        match self {
            MeasureType::Double => "double",
            MeasureType::Bigint => "bigint",
            MeasureType::Boolean => "boolean",
            MeasureType::Varchar => "varchar",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, MeasureType::Double | MeasureType::Bigint)
    }
}
