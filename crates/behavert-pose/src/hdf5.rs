//! A thin layer over the pure-Rust HDF5 crates that turns every failure into a [`PoseError`]
//! naming the file, the object and what was expected.
//!
//! `rust-hdf5` does the work (it follows soft links, which NWB files use for shared timestamps);
//! `hdf5-pure` is used only for typed attributes of groups (`.slp` `format_id`, netCDF `fps`),
//! which `rust-hdf5` exposes as strings only.

use std::path::{Path, PathBuf};

use rust_hdf5::{H5Dataset, H5File, LinkClass};

use crate::error::{PoseError, Result};

/// The 8-byte signature every HDF5 file starts with (at offset 0, 512, 1024… with a user block).
pub const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// True when `bytes` (the start of a file) carry the HDF5 signature at offset 0 or 512.
pub fn has_signature(bytes: &[u8]) -> bool {
    bytes.starts_with(SIGNATURE) || bytes.get(512..520).is_some_and(|b| b == SIGNATURE)
}

/// An HDF5 file open for reading.
pub struct H5 {
    file: H5File,
    path: PathBuf,
    /// Length of the file in bytes: the measure of what its datasets may claim to hold.
    len: u64,
}

/// The direct children of a group, by kind.
#[derive(Debug, Default)]
pub struct Children {
    /// Child groups (including soft links to groups).
    pub groups: Vec<String>,
    /// Child datasets (including soft links to datasets).
    pub datasets: Vec<String>,
}

impl H5 {
    /// Open `path`, refusing files that are not HDF5 with an error saying what they are.
    pub fn open(path: &Path) -> Result<Self> {
        let mut head = [0u8; 520];
        let n = read_prefix(path, &mut head)?;
        if !has_signature(&head[..n]) {
            return Err(PoseError::format(
                path,
                "file start",
                "the HDF5 signature \\x89HDF\\r\\n\\x1a\\n",
                describe_bytes(&head[..n.min(16)]),
            ));
        }
        check_length(path, &head[..n])?;
        let file = H5File::open(path).map_err(|e| {
            PoseError::format(
                path,
                "HDF5 structure",
                "a readable HDF5 file",
                e.to_string(),
            )
        })?;
        let len = std::fs::metadata(path)
            .map_err(|e| PoseError::io(path, e))?
            .len();
        Ok(Self {
            file,
            path: path.to_path_buf(),
            len,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when `name` is a dataset (or a link to one).
    pub fn has_dataset(&self, name: &str) -> bool {
        self.file.dataset(name).is_ok()
    }

    /// True when `name` is a group.
    pub fn has_group(&self, name: &str) -> bool {
        self.group(name).is_ok()
    }

    fn group(&self, name: &str) -> rust_hdf5::Result<rust_hdf5::H5Group> {
        let name = name.trim_matches('/');
        if name.is_empty() {
            Ok(self.file.root_group())
        } else {
            self.file.root_group().group(name)
        }
    }

    /// Dataset `name`, or an error saying it is missing or claims more data than the file
    /// can hold.
    pub fn dataset(&self, name: &str) -> Result<H5Dataset> {
        let ds = self.file.dataset(name).map_err(|e| {
            PoseError::format(
                &self.path,
                format!("dataset `{name}`"),
                "a dataset",
                missing(e),
            )
        })?;
        // Checked before the crate allocates what the header claims: a damaged or hostile
        // header can ask for terabytes. Compression (deflate at most ~1000:1) bounds what a
        // file of this length can honestly hold.
        let bytes_of = |dims: &[usize]| {
            dims.iter()
                .try_fold(ds.element_size().max(1) as u64, |n, &d| {
                    n.checked_mul(d as u64)
                })
        };
        // A chunk is allocated whole, whatever the dataset's shape: bounded the same way.
        let chunk = ds.chunk_dims().unwrap_or_default();
        let claimed = bytes_of(&ds.shape())
            .zip(bytes_of(&chunk))
            .map(|(data, chunk)| data.max(chunk));
        let most = self
            .len
            .saturating_mul(4096)
            .saturating_add(64 << 20)
            .min(MAX_DATASET_BYTES);
        match claimed {
            Some(bytes) if bytes <= most => Ok(ds),
            _ => Err(PoseError::format(
                &self.path,
                format!("dataset `{name}`"),
                format!(
                    "at most {most} bytes of data (the file has {} bytes)",
                    self.len
                ),
                format!(
                    "shape {:?} (chunks {chunk:?}) of {}-byte elements",
                    ds.shape(),
                    ds.element_size()
                ),
            )),
        }
    }

    /// Shape of dataset `name`.
    pub fn shape(&self, name: &str) -> Result<Vec<usize>> {
        Ok(self.dataset(name)?.shape())
    }

    /// Every element of numeric dataset `name` as f64, with its shape.
    pub fn read_f64(&self, name: &str) -> Result<(Vec<f64>, Vec<usize>)> {
        let ds = self.dataset(name)?;
        let shape = ds.shape();
        // rust-hdf5 refuses integer data as f64 (precision above 2^53); integers here are
        // labels and codes, far below that.
        let values = ds
            .read_numeric_as::<f64>()
            .or_else(|e| match ds.read_numeric_as::<i64>() {
                Ok(ints) => Ok(ints.into_iter().map(|v| v as f64).collect()),
                Err(_) => Err(e),
            });
        let values = values.map_err(|e| {
            PoseError::format(
                &self.path,
                format!("dataset `{name}`"),
                "numbers",
                e.to_string(),
            )
        })?;
        check_len(&self.path, name, &shape, values.len())?;
        Ok((values, shape))
    }

    /// Every element of string dataset `name` (fixed or variable length).
    pub fn read_strings(&self, name: &str) -> Result<Vec<String>> {
        self.dataset(name)?.read_strings_lossy().map_err(|e| {
            PoseError::format(
                &self.path,
                format!("dataset `{name}`"),
                "strings",
                e.to_string(),
            )
        })
    }

    /// The raw bytes of dataset `name` (compound rows, fixed strings), with its shape.
    pub fn read_raw(&self, name: &str) -> Result<(Vec<u8>, Vec<usize>)> {
        let ds = self.dataset(name)?;
        let shape = ds.shape();
        let bytes = ds.read_raw_bytes().map_err(|e| {
            PoseError::format(
                &self.path,
                format!("dataset `{name}`"),
                "readable data",
                e.to_string(),
            )
        })?;
        Ok((bytes, shape))
    }

    /// String attribute `attr` of dataset `name`, if present and textual.
    pub fn dataset_attr_string(&self, name: &str, attr: &str) -> Option<String> {
        let ds = self.file.dataset(name).ok()?;
        if !ds.attr_names().ok()?.iter().any(|a| a == attr) {
            return None;
        }
        ds.attr(attr).ok()?.read_string().ok()
    }

    /// Numeric attribute `attr` of dataset `name`, if present.
    pub fn dataset_attr_f64(&self, name: &str, attr: &str) -> Option<f64> {
        let ds = self.file.dataset(name).ok()?;
        if !ds.attr_names().ok()?.iter().any(|a| a == attr) {
            return None;
        }
        attr_numbers(&ds.attr(attr).ok()?)?.first().copied()
    }

    /// Numeric array attribute `attr` of dataset `name`, if present.
    pub fn dataset_attr_f64s(&self, name: &str, attr: &str) -> Option<Vec<f64>> {
        let ds = self.file.dataset(name).ok()?;
        if !ds.attr_names().ok()?.iter().any(|a| a == attr) {
            return None;
        }
        attr_numbers(&ds.attr(attr).ok()?)
    }

    /// Names of the attributes of group `name` (`""` or `/` = root).
    pub fn group_attr_names(&self, name: &str) -> Vec<String> {
        self.group(name)
            .and_then(|g| g.attr_names())
            .unwrap_or_default()
    }

    /// String attribute `attr` of group `name`, if present (`""` or `/` = root).
    pub fn group_attr_string(&self, name: &str, attr: &str) -> Option<String> {
        let group = self.group(name).ok()?;
        if !group.attr_names().ok()?.iter().any(|a| a == attr) {
            return None;
        }
        group.attr_string(attr).ok()
    }

    /// Numeric attribute `attr` of group `name`, if present (`""` or `/` = root).
    pub fn group_attr_f64(&self, name: &str, attr: &str) -> Option<f64> {
        if !self.group_attr_names(name).iter().any(|a| a == attr) {
            return None;
        }
        // Streaming: `.slp` files can embed gigabytes of video frames.
        let file = hdf5_pure::File::open_streaming(&self.path).ok()?;
        let group = match name.trim_matches('/') {
            "" => file.root(),
            path => file.group(path).ok()?,
        };
        group.attrs().ok()?.get(attr)?.as_f64()
    }

    /// The soft links directly in group `name`, as (link name, target path).
    pub fn soft_links(&self, name: &str) -> Vec<(String, String)> {
        let Ok(group) = self.group(name) else {
            return Vec::new();
        };
        let links = group.link_names().unwrap_or_default();
        links
            .into_iter()
            .filter_map(|l| match group.link_class(&l) {
                Ok(LinkClass::Soft { path }) => Some((l, path.trim_start_matches('/').to_string())),
                _ => None,
            })
            .collect()
    }

    /// The direct children of group `name`, following soft links to find what they name.
    pub fn children(&self, name: &str) -> Result<Children> {
        let group = self.group(name).map_err(|e| {
            PoseError::format(&self.path, format!("group `{name}`"), "a group", missing(e))
        })?;
        let links = group.link_names().map_err(|e| {
            PoseError::format(
                &self.path,
                format!("group `{name}`"),
                "a listable group",
                e.to_string(),
            )
        })?;
        let mut children = Children::default();
        for link in links {
            if matches!(group.link_class(&link), Ok(LinkClass::External { .. })) {
                continue;
            }
            let full = join(name, &link);
            if self.file.dataset(&full).is_ok() {
                children.datasets.push(link);
            } else if self.group(&full).is_ok() {
                children.groups.push(link);
            }
        }
        Ok(children)
    }

    /// Every group in the file (depth first, `/`-separated paths without a leading slash) whose
    /// attribute `attr` equals `value`.
    ///
    /// Links can make the group graph cyclic, and the crate names groups by path only, so a
    /// group met again under a longer path cannot be recognised. The walk therefore follows
    /// hard links only (a soft link names a group that has a path of its own), no deeper than
    /// [`MAX_GROUP_DEPTH`] and over at most [`MAX_GROUPS`] groups: far beyond any real pose
    /// file, and finite on any hostile one.
    pub fn find_groups_with_attr(&self, attr: &str, value: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut stack = vec![(String::new(), 0usize)];
        let mut seen = 0usize;
        while let Some((group, depth)) = stack.pop() {
            seen += 1;
            if seen > MAX_GROUPS {
                tracing::warn!(file = %self.path.display(), "stopped after {MAX_GROUPS} HDF5 groups (cyclic links?)");
                break;
            }
            if self.group_attr_string(&group, attr).as_deref() == Some(value) {
                found.push(group.clone());
            }
            if depth == MAX_GROUP_DEPTH {
                continue;
            }
            let soft: Vec<String> = self
                .soft_links(&group)
                .into_iter()
                .map(|(l, _)| l)
                .collect();
            if let Ok(children) = self.children(&group) {
                for child in children.groups.into_iter().rev() {
                    if !soft.contains(&child) {
                        stack.push((join(&group, &child), depth + 1));
                    }
                }
            }
        }
        found
    }
}

/// Most bytes one dataset may hold once read: 16 GiB.
const MAX_DATASET_BYTES: u64 = 16 << 30;

/// Deepest group [`H5::find_groups_with_attr`] looks into (NWB nests pose groups 3 deep).
const MAX_GROUP_DEPTH: usize = 12;
/// Most groups [`H5::find_groups_with_attr`] visits.
const MAX_GROUPS: usize = 5_000;

/// Refuse a file shorter than its superblock's end-of-file address: a truncated file would
/// otherwise read as chunks of fill values (zeros) instead of failing.
fn check_length(path: &Path, head: &[u8]) -> Result<()> {
    let start = if head.starts_with(SIGNATURE) { 0 } else { 512 };
    let sb = &head[start.min(head.len())..];
    let uint = |at: usize, size: usize| -> Option<u64> {
        let b = sb.get(at..at + size)?;
        let mut buf = [0u8; 8];
        buf[..size.min(8)].copy_from_slice(&b[..size.min(8)]);
        Some(u64::from_le_bytes(buf))
    };
    let eof = match sb.get(8) {
        Some(0 | 1) => {
            let o = *sb.get(13).unwrap_or(&8) as usize;
            let at = if sb[8] == 0 { 24 } else { 28 };
            uint(at, o)
                .zip(uint(at + 2 * o, o))
                .map(|(base, eof)| base.saturating_add(eof))
        }
        Some(2 | 3) => {
            let o = *sb.get(9).unwrap_or(&8) as usize;
            uint(12, o)
                .zip(uint(12 + 2 * o, o))
                .map(|(base, eof)| base.saturating_add(eof))
        }
        _ => None,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| PoseError::io(path, e))?
        .len();
    match eof {
        Some(eof) if eof != u64::MAX && eof > len => Err(PoseError::format(
            path,
            "file length",
            format!("{eof} bytes (the end-of-file address in the HDF5 superblock)"),
            format!("{len} bytes (truncated file?)"),
        )),
        _ => Ok(()),
    }
}

fn attr_numbers(attr: &rust_hdf5::H5Attribute) -> Option<Vec<f64>> {
    attr.read_numeric_as::<f64>().ok().or_else(|| {
        attr.read_numeric_as::<i64>()
            .ok()
            .map(|v| v.into_iter().map(|x| x as f64).collect())
    })
}

/// `parent/child`, without a leading slash for the root.
pub fn join(parent: &str, child: &str) -> String {
    let parent = parent.trim_matches('/');
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}/{child}")
    }
}

fn missing(e: rust_hdf5::Hdf5Error) -> String {
    match e {
        rust_hdf5::Hdf5Error::NotFound(_) => "nothing by that name".to_string(),
        other => other.to_string(),
    }
}

fn check_len(path: &Path, name: &str, shape: &[usize], len: usize) -> Result<()> {
    let expected: usize = shape.iter().product();
    if expected != len {
        return Err(PoseError::format(
            path,
            format!("dataset `{name}`"),
            format!("{expected} values for shape {shape:?}"),
            format!("{len} values"),
        ));
    }
    Ok(())
}

/// Read up to `buf.len()` bytes from the start of `path`; anything but a readable ordinary file
/// is an error naming it.
pub fn read_prefix(path: &Path, buf: &mut [u8]) -> Result<usize> {
    use std::io::Read;
    crate::input_file::regular_file(path)?;
    let mut file = std::fs::File::open(path).map_err(|e| PoseError::io(path, e))?;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(PoseError::io(path, e)),
        }
    }
    Ok(filled)
}

/// A short printable rendering of the first bytes of a file, for error messages.
pub fn describe_bytes(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "an empty file".to_string();
    }
    let text: String = bytes
        .iter()
        .map(|&b| std::ascii::escape_default(b).to_string())
        .collect();
    format!("bytes \"{text}\"")
}

/// A 1-d compound dataset (PyTables table, `.slp` frames/instances/points) read into memory.
pub struct Table {
    /// Number of rows.
    pub rows: usize,
    row_size: usize,
    bytes: Vec<u8>,
    members: Vec<rust_hdf5::format::messages::datatype::CompoundMember>,
    name: String,
    path: PathBuf,
}

/// How one numeric element is stored.
#[derive(Clone, Copy, Debug)]
enum Scalar {
    Float {
        size: usize,
        big: bool,
    },
    Int {
        size: usize,
        big: bool,
        signed: bool,
    },
}

fn scalar_of(dt: &rust_hdf5::DatatypeMessage) -> Option<Scalar> {
    use rust_hdf5::{ByteOrder, DatatypeMessage as D};
    match dt {
        D::FloatingPoint {
            size, byte_order, ..
        } => Some(Scalar::Float {
            size: *size as usize,
            big: *byte_order == ByteOrder::BigEndian,
        }),
        D::FixedPoint {
            size,
            byte_order,
            signed,
            ..
        } => Some(Scalar::Int {
            size: *size as usize,
            big: *byte_order == ByteOrder::BigEndian,
            signed: *signed,
        }),
        D::Enum { base, .. } => scalar_of(base),
        D::BitField {
            size, byte_order, ..
        } => Some(Scalar::Int {
            size: *size as usize,
            big: *byte_order == ByteOrder::BigEndian,
            signed: false,
        }),
        _ => None,
    }
}

fn decode(s: Scalar, b: &[u8]) -> f64 {
    let mut buf = [0u8; 8];
    let (size, big) = match s {
        Scalar::Float { size, big } | Scalar::Int { size, big, .. } => (size.min(8), big),
    };
    buf[..size].copy_from_slice(&b[..size]);
    if big {
        buf[..size].reverse();
    }
    match s {
        Scalar::Float { size: 4, .. } => {
            f32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as f64
        }
        Scalar::Float { .. } => f64::from_le_bytes(buf),
        Scalar::Int { signed: true, .. } => {
            let shift = 64 - 8 * size as u32;
            (((u64::from_le_bytes(buf)) << shift) as i64 >> shift) as f64
        }
        Scalar::Int { .. } => u64::from_le_bytes(buf) as f64,
    }
}

impl Table {
    /// Names of the table's fields.
    pub fn fields(&self) -> Vec<&str> {
        self.members.iter().map(|m| m.name.as_str()).collect()
    }

    fn member(
        &self,
        field: &str,
    ) -> Result<&rust_hdf5::format::messages::datatype::CompoundMember> {
        self.members
            .iter()
            .find(|m| m.name == field)
            .ok_or_else(|| {
                PoseError::format(
                    &self.path,
                    format!("table `{}`", self.name),
                    format!("a field `{field}`"),
                    format!("fields {:?}", self.fields()),
                )
            })
    }

    /// A numeric field (int, float, enum/bool) as f64, one value per row.
    pub fn column(&self, field: &str) -> Result<Vec<f64>> {
        let (values, width) = self.array_column(field)?;
        if width != 1 {
            return Err(PoseError::format(
                &self.path,
                format!("table `{}` field `{field}`", self.name),
                "a scalar field",
                format!("an array of {width}"),
            ));
        }
        Ok(values)
    }

    /// A numeric field holding a fixed-size array (PyTables `values_block_0`), row-major
    /// `rows × width`, with its width.
    pub fn array_column(&self, field: &str) -> Result<(Vec<f64>, usize)> {
        let member = self.member(field)?;
        let (width, base) = match &member.datatype {
            rust_hdf5::DatatypeMessage::Array { dims, base } => {
                (dims.iter().map(|&d| d as usize).product(), base.as_ref())
            }
            other => (1, other),
        };
        let scalar = scalar_of(base).ok_or_else(|| {
            PoseError::format(
                &self.path,
                format!("table `{}` field `{field}`", self.name),
                "numbers",
                format!("{base:?}"),
            )
        })?;
        let size = match scalar {
            Scalar::Float { size, .. } | Scalar::Int { size, .. } => size,
        };
        let offset = member.offset as usize;
        if !(1..=8).contains(&size) || offset + width * size > self.row_size {
            return Err(PoseError::format(
                &self.path,
                format!("table `{}` field `{field}`", self.name),
                format!("a field inside the {}-byte row", self.row_size),
                format!("{width}×{size} bytes at offset {offset}"),
            ));
        }
        let mut out = Vec::with_capacity(self.rows * width);
        for row in self.bytes.chunks_exact(self.row_size).take(self.rows) {
            for e in 0..width {
                out.push(decode(scalar, &row[offset + e * size..]));
            }
        }
        Ok((out, width))
    }
}

impl H5 {
    /// Read 1-d compound dataset `name` as a [`Table`].
    pub fn read_table(&self, name: &str) -> Result<Table> {
        let ds = self.dataset(name)?;
        let dt = ds.datatype().map_err(|e| {
            PoseError::format(
                &self.path,
                format!("dataset `{name}`"),
                "a compound datatype",
                e.to_string(),
            )
        })?;
        let rust_hdf5::DatatypeMessage::Compound { size, members } = dt else {
            return Err(PoseError::format(
                &self.path,
                format!("dataset `{name}`"),
                "a compound (table) datatype",
                format!("{dt:?}"),
            ));
        };
        let (bytes, shape) = self.read_raw(name)?;
        let row_size = size as usize;
        let rows = shape.iter().product::<usize>();
        if row_size == 0 || bytes.len() < rows * row_size {
            return Err(PoseError::format(
                &self.path,
                format!("dataset `{name}`"),
                format!("{rows} rows of {row_size} bytes"),
                format!("{} bytes", bytes.len()),
            ));
        }
        Ok(Table {
            rows,
            row_size,
            bytes,
            members,
            name: name.to_string(),
            path: self.path.clone(),
        })
    }
}
