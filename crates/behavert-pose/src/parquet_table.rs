//! Named columns of a Parquet file as numbers or text, whatever physical type the writer chose
//! (pandas/pyarrow write int8 ids as INT32, floats as FLOAT or DOUBLE, names as plain or
//! dictionary-encoded BYTE_ARRAY). Nulls come back as NaN or `None`.

use std::fs::File;
use std::path::Path;

use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::DataType;
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::error::{PoseError, Result};

/// One column's values.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Integers and floats, as f64 (NaN = null).
    Numbers(Vec<f64>),
    /// Text (`None` = null).
    Text(Vec<Option<String>>),
}

/// A Parquet file opened for reading columns by name.
pub struct ParquetTable {
    path: std::path::PathBuf,
    reader: SerializedFileReader<File>,
}

impl ParquetTable {
    /// Opens `path` (an ordinary file) and reads its footer.
    pub fn open(path: &Path) -> Result<Self> {
        crate::input_file::regular_file(path)?;
        let file = File::open(path).map_err(|e| PoseError::io(path, e))?;
        let reader = SerializedFileReader::new(file)
            .map_err(|e| PoseError::format(path, "file", "a Parquet file", e.to_string()))?;
        Ok(Self {
            path: path.to_path_buf(),
            reader,
        })
    }

    /// Rows in the file.
    pub fn rows(&self) -> usize {
        usize::try_from(self.reader.metadata().file_metadata().num_rows()).unwrap_or(0)
    }

    /// The file's column names, in order.
    pub fn column_names(&self) -> Vec<String> {
        let schema = self.reader.metadata().file_metadata().schema_descr();
        (0..schema.num_columns())
            .map(|i| schema.column(i).name().to_string())
            .collect()
    }

    /// The column `name`, every row group; an error names the file and the columns there are.
    pub fn column(&self, name: &str) -> Result<Column> {
        let names = self.column_names();
        let index = names.iter().position(|n| n == name).ok_or_else(|| {
            PoseError::format(
                &self.path,
                "columns",
                format!("a column `{name}`"),
                format!("columns {}", names.join(", ")),
            )
        })?;
        let place = format!("column `{name}`");
        let fail = |e: parquet::errors::ParquetError| {
            PoseError::format(&self.path, &place, "readable values", e.to_string())
        };
        let rows = self.rows();
        let max_level = self
            .reader
            .metadata()
            .file_metadata()
            .schema_descr()
            .column(index)
            .max_def_level();
        let mut numbers: Vec<f64> = Vec::new();
        let mut text: Vec<Option<String>> = Vec::new();
        let mut is_text = false;
        for group in 0..self.reader.num_row_groups() {
            let reader = self.reader.get_row_group(group).map_err(fail)?;
            let expected = usize::try_from(reader.metadata().num_rows()).unwrap_or(0);
            match reader.get_column_reader(index).map_err(fail)? {
                ColumnReader::BoolColumnReader(r) => numbers.extend(
                    read_all(r, expected, max_level, |v| f64::from(u8::from(v))).map_err(fail)?,
                ),
                ColumnReader::Int32ColumnReader(r) => {
                    numbers.extend(read_all(r, expected, max_level, f64::from).map_err(fail)?)
                }
                ColumnReader::Int64ColumnReader(r) => {
                    numbers.extend(read_all(r, expected, max_level, |v| v as f64).map_err(fail)?)
                }
                ColumnReader::FloatColumnReader(r) => {
                    numbers.extend(read_all(r, expected, max_level, f64::from).map_err(fail)?)
                }
                ColumnReader::DoubleColumnReader(r) => {
                    numbers.extend(read_all(r, expected, max_level, |v| v).map_err(fail)?)
                }
                ColumnReader::ByteArrayColumnReader(r) => {
                    is_text = true;
                    let values = read_optional(r, expected, max_level).map_err(fail)?;
                    text.extend(values.into_iter().map(|v| {
                        v.map(|bytes| String::from_utf8_lossy(bytes.data()).into_owned())
                    }));
                }
                ColumnReader::Int96ColumnReader(_)
                | ColumnReader::FixedLenByteArrayColumnReader(_) => {
                    return Err(PoseError::format(
                        &self.path,
                        &place,
                        "numbers or text",
                        "a timestamp or fixed-length binary column",
                    ));
                }
            }
        }
        let got = if is_text { text.len() } else { numbers.len() };
        if got != rows {
            return Err(PoseError::format(
                &self.path,
                &place,
                format!("{rows} values, one per row"),
                got.to_string(),
            ));
        }
        Ok(if is_text {
            Column::Text(text)
        } else {
            Column::Numbers(numbers)
        })
    }

    /// The column `name` as numbers; text is an error naming the column.
    pub fn numbers(&self, name: &str) -> Result<Vec<f64>> {
        match self.column(name)? {
            Column::Numbers(values) => Ok(values),
            Column::Text(_) => Err(PoseError::format(
                &self.path,
                format!("column `{name}`"),
                "numbers",
                "text",
            )),
        }
    }

    /// The column `name` as text; numbers are written as integers when whole.
    pub fn text(&self, name: &str) -> Result<Vec<Option<String>>> {
        Ok(match self.column(name)? {
            Column::Text(values) => values,
            Column::Numbers(values) => values
                .into_iter()
                .map(|v| {
                    v.is_finite().then(|| {
                        if v.fract() == 0.0 && v.abs() < 1e15 {
                            format!("{}", v as i64)
                        } else {
                            v.to_string()
                        }
                    })
                })
                .collect(),
        })
    }
}

/// Every value of a row group's column, nulls as `None`.
fn read_optional<T: DataType>(
    mut reader: ColumnReaderImpl<T>,
    rows: usize,
    max_level: i16,
) -> parquet::errors::Result<Vec<Option<T::T>>> {
    let mut values: Vec<T::T> = Vec::new();
    let mut levels: Vec<i16> = Vec::new();
    loop {
        let (records, _, _) = reader.read_records(
            rows.max(1),
            (max_level > 0).then_some(&mut levels),
            None,
            &mut values,
        )?;
        if records == 0 {
            break;
        }
    }
    if max_level == 0 {
        return Ok(values.into_iter().map(Some).collect());
    }
    let mut present = values.into_iter();
    Ok(levels
        .iter()
        .map(|&level| {
            if level == max_level {
                present.next()
            } else {
                None
            }
        })
        .collect())
}

/// Every value of a row group's numeric column, nulls as NaN.
fn read_all<T: DataType>(
    reader: ColumnReaderImpl<T>,
    rows: usize,
    max_level: i16,
    to_f64: impl Fn(T::T) -> f64,
) -> parquet::errors::Result<Vec<f64>> {
    Ok(read_optional(reader, rows, max_level)?
        .into_iter()
        .map(|v| v.map_or(f64::NAN, &to_f64))
        .collect())
}
