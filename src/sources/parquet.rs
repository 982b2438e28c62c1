//! An UNLOAD export's Parquet result files (`format = 'PARQUET'`): rows
//! read a row group at a time through the `parquet` crate's record API (a
//! batch of values a column at a time, never a row group whole), each cell
//! turned into the text a CSV export holds, then decoded by the same table
//! as CSV rows, so both formats give the same rows.
//!
//! Parquet is read from its footer, not front to back, so the file's bytes
//! are hashed in one pass of their own before it is parsed.
//!
//! A file from elsewhere says how large it is, and may lie. The footer is
//! checked before any page is read (`check_metadata`: codecs built in, rows
//! a row group), and pages are decompressed here, not by the crate, to at
//! most `MAX_PARQUET_PAGE_BYTES` whatever their headers say
//! (`BoundedPages`): a page of a few kilobytes that gunzips to gigabytes is
//! refused once it passes the limit.

use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use ::csv::StringRecord;
use ::parquet::basic::{Compression, LogicalType, TimeUnit};
use ::parquet::bloom_filter::Sbbf;
use ::parquet::column::page::{Page, PageMetadata, PageReader};
use ::parquet::errors::ParquetError;
use ::parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader, RowGroupMetaData};
use ::parquet::file::reader::RowGroupReader;
use ::parquet::file::serialized_reader::SerializedPageReader;
use ::parquet::record::Field;
use ::parquet::record::reader::RowIter;
use ::parquet::schema::types::Type as SchemaType;
use bytes::Bytes;
use chrono::DateTime;

use super::csv::{Columns, Layout, Table, check_header};
use super::limits::{self, MAX_PARQUET_PAGE_BYTES, MAX_PARQUET_ROW_GROUP_ROWS};
use super::{DataError, Decoder, Hashed, Rows, SourceRow, open_source};

/// Reads one Parquet result file; `line` in its errors is the row number.
pub(super) fn read_file(
    path: &Path,
    layout: Layout,
    decoder: &Decoder,
    hasher: &mut blake3::Hasher,
    rows: &mut Rows,
) -> Result<(), DataError> {
    let mut hashed = Hashed::open(path, layout.opened, hasher)?;
    io::copy(&mut hashed, &mut io::sink()).map_err(|e| DataError::cannot_read(path, 0, &e))?;
    let file = Arc::new(open_source(path, layout.opened)?);
    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(&*file)
        .map_err(|e| not_parquet(path, &e))?;
    check_metadata(path, &metadata)?;
    let schema = metadata.file_metadata().schema_descr_ptr();
    let fields = schema.root_schema().get_fields();
    let names: Vec<String> = fields.iter().map(|f| f.name().to_string()).collect();
    // Timestamps without a converted type (nanoseconds) read as plain longs.
    let units: Vec<Option<TimeUnit>> = fields
        .iter()
        .map(|f| match f.get_basic_info().logical_type_ref() {
            Some(LogicalType::Timestamp(timestamp)) => Some(timestamp.unit),
            _ => None,
        })
        .collect();
    if let Columns::Metadata { names: known, file } = layout.columns {
        check_header(path, &names, known, file, decoder)?;
    }
    let table = Table::new(path, names.clone(), layout, decoder)?;
    let mut record = StringRecord::new();
    let mut row = SourceRow {
        time: crate::lang::literal::Instant(0),
        dimensions: Vec::new(),
        measures: Vec::new(),
        repeated_local: None,
    };
    let mut line = 0;
    for (index, group) in metadata.row_groups().iter().enumerate() {
        let group = BoundedRowGroup {
            metadata: group,
            index,
            file: Arc::clone(&file),
        };
        // Building the iterator reads each column's first page.
        let iter =
            RowIter::from_row_group(None, &group).map_err(|e| row_error(path, 0, &e, decoder))?;
        for parquet_row in iter {
            line += 1;
            let parquet_row = parquet_row.map_err(|e| row_error(path, line, &e, decoder))?;
            record.clear();
            let mut bad = None;
            for (column, (_, field)) in parquet_row.get_column_iter().enumerate() {
                let unit = units.get(column).copied().flatten();
                match text(field, unit) {
                    Ok(text) => record.push_field(&text),
                    Err(kind) => {
                        record.push_field("");
                        bad.get_or_insert((column, kind));
                    }
                }
            }
            let decoded = match bad {
                Some((column, kind)) => Err(DataError {
                    file: path.to_path_buf(),
                    line,
                    column: names.get(column).cloned(),
                    reason: format!("a Parquet {kind} cannot be read as a cell"),
                    help: Some(
                        "select the column as text, a number, a boolean or a timestamp in the \
                         UNLOAD query"
                            .into(),
                    ),
                    refused: false,
                }),
                None => table.decode(&record, line, decoder, &mut row),
            };
            rows.take(decoded.map(|()| &row))?;
        }
    }
    Ok(())
}

/// The footer's promises, checked before any page is read: every column
/// chunk compressed with a codec built in, every row group within
/// `MAX_PARQUET_ROW_GROUP_ROWS`.
fn check_metadata(path: &Path, metadata: &ParquetMetaData) -> Result<(), DataError> {
    for (index, group) in metadata.row_groups().iter().enumerate() {
        if group.num_rows() > MAX_PARQUET_ROW_GROUP_ROWS {
            return Err(DataError::refusal(
                path,
                format!(
                    "row group {index} holds {} rows; outatime reads at most \
                     {MAX_PARQUET_ROW_GROUP_ROWS} rows a row group",
                    group.num_rows()
                ),
                format!(
                    "a Parquet export's row groups hold about a million rows; run the UNLOAD \
                     again, or with `format = 'CSV'` ({})",
                    limits::LIMITS_DOC
                ),
            ));
        }
        for column in group.columns() {
            let codec = column.compression();
            if !matches!(
                codec,
                Compression::UNCOMPRESSED | Compression::GZIP(_) | Compression::SNAPPY
            ) {
                return Err(DataError::refusal(
                    path,
                    format!(
                        "column `{}` is compressed with {}, a codec this outatime does not \
                         build in (it reads uncompressed, GZIP and Snappy Parquet)",
                        column.column_path().string(),
                        codec_name(codec)
                    ),
                    "run the UNLOAD with `compression = 'GZIP'` or `compression = 'NONE'`, \
                     or with `format = 'CSV'`"
                        .into(),
                ));
            }
        }
    }
    Ok(())
}

/// A codec's name as Parquet's docs write it, without its level.
fn codec_name(codec: Compression) -> &'static str {
    match codec {
        Compression::UNCOMPRESSED => "no codec",
        Compression::SNAPPY => "Snappy",
        Compression::GZIP(_) => "GZIP",
        Compression::LZO => "LZO",
        Compression::BROTLI(_) => "Brotli",
        Compression::LZ4 => "LZ4",
        Compression::ZSTD(_) => "ZSTD",
        Compression::LZ4_RAW => "LZ4_RAW",
    }
}

/// One row group, its pages read by `BoundedPages`: what the record API
/// reads rows from.
struct BoundedRowGroup<'a> {
    metadata: &'a RowGroupMetaData,
    /// Its number in the file, for errors.
    index: usize,
    file: Arc<std::fs::File>,
}

impl RowGroupReader for BoundedRowGroup<'_> {
    fn metadata(&self) -> &RowGroupMetaData {
        self.metadata
    }

    fn num_columns(&self) -> usize {
        self.metadata.num_columns()
    }

    /// The crate's page reader, told the chunk is uncompressed, so that it
    /// hands the pages on as stored; `BoundedPages` decompresses them.
    fn get_column_page_reader(&self, i: usize) -> ::parquet::errors::Result<Box<dyn PageReader>> {
        let column = self.metadata.column(i);
        let stored = column
            .clone()
            .into_builder()
            .set_compression(Compression::UNCOMPRESSED)
            .build()?;
        let rows = usize::try_from(self.metadata.num_rows())?;
        let inner = SerializedPageReader::new(Arc::clone(&self.file), &stored, rows, None)?;
        Ok(Box::new(BoundedPages {
            inner,
            codec: column.compression(),
            place: PagePlace {
                column: column.column_path().string(),
                row_group: self.index,
            },
        }))
    }

    fn get_column_bloom_filter(&self, _: usize) -> Option<&Sbbf> {
        None
    }

    fn get_row_iter(
        &self,
        projection: Option<SchemaType>,
    ) -> ::parquet::errors::Result<RowIter<'_>> {
        RowIter::from_row_group(projection, self)
    }
}

/// Where a page lies, for the error of one too large.
#[derive(Clone, Debug)]
struct PagePlace {
    column: String,
    row_group: usize,
}

/// A page that holds more than `MAX_PARQUET_PAGE_BYTES` once decompressed
/// (or says it does): it travels through the crate as its error and is
/// worded by `row_error`.
#[derive(Debug)]
struct PageTooLarge(PagePlace);

impl std::fmt::Display for PageTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a page of column `{}` in row group {} holds more than {} once decompressed",
            self.0.column,
            self.0.row_group,
            limits::mib(MAX_PARQUET_PAGE_BYTES as u64)
        )
    }
}

impl std::error::Error for PageTooLarge {}

/// A column chunk's pages as stored, decompressed here to at most
/// `MAX_PARQUET_PAGE_BYTES` each.
struct BoundedPages {
    inner: SerializedPageReader<std::fs::File>,
    codec: Compression,
    place: PagePlace,
}

/// A page `stored` in a chunk compressed with `codec`, decompressed: no
/// more than `MAX_PARQUET_PAGE_BYTES` is ever made.
fn decompress(
    codec: Compression,
    place: &PagePlace,
    stored: Bytes,
) -> ::parquet::errors::Result<Bytes> {
    let limit = MAX_PARQUET_PAGE_BYTES;
    let too_large = || ParquetError::External(Box::new(PageTooLarge(place.clone())));
    let out = match codec {
        Compression::UNCOMPRESSED => {
            // Stored as it is: no larger than the file, but the limit is
            // one for every page.
            if stored.len() > limit {
                return Err(too_large());
            }
            return Ok(stored);
        }
        Compression::GZIP(_) => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&stored[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)?;
            out
        }
        Compression::SNAPPY => {
            // Snappy states its length first: checked before it is made.
            let length = snap::raw::decompress_len(&stored)
                .map_err(|e| ParquetError::External(Box::new(e)))?;
            if length > limit {
                return Err(too_large());
            }
            snap::raw::Decoder::new()
                .decompress_vec(&stored)
                .map_err(|e| ParquetError::External(Box::new(e)))?
        }
        // `check_metadata` let no other codec through.
        other => {
            return Err(ParquetError::General(format!(
                "{} is not built in",
                codec_name(other)
            )));
        }
    };
    if out.len() > limit {
        return Err(too_large());
    }
    Ok(Bytes::from(out))
}

impl BoundedPages {
    fn decompress(&self, stored: Bytes) -> ::parquet::errors::Result<Bytes> {
        decompress(self.codec, &self.place, stored)
    }

    /// `page` as the column reader wants it: decompressed.
    fn decompressed(&self, page: Page) -> ::parquet::errors::Result<Page> {
        Ok(match page {
            Page::DataPage {
                buf,
                num_values,
                encoding,
                def_level_encoding,
                rep_level_encoding,
                statistics,
            } => Page::DataPage {
                buf: self.decompress(buf)?,
                num_values,
                encoding,
                def_level_encoding,
                rep_level_encoding,
                statistics,
            },
            Page::DataPageV2 {
                buf,
                num_values,
                encoding,
                num_nulls,
                num_rows,
                def_levels_byte_len,
                rep_levels_byte_len,
                is_compressed,
                statistics,
            } => {
                // The levels come first, never compressed.
                let levels =
                    (def_levels_byte_len as usize).saturating_add(rep_levels_byte_len as usize);
                if levels > buf.len() {
                    return Err(ParquetError::General(
                        "a data page's levels are longer than the page".into(),
                    ));
                }
                let buf = if is_compressed {
                    let values = self.decompress(buf.slice(levels..))?;
                    let mut whole = Vec::with_capacity(levels + values.len());
                    whole.extend_from_slice(&buf[..levels]);
                    whole.extend_from_slice(&values);
                    Bytes::from(whole)
                } else {
                    decompress(Compression::UNCOMPRESSED, &self.place, buf)?
                };
                Page::DataPageV2 {
                    buf,
                    num_values,
                    encoding,
                    num_nulls,
                    num_rows,
                    def_levels_byte_len,
                    rep_levels_byte_len,
                    is_compressed,
                    statistics,
                }
            }
            Page::DictionaryPage {
                buf,
                num_values,
                encoding,
                is_sorted,
            } => Page::DictionaryPage {
                buf: self.decompress(buf)?,
                num_values,
                encoding,
                is_sorted,
            },
        })
    }
}

impl Iterator for BoundedPages {
    type Item = ::parquet::errors::Result<Page>;

    fn next(&mut self) -> Option<Self::Item> {
        self.get_next_page().transpose()
    }
}

impl PageReader for BoundedPages {
    fn get_next_page(&mut self) -> ::parquet::errors::Result<Option<Page>> {
        match self.inner.get_next_page()? {
            Some(page) => self.decompressed(page).map(Some),
            None => Ok(None),
        }
    }

    fn peek_next_page(&mut self) -> ::parquet::errors::Result<Option<PageMetadata>> {
        self.inner.peek_next_page()
    }

    fn skip_next_page(&mut self) -> ::parquet::errors::Result<()> {
        self.inner.skip_next_page()
    }

    fn at_record_boundary(&mut self) -> ::parquet::errors::Result<bool> {
        self.inner.at_record_boundary()
    }
}

/// A row (`line`; 0 before the first) the crate could not read. Its words
/// may quote the row's bytes (a string that is not UTF-8): with a redacting
/// source they are left out. A page too large is the file's, not a row's.
fn row_error(path: &Path, line: u64, error: &ParquetError, decoder: &Decoder) -> DataError {
    if let ParquetError::External(inner) = error
        && let Some(PageTooLarge(place)) = inner.downcast_ref::<PageTooLarge>()
    {
        return DataError::refusal(
            path,
            PageTooLarge(place.clone()).to_string(),
            format!(
                "Parquet writers cut pages at about a megabyte; this file was not written \
                     by UNLOAD, or was changed: export the data again ({})",
                limits::LIMITS_DOC
            ),
        );
    }
    let error = if decoder.redacts_any() {
        DataError::file_level(
            path,
            "the file is not readable Parquet (the crate's words are not shown: they may hold \
             the row's values, and the source redacts columns)"
                .into(),
            None,
        )
    } else {
        not_parquet(path, error)
    };
    DataError {
        line,
        help: not_parquet_help(),
        ..error
    }
}

/// The text a CSV export holds for `field`; a timestamp in Timestream's
/// form (`2024-02-01 05:33:50.000000000`, UTC). `Err` names a type that has
/// no such text.
fn text(field: &Field, unit: Option<TimeUnit>) -> Result<String, &'static str> {
    let nanos = |value: i64, per: i64| value.checked_mul(per);
    let timestamp = match (field, unit) {
        (Field::TimestampMillis(ms), _) => nanos(*ms, 1_000_000),
        (Field::TimestampMicros(us), _) => nanos(*us, 1_000),
        (Field::Long(n), Some(TimeUnit::NANOS)) => Some(*n),
        (Field::Long(us), Some(TimeUnit::MICROS)) => nanos(*us, 1_000),
        (Field::Long(ms), Some(TimeUnit::MILLIS)) => nanos(*ms, 1_000_000),
        (field, _) => {
            return match field {
                Field::Null => Ok(String::new()),
                Field::Bool(b) => Ok(b.to_string()),
                Field::Byte(n) => Ok(n.to_string()),
                Field::Short(n) => Ok(n.to_string()),
                Field::Int(n) => Ok(n.to_string()),
                Field::Long(n) => Ok(n.to_string()),
                Field::UByte(n) => Ok(n.to_string()),
                Field::UShort(n) => Ok(n.to_string()),
                Field::UInt(n) => Ok(n.to_string()),
                Field::ULong(n) => Ok(n.to_string()),
                Field::Float(x) => Ok(x.to_string()),
                Field::Double(x) => Ok(x.to_string()),
                Field::Str(s) => Ok(s.clone()),
                Field::Float16(_) => Err("half float"),
                Field::Decimal(_) => Err("decimal"),
                Field::Bytes(_) => Err("byte array"),
                Field::Date(_) => Err("date"),
                Field::TimeMillis(_) | Field::TimeMicros(_) => Err("time of day"),
                Field::TimestampMillis(_) | Field::TimestampMicros(_) => Err("timestamp"),
                Field::Group(_) => Err("group"),
                Field::ListInternal(_) => Err("list"),
                Field::MapInternal(_) => Err("map"),
            };
        }
    };
    timestamp
        .map(|n| {
            DateTime::from_timestamp_nanos(n)
                .format("%Y-%m-%d %H:%M:%S%.9f")
                .to_string()
        })
        .ok_or("timestamp beyond the year 2262")
}

fn not_parquet(path: &Path, error: &ParquetError) -> DataError {
    DataError::file_level(
        path,
        format!("the file is not readable Parquet: {error}"),
        not_parquet_help(),
    )
}

fn not_parquet_help() -> Option<String> {
    Some(
        "a result file of a `format = 'PARQUET'` export is read as Parquet; \
         download it again (`aws s3 sync`)"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn place() -> PagePlace {
        PagePlace {
            column: "time".into(),
            row_group: 3,
        }
    }

    fn too_large(result: ::parquet::errors::Result<Bytes>) -> bool {
        matches!(result, Err(ParquetError::External(e)) if e.downcast_ref::<PageTooLarge>().is_some())
    }

    /// A page of the limit decompresses; one byte more does not, with
    /// every codec built in, whatever a header would say.
    #[test]
    fn a_page_decompresses_to_the_limit_and_no_further() {
        for size in [MAX_PARQUET_PAGE_BYTES, MAX_PARQUET_PAGE_BYTES + 1] {
            let page = vec![7u8; size];
            let snappy = snap::raw::Encoder::new().compress_vec(&page).unwrap();
            let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gzip.write_all(&page).unwrap();
            let gzip = gzip.finish().unwrap();
            assert!(snappy.len() < page.len() / 10 && gzip.len() < page.len() / 100);
            for (codec, stored) in [
                (Compression::UNCOMPRESSED, page.clone()),
                (Compression::SNAPPY, snappy),
                (Compression::GZIP(Default::default()), gzip),
            ] {
                let result = decompress(codec, &place(), Bytes::from(stored));
                if size > MAX_PARQUET_PAGE_BYTES {
                    assert!(too_large(result), "{codec:?}");
                } else {
                    assert_eq!(result.unwrap(), page, "{codec:?}");
                }
            }
        }
        assert_eq!(
            PageTooLarge(place()).to_string(),
            "a page of column `time` in row group 3 holds more than 16 MiB once decompressed"
        );
    }
}
