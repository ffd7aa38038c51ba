//! DeepLabCut HDF5 files: a pandas `HDFStore` (PyTables) under key `df_with_missing` or `tracks`
//! (docs/formats/deeplabcut.md), in the **table** layout (compound rows, column names in protocol-0 pickled
//! attributes) or the **fixed** layout (`axis0_level*`/`axis0_label*`, `block*_values`).

use std::collections::HashMap;
use std::path::Path;

use rust_hdf5::format::messages::datatype::CompoundMember;
use rust_hdf5::{DatatypeMessage, H5File};

use super::DlcColumn;
use crate::error::{PoseError, Result};
use crate::hdf5::{H5, join};
use crate::pickle::{self, PickleValue};
use crate::pose::Pose;

/// True when the file holds a pandas frame (a root group with a `pandas_type` attribute).
pub fn sniff(h5: &H5) -> bool {
    frame_key(h5).is_ok()
}

fn frame_key(h5: &H5) -> Result<(String, String)> {
    let children = h5.children("")?;
    let mut keys: Vec<&String> = children.groups.iter().collect();
    // DeepLabCut's own keys first, then any other pandas frame.
    keys.sort_by_key(|k| !matches!(k.as_str(), "df_with_missing" | "tracks"));
    for key in keys {
        if let Some(kind) = h5.group_attr_string(key, "pandas_type") {
            return Ok((key.clone(), kind));
        }
    }
    Err(PoseError::format(
        h5.path(),
        "HDF5 root group",
        "a pandas frame group (attribute `pandas_type`, key `df_with_missing` or `tracks`)",
        format!("groups {:?}", children.groups),
    ))
}

/// Read a DeepLabCut HDF5 file (table or fixed layout).
pub fn read(path: &Path) -> Result<Pose> {
    let h5 = H5::open(path)?;
    let (key, kind) = frame_key(&h5)?;
    let (columns, values, rows) = match kind.as_str() {
        "frame_table" => read_table_layout(&h5, &key)?,
        "frame" => read_fixed_layout(&h5, &key)?,
        other => {
            return Err(PoseError::format(
                path,
                format!("group `{key}` attribute `pandas_type`"),
                "`frame_table` or `frame` (a DataFrame)",
                format!("`{other}`"),
            ));
        }
    };
    let layout = super::layout(path, &columns, |j| {
        format!("group `{key}` column {j} {:?}", columns[j])
    })?;
    let values: Vec<f32> = values.into_iter().map(|v| v as f32).collect();
    let mut pose = super::to_pose(layout, &values, rows)?;
    pose.source = Some(path.to_path_buf());
    pose.software = Some("DeepLabCut".to_string());
    Ok(pose)
}

fn attr_pickle(h5: &H5, group: &str, attr: &str, on_table: bool) -> Result<PickleValue> {
    let text = if on_table {
        h5.dataset_attr_string(group, attr)
    } else {
        h5.group_attr_string(group, attr)
    };
    let place = format!(
        "{} `{group}` attribute `{attr}`",
        if on_table { "dataset" } else { "group" }
    );
    let text = text.ok_or_else(|| {
        PoseError::format(
            h5.path(),
            &place,
            "a pickled attribute",
            "no such attribute",
        )
    })?;
    pickle::loads(text.as_bytes()).map_err(|e| {
        PoseError::format(
            h5.path(),
            format!("{place}, pickle byte {}", e.offset),
            e.expected,
            e.found,
        )
    })
}

fn column_of(h5: &H5, place: &str, value: &PickleValue) -> Result<DlcColumn> {
    let bad = || {
        PoseError::format(
            h5.path(),
            place,
            "a column tuple (scorer, [individual,] bodypart, coord)",
            format!("{value:?}"),
        )
    };
    let cells: Vec<String> = value
        .as_seq()
        .ok_or_else(bad)?
        .iter()
        .map(|c| c.as_str().map(str::to_string).ok_or_else(bad))
        .collect::<Result<_>>()?;
    match cells.as_slice() {
        [s, b, c] => Ok(DlcColumn {
            scorer: s.clone(),
            individual: None,
            bodypart: b.clone(),
            coord: c.clone(),
        }),
        [s, i, b, c] => Ok(DlcColumn {
            scorer: s.clone(),
            individual: Some(i.clone()),
            bodypart: b.clone(),
            coord: c.clone(),
        }),
        _ => Err(bad()),
    }
}

type Frame = (Vec<DlcColumn>, Vec<f64>, usize);

fn read_table_layout(h5: &H5, key: &str) -> Result<Frame> {
    let axes = attr_pickle(h5, key, "non_index_axes", false)?;
    let place = format!("group `{key}` attribute `non_index_axes`");
    let column_values = axes
        .as_seq()
        .and_then(|a| a.first())
        .and_then(|axis| axis.as_seq())
        .and_then(|axis| axis.get(1))
        .and_then(|c| c.as_seq())
        .ok_or_else(|| {
            PoseError::format(
                h5.path(),
                &place,
                "[(1, [column tuples])]",
                format!("{axes:?}"),
            )
        })?;
    let columns: Vec<DlcColumn> = column_values
        .iter()
        .map(|c| column_of(h5, &place, c))
        .collect::<Result<_>>()?;
    let position: HashMap<&DlcColumn, usize> =
        columns.iter().enumerate().map(|(i, c)| (c, i)).collect();
    let blocks = attr_pickle(h5, key, "values_cols", false)?;
    let blocks: Vec<String> = blocks
        .as_seq()
        .unwrap_or_default()
        .iter()
        .filter_map(|b| b.as_str().map(str::to_string))
        .collect();
    let table_name = join(key, "table");
    let table = h5.read_table(&table_name)?;
    let rows = table.rows;
    let width = columns.len();
    let mut values = vec![f64::NAN; rows * width];
    for block in &blocks {
        let (data, block_width) = table.array_column(block)?;
        let kind_place = format!("dataset `{table_name}` attribute `{block}_kind`");
        let targets: Vec<usize> = match attr_pickle(h5, &table_name, &format!("{block}_kind"), true)
        {
            Ok(kind) => kind
                .as_seq()
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    let column = column_of(h5, &kind_place, c)?;
                    position.get(&column).copied().ok_or_else(|| {
                        PoseError::format(
                            h5.path(),
                            &kind_place,
                            "columns listed in `non_index_axes`",
                            format!("{column:?}"),
                        )
                    })
                })
                .collect::<Result<_>>()?,
            Err(_) if blocks.len() == 1 => (0..width).collect(),
            Err(e) => return Err(e),
        };
        if targets.len() != block_width {
            return Err(PoseError::format(
                h5.path(),
                kind_place,
                format!("{block_width} column names (the width of `{block}`)"),
                format!("{} names", targets.len()),
            ));
        }
        for (r, row) in data.chunks_exact(block_width.max(1)).enumerate() {
            for (v, &t) in row.iter().zip(&targets) {
                values[r * width + t] = *v;
            }
        }
    }
    Ok((columns, values, rows))
}

fn level_columns(h5: &H5, key: &str, prefix: &str) -> Result<Vec<Vec<String>>> {
    let mut levels = Vec::new();
    for i in 0.. {
        let level_name = join(key, &format!("{prefix}_level{i}"));
        if !h5.has_dataset(&level_name) {
            break;
        }
        let names = h5.read_strings(&level_name)?;
        let label_name = join(key, &format!("{prefix}_label{i}"));
        let (labels, _) = h5.read_f64(&label_name)?;
        let column: Vec<String> = labels
            .iter()
            .map(|&l| {
                names.get(l as usize).cloned().ok_or_else(|| {
                    PoseError::format(
                        h5.path(),
                        format!("dataset `{label_name}`"),
                        format!("codes below {}", names.len()),
                        l.to_string(),
                    )
                })
            })
            .collect::<Result<_>>()?;
        levels.push(column);
    }
    if levels.is_empty() {
        return Err(PoseError::format(
            h5.path(),
            format!("group `{key}`"),
            format!("datasets `{prefix}_level0`, `{prefix}_label0` (a MultiIndex)"),
            "none (a single-level index is not a DeepLabCut table)",
        ));
    }
    let n = levels[0].len();
    let tuples = (0..n)
        .map(|j| {
            levels
                .iter()
                .map(|l| l.get(j).cloned().unwrap_or_default())
                .collect()
        })
        .collect();
    Ok(tuples)
}

fn to_column(h5: &H5, place: &str, cells: &[String]) -> Result<DlcColumn> {
    column_of(
        h5,
        place,
        &PickleValue::Tuple(cells.iter().map(|c| PickleValue::Str(c.clone())).collect()),
    )
}

fn read_fixed_layout(h5: &H5, key: &str) -> Result<Frame> {
    let place = format!("group `{key}` axis0");
    let columns: Vec<DlcColumn> = level_columns(h5, key, "axis0")?
        .iter()
        .map(|c| to_column(h5, &place, c))
        .collect::<Result<_>>()?;
    let position: HashMap<&DlcColumn, usize> =
        columns.iter().enumerate().map(|(i, c)| (c, i)).collect();
    let width = columns.len();
    let mut values = Vec::new();
    let mut rows = None;
    for b in 0.. {
        let values_name = join(key, &format!("block{b}_values"));
        if !h5.has_dataset(&values_name) {
            if b == 0 {
                return Err(PoseError::format(
                    h5.path(),
                    format!("dataset `{values_name}`"),
                    "the frame's values",
                    "nothing by that name",
                ));
            }
            break;
        }
        let items_place = format!("group `{key}` block{b}_items");
        let items: Vec<DlcColumn> = level_columns(h5, key, &format!("block{b}_items"))?
            .iter()
            .map(|c| to_column(h5, &items_place, c))
            .collect::<Result<_>>()?;
        let (data, shape) = h5.read_f64(&values_name)?;
        // pandas stores the block transposed: (rows, items).
        let (r, n, transposed) = match shape[..] {
            [r, n] if n == items.len() => (r, n, false),
            [n, r] if n == items.len() => (r, n, true),
            _ => {
                return Err(PoseError::format(
                    h5.path(),
                    format!("dataset `{values_name}`"),
                    format!("shape (rows, {})", items.len()),
                    format!("{shape:?}"),
                ));
            }
        };
        if *rows.get_or_insert(r) != r {
            return Err(PoseError::format(
                h5.path(),
                format!("dataset `{values_name}`"),
                format!("{} rows like block 0", rows.unwrap_or(0)),
                format!("{r} rows"),
            ));
        }
        if values.is_empty() {
            values = vec![f64::NAN; r * width];
        }
        for (j, item) in items.iter().enumerate() {
            let t = *position.get(item).ok_or_else(|| {
                PoseError::format(
                    h5.path(),
                    &items_place,
                    "columns listed in axis0",
                    format!("{item:?}"),
                )
            })?;
            for row in 0..r {
                values[row * width + t] = if transposed {
                    data[j * r + row]
                } else {
                    data[row * n + j]
                };
            }
        }
    }
    Ok((columns, values, rows.unwrap_or(0)))
}

/// Write a pose as a DeepLabCut HDF5 file in pandas' table layout (key `df_with_missing`),
/// readable by `pandas.read_hdf` and DeepLabCut.
pub fn write(pose: &Pose, path: &Path) -> Result<()> {
    let columns = super::columns_for(pose, &super::scorer_of(pose));
    let width = columns.len();
    let rows = pose.frames();
    let row_size = 8 + 8 * width;
    let mut bytes = Vec::with_capacity(rows * row_size);
    let mut row = Vec::new();
    for frame in 0..rows {
        bytes.extend_from_slice(&(frame as i64).to_le_bytes());
        super::row_values(pose, frame, &mut row);
        for v in &row {
            bytes.extend_from_slice(&(*v as f64).to_le_bytes());
        }
    }
    let tuple = |c: &DlcColumn| {
        let mut cells = vec![PickleValue::Str(c.scorer.clone())];
        if let Some(i) = &c.individual {
            cells.push(PickleValue::Str(i.clone()));
        }
        cells.push(PickleValue::Str(c.bodypart.clone()));
        cells.push(PickleValue::Str(c.coord.clone()));
        PickleValue::Tuple(cells)
    };
    let column_list = PickleValue::List(columns.iter().map(tuple).collect());
    let multi = columns.first().is_some_and(|c| c.individual.is_some());
    let names: Vec<&str> = if multi {
        vec!["scorer", "individuals", "bodyparts", "coords"]
    } else {
        vec!["scorer", "bodyparts", "coords"]
    };
    let s = |v: &str| PickleValue::Str(v.to_string());
    let info = PickleValue::Dict(vec![
        (
            PickleValue::Int(1),
            PickleValue::Dict(vec![
                (
                    s("names"),
                    PickleValue::List(names.iter().map(|n| s(n)).collect()),
                ),
                (s("type"), s("MultiIndex")),
            ]),
        ),
        (s("index"), PickleValue::Dict(vec![])),
    ]);
    let p0 = |v: &PickleValue| {
        pickle::dumps(pickle::Protocol::Text, v).map_err(|e| PoseError::io(path, e))
    };
    let group_attrs: Vec<(&str, Vec<u8>)> = vec![
        ("CLASS", b"GROUP".to_vec()),
        ("VERSION", b"1.0".to_vec()),
        ("pandas_type", b"frame_table".to_vec()),
        ("pandas_version", b"0.15.2".to_vec()),
        ("table_type", b"appendable_frame".to_vec()),
        ("encoding", b"UTF-8".to_vec()),
        ("errors", b"strict".to_vec()),
        ("nan_rep", b"nan".to_vec()),
        (
            "index_cols",
            p0(&PickleValue::List(vec![PickleValue::Tuple(vec![
                PickleValue::Int(0),
                s("index"),
            ])]))?,
        ),
        (
            "values_cols",
            p0(&PickleValue::List(vec![s("values_block_0")]))?,
        ),
        (
            "non_index_axes",
            p0(&PickleValue::List(vec![PickleValue::Tuple(vec![
                PickleValue::Int(1),
                column_list.clone(),
            ])]))?,
        ),
        ("data_columns", p0(&PickleValue::List(vec![]))?),
        ("metadata", p0(&PickleValue::List(vec![]))?),
        ("info", p0(&info)?),
    ];
    let table_attrs: Vec<(&str, Vec<u8>)> = vec![
        ("CLASS", b"TABLE".to_vec()),
        ("VERSION", b"2.7".to_vec()),
        ("FIELD_0_NAME", b"index".to_vec()),
        ("FIELD_1_NAME", b"values_block_0".to_vec()),
        ("index_kind", b"integer".to_vec()),
        ("values_block_0_kind", p0(&column_list)?),
        ("values_block_0_dtype", b"float64".to_vec()),
        ("values_block_0_meta", p0(&PickleValue::None)?),
    ];
    let h5err = |e: rust_hdf5::Hdf5Error| PoseError::io(path, std::io::Error::other(e.to_string()));
    crate::atomic::write_by_name(path, |temp| {
        let file = H5File::create(temp).map_err(h5err)?;
        file.set_attr_typed("CLASS", fixed_string(b"GROUP").0, b"GROUP".to_vec())
            .map_err(h5err)?;
        file.set_attr_typed(
            "PYTABLES_FORMAT_VERSION",
            fixed_string(b"2.1").0,
            b"2.1".to_vec(),
        )
        .map_err(h5err)?;
        file.set_attr_typed("VERSION", fixed_string(b"1.0").0, b"1.0".to_vec())
            .map_err(h5err)?;
        let group = file.create_group("df_with_missing").map_err(h5err)?;
        for (name, value) in &group_attrs {
            let (dt, v) = fixed_string(value);
            group.set_attr_typed(name, dt, v).map_err(h5err)?;
        }
        group.set_attr_numeric("levels", &1i64).map_err(h5err)?;
        let compound = DatatypeMessage::compound(
            row_size as u32,
            vec![
                CompoundMember {
                    name: "index".into(),
                    offset: 0,
                    datatype: DatatypeMessage::i64_type(),
                },
                CompoundMember {
                    name: "values_block_0".into(),
                    offset: 8,
                    datatype: DatatypeMessage::array(
                        vec![width as u32],
                        DatatypeMessage::f64_type(),
                    ),
                },
            ],
        );
        // PyTables tables are chunked and extendible; readers expect that.
        let chunk = rows.clamp(1, 4096);
        let table = group
            .new_dataset::<u8>()
            .datatype(compound)
            .shape([rows])
            .chunk(&[chunk])
            .max_shape(&[None])
            .create("table")
            .map_err(h5err)?;
        table.write_raw_bytes(&bytes).map_err(h5err)?;
        for (name, value) in &table_attrs {
            let (dt, v) = fixed_string(value);
            table.set_attr_typed(name, dt, v).map_err(h5err)?;
        }
        let nrows = (rows as i64).to_le_bytes().to_vec();
        table
            .set_attr_typed("NROWS", DatatypeMessage::i64_type(), nrows)
            .map_err(h5err)?;
        file.close().map_err(h5err)
    })
}

/// A fixed-length string type for `value`, as PyTables writes attributes: UTF-8 for text,
/// ASCII for pickles (PyTables unpickles only byte strings that end with `.`).
fn fixed_string(value: &[u8]) -> (DatatypeMessage, Vec<u8>) {
    let v = if value.is_empty() {
        vec![0]
    } else {
        value.to_vec()
    };
    let pickled = v.ends_with(b".") && v.starts_with(b"(") || v == b"N.";
    (
        DatatypeMessage::FixedString {
            size: v.len() as u32,
            padding: 0,
            charset: if pickled { 0 } else { 1 },
        },
        v,
    )
}
