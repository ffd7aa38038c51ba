//! Bad input: every case gives an error naming the file, the place, what was expected and what
//! was found — never a panic.

use std::path::{Path, PathBuf};

use behavert_pose::formats::{self, Format};
use behavert_pose::{Mismatch, PoseError};

use crate::common;

const GOOD_CSV: &str = "scorer,S,S,S,S,S,S\nbodyparts,nose,nose,nose,tail,tail,tail\ncoords,x,y,likelihood,x,y,likelihood\n0,1.5,2.5,0.9,3,4,0.8\n1,1.6,2.6,0.9,3.1,4.1,0.7\n";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The error must be a format error about `path` whose place, expectation and finding all
/// contain the given fragments.
fn assert_format_error(err: PoseError, path: &Path, place: &str, expected: &str, found: &str) {
    match &err {
        PoseError::Format {
            path: p,
            mismatch:
                Mismatch {
                    place: pl,
                    expected: e,
                    found: f,
                },
        } => {
            assert_eq!(p, path, "{err}");
            assert!(pl.contains(place), "place `{pl}` lacks `{place}`: {err}");
            assert!(
                e.contains(expected),
                "expected `{e}` lacks `{expected}`: {err}"
            );
            assert!(f.contains(found), "found `{f}` lacks `{found}`: {err}");
            assert!(err.to_string().contains(&path.display().to_string()));
        }
        other => panic!("not a format error: {other}"),
    }
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "empty.csv", b"");
    assert_format_error(
        formats::detect(&path).unwrap_err(),
        &path,
        "file start",
        "pose file",
        "empty file",
    );
    for format in Format::all() {
        let err = formats::read(&path, Some(format)).unwrap_err();
        assert!(matches!(err, PoseError::Format { .. }), "{format}: {err}");
        assert!(
            err.to_string().contains("empty")
                || err.to_string().contains("end of the file")
                || err.to_string().contains("signature"),
            "{format}: {err}"
        );
    }
}

#[test]
fn a_directory() {
    let dir = tempfile::tempdir().unwrap();
    assert_format_error(
        formats::detect(dir.path()).unwrap_err(),
        dir.path(),
        "path",
        "a file",
        "a directory",
    );
    for format in Format::all() {
        let err = formats::read(dir.path(), Some(format)).unwrap_err();
        assert_format_error(err, dir.path(), "path", "a file", "a directory");
    }
}

/// A named pipe would block a reader for ever: refused before anything opens it.
#[cfg(unix)]
#[test]
fn a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pose.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let expect_pipe = |err: PoseError| assert_format_error(err, &fifo, "path", "a file", "a pipe");
    expect_pipe(formats::detect(&fifo).unwrap_err());
    for format in Format::all() {
        expect_pipe(formats::read(&fifo, Some(format)).unwrap_err());
    }
    expect_pipe(behavert_pose::label_files::read_labels(&fifo).unwrap_err());
}

#[test]
fn a_file_of_another_format() {
    let dir = tempfile::tempdir().unwrap();
    let png = write(
        dir.path(),
        "image.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    );
    assert_format_error(
        formats::detect(&png).unwrap_err(),
        &png,
        "file start",
        "a pose file",
        "PNG",
    );
    let csv = write(dir.path(), "pose.csv", GOOD_CSV.as_bytes());
    assert_format_error(
        formats::read(&csv, Some(Format::SleapH5)).unwrap_err(),
        &csv,
        "file start",
        "HDF5 signature",
        "scorer",
    );
    assert_format_error(
        formats::read(&csv, Some(Format::Npy)).unwrap_err(),
        &csv,
        "file start",
        ".npy signature",
        "scorer",
    );
    let json = write(dir.path(), "x.csv", b"{\"a\": 1}\n");
    assert_format_error(
        formats::read(&json, Some(Format::DlcCsv)).unwrap_err(),
        &json,
        "line 1, column 1",
        "`scorer`",
        "{\"a\": 1}",
    );
    if let Some(h5) = common::sample("ethome_sample_sleap_analysis.h5") {
        assert_format_error(
            formats::read(&h5, Some(Format::DlcH5)).unwrap_err(),
            &h5,
            "HDF5 root group",
            "pandas",
            "[]",
        );
        assert_format_error(
            formats::read(&h5, Some(Format::Nwb)).unwrap_err(),
            &h5,
            "NWB file",
            "PoseEstimation",
            "none",
        );
    }
}

#[test]
fn wrong_header_rows() {
    let dir = tempfile::tempdir().unwrap();
    let no_coords = GOOD_CSV.replace("coords,", "kind,");
    let path = write(dir.path(), "a.csv", no_coords.as_bytes());
    assert_format_error(
        formats::read(&path, None).unwrap_err(),
        &path,
        "line 3, column 1",
        "`coords`",
        "`kind`",
    );
    let swapped = "scorer,S,S\ncoords,x,y\nbodyparts,nose,nose\n0,1,2\n";
    let path = write(dir.path(), "b.csv", swapped.as_bytes());
    assert_format_error(
        formats::read(&path, None).unwrap_err(),
        &path,
        "line 2, column 1",
        "`bodyparts`",
        "`coords`",
    );
    let ragged = "scorer,S,S\nbodyparts,nose\ncoords,x,y\n0,1,2\n";
    let path = write(dir.path(), "c.csv", ragged.as_bytes());
    assert_format_error(
        formats::read(&path, None).unwrap_err(),
        &path,
        "line 2",
        "3 cells",
        "2 cells",
    );
    let header_only = "scorer,S,S\nbodyparts,nose,nose\ncoords,x,y\n";
    let path = write(dir.path(), "d.csv", header_only.as_bytes());
    assert_format_error(
        formats::read(&path, None).unwrap_err(),
        &path,
        "line 4",
        "at least one data row",
        "end of the file",
    );
}

#[test]
fn non_numeric_cells() {
    let dir = tempfile::tempdir().unwrap();
    let bad = GOOD_CSV.replace("3.1", "three");
    let path = write(dir.path(), "n.csv", bad.as_bytes());
    assert_format_error(
        formats::read(&path, None).unwrap_err(),
        &path,
        "line 5, column 5 (tail/x)",
        "a number or an empty cell",
        "`three`",
    );
    let anipose = "nose_x,nose_y,nose_z,nose_error,nose_ncams,nose_score,fnum\n1,2,3,0.1,2,0.9,0\n1,oops,3,0.1,2,0.9,1\n";
    let path = write(dir.path(), "pose-3d.csv", anipose.as_bytes());
    assert_eq!(formats::detect(&path).unwrap(), Format::Anipose);
    assert_format_error(
        formats::read(&path, None).unwrap_err(),
        &path,
        "line 3, column 2 (nose_y)",
        "a number",
        "`oops`",
    );
}

#[test]
fn truncated_files() {
    let dir = tempfile::tempdir().unwrap();
    let cut = &GOOD_CSV[..GOOD_CSV.len() - 8];
    let path = write(dir.path(), "t.csv", cut.as_bytes());
    assert_format_error(
        formats::read(&path, None).unwrap_err(),
        &path,
        "line 5",
        "7 cells",
        "6 cells",
    );
    if let Some(sample) = common::sample("mouse_frame_number_map.npy") {
        let bytes = std::fs::read(sample).unwrap();
        let path = write(dir.path(), "map.npy", &bytes[..bytes.len() / 2]);
        assert_format_error(
            formats::read_one(&path, None).unwrap_err(),
            &path,
            "pickle at byte",
            "",
            "end of the data",
        );
        let err = formats::npy::read_object(&path).unwrap_err();
        assert!(matches!(err, PoseError::Format { .. }), "{err}");
        let path = write(dir.path(), "head.npy", &bytes[..20]);
        assert_format_error(
            formats::npy::read(&path).unwrap_err(),
            &path,
            "header",
            "a complete .npy header",
            "20-byte file",
        );
    }
    for name in [
        "ethome_sample_sleap_analysis.h5",
        "dlc_openfield_CollectedData_Pranav.h5",
        "ethome_sample_nwb.nwb",
    ] {
        let Some(sample) = common::sample(name) else {
            continue;
        };
        let bytes = std::fs::read(sample).unwrap();
        for keep in [bytes.len() / 2, 4096, 600] {
            let path = write(dir.path(), &format!("cut-{keep}-{name}"), &bytes[..keep]);
            let err = formats::read(&path, None).unwrap_err();
            assert!(
                matches!(err, PoseError::Format { .. }),
                "{name} cut at {keep}: {err}"
            );
            assert!(
                err.to_string().contains(&path.display().to_string()),
                "{err}"
            );
        }
    }
    let npy = write(dir.path(), "short.npy", b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (10, 1, 2, 2), }                                                      \n\x00\x00");
    assert_format_error(
        formats::read_one(&npy, None).unwrap_err(),
        &npy,
        "data at byte",
        "160 bytes",
        "truncated",
    );
}

fn sleap_file(
    dir: &Path,
    name: &str,
    node_names: Option<&[&str]>,
    occupancy_frames: usize,
) -> PathBuf {
    use rust_hdf5::H5File;
    let path = dir.join(name);
    let file = H5File::create(&path).unwrap();
    let tracks = file
        .new_dataset::<f64>()
        .shape([1, 2, 3, 10])
        .create("tracks")
        .unwrap();
    tracks.write_raw(&[1.0f64; 60]).unwrap();
    let occ = file
        .new_dataset::<u8>()
        .shape([occupancy_frames, 1])
        .create("track_occupancy")
        .unwrap();
    occ.write_raw(&vec![1u8; occupancy_frames]).unwrap();
    if let Some(names) = node_names {
        file.write_vlen_strings("node_names", names).unwrap();
    }
    file.close().unwrap();
    path
}

/// Groups linked into themselves (hard links, twice over, and a soft-link loop) make the group
/// graph cyclic: reading such a file as NWB ends, with an error saying what is missing.
#[test]
fn hdf5_link_cycles_end() {
    use rust_hdf5::H5File;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cycles.nwb");
    let file = H5File::create(&path).unwrap();
    let root = file.root_group();
    let processing = root.create_group("processing").unwrap();
    let behavior = processing.create_group("behavior").unwrap();
    behavior.link("up", "/processing").unwrap();
    behavior.link("again", "/processing").unwrap();
    behavior
        .create_soft_link("loop", "/processing/behavior/loop")
        .unwrap();
    root.create_soft_link("alias", "/processing").unwrap();
    file.close().unwrap();
    let err = formats::read(&path, Some(Format::Nwb)).unwrap_err();
    assert!(err.to_string().contains("PoseEstimation"), "{err}");
}

/// Anipose leaves untriangulated frames out of the file: `fnum` puts every row back at its
/// frame; a repeated body-part column or a frame number going backwards is refused.
#[test]
fn anipose_frame_numbers_and_duplicate_columns() {
    let dir = tempfile::tempdir().unwrap();
    let header = "nose_x,nose_y,nose_z,nose_score,fnum\n";
    let gaps = write(
        dir.path(),
        "gaps.csv",
        format!("{header}1,2,3,0.9,0\n4,5,6,0.8,1\n7,8,9,0.7,4\n").as_bytes(),
    );
    let pose = formats::read_one(&gaps, Some(Format::Anipose)).unwrap();
    assert_eq!(pose.frames(), 5);
    assert_eq!(pose.positions[[4, 0, 0, 2]], 9.0);
    assert!(pose.positions[[2, 0, 0, 0]].is_nan() && pose.positions[[3, 0, 0, 1]].is_nan());
    assert_eq!(pose.confidence.as_ref().unwrap()[[1, 0, 0]], 0.8);

    let backwards = write(
        dir.path(),
        "backwards.csv",
        format!("{header}1,2,3,0.9,3\n4,5,6,0.8,3\n").as_bytes(),
    );
    assert_format_error(
        formats::read(&backwards, Some(Format::Anipose)).unwrap_err(),
        &backwards,
        "line 3, column 5 (fnum)",
        "above 3",
        "`3`",
    );
    let twice = write(
        dir.path(),
        "twice.csv",
        b"nose_x,nose_y,nose_z,nose_x,fnum\n1,2,3,4,0\n",
    );
    assert_format_error(
        formats::read(&twice, Some(Format::Anipose)).unwrap_err(),
        &twice,
        "line 1, column 4",
        "each column once",
        "`nose_x` again",
    );
}

/// A DeepLabCut CSV with rows left out keeps every frame at its index: the missing ones come
/// back NaN; an index going backwards is refused.
#[test]
fn deeplabcut_index_column_places_rows() {
    let dir = tempfile::tempdir().unwrap();
    let header = "scorer,S,S,S\nbodyparts,nose,nose,nose\ncoords,x,y,likelihood\n";
    let gaps = write(
        dir.path(),
        "gaps.csv",
        format!("{header}0,1,2,0.9\n1,3,4,0.9\n3,5,6,0.8\n").as_bytes(),
    );
    let pose = formats::read_one(&gaps, Some(Format::DlcCsv)).unwrap();
    assert_eq!(pose.frames(), 4);
    assert!(pose.positions[[2, 0, 0, 0]].is_nan());
    assert_eq!(pose.positions[[3, 0, 0, 1]], 6.0);
    let backwards = write(
        dir.path(),
        "backwards.csv",
        format!("{header}0,1,2,0.9\n2,3,4,0.9\n1,5,6,0.8\n").as_bytes(),
    );
    assert_format_error(
        formats::read(&backwards, Some(Format::DlcCsv)).unwrap_err(),
        &backwards,
        "data row 3",
        "above 2",
        "1",
    );
    // A typo that puts the second of two rows hours later: a damaged index, not a sparse file.
    let far = write(
        dir.path(),
        "far.csv",
        format!("{header}0,1,2,0.9\n3740234,3,4,0.9\n").as_bytes(),
    );
    assert_format_error(
        formats::read(&far, Some(Format::DlcCsv)).unwrap_err(),
        &far,
        "column 1 (index)",
        "frame numbers below 108200 for 2 rows",
        "frame number 3740234",
    );
}

#[test]
fn a_dataset_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = sleap_file(dir.path(), "no_names.h5", None, 10);
    // Given the format or left to detection: the same error, naming what is missing.
    for format in [Some(Format::SleapH5), None] {
        assert_format_error(
            formats::read(&path, format).unwrap_err(),
            &path,
            "dataset `node_names`",
            "a dataset",
            "nothing by that name",
        );
    }
}

#[test]
fn mismatched_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let path = sleap_file(dir.path(), "two_names.h5", Some(&["a", "b"]), 10);
    assert_format_error(
        formats::read(&path, None).unwrap_err(),
        &path,
        "dataset `node_names`",
        "3 names",
        "2 names",
    );
    let path = sleap_file(dir.path(), "short_occupancy.h5", Some(&["a", "b", "c"]), 7);
    assert_format_error(
        formats::read(&path, None).unwrap_err(),
        &path,
        "dataset `track_occupancy`",
        "(10, 1)",
        "[7, 1]",
    );
    let path = sleap_file(dir.path(), "ok.h5", Some(&["a", "b", "c"]), 10);
    assert_eq!(
        formats::read_one(&path, None).unwrap().positions.dim(),
        (10, 1, 3, 2)
    );
    let npy_dir = dir.path().join("npy");
    std::fs::create_dir(&npy_dir).unwrap();
    let npy = npy_dir.join("p.npy");
    formats::npy::write_f32(&npy, &[2, 1, 2, 2], &[0.0; 8]).unwrap();
    std::fs::write(npy_dir.join("p.json"), r#"{"axes": [], "individuals": ["a"], "keypoints": ["k"], "fps": null, "software": null, "source": null, "confidence": null}"#).unwrap();
    assert_format_error(
        formats::read_one(&npy, None).unwrap_err(),
        &npy_dir.join("p.json"),
        "pose keypoints",
        "2 names",
        "1 names",
    );
}

#[test]
fn csv_mutations_never_panic() {
    let base = GOOD_CSV.as_bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.csv");
    let mut state = 0x1234_5678_9ABC_DEF1u64;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b",\n\"\r0123456789.-eEnaN xyzlikelihoodscorer";
    for round in 0..600 {
        let mut bytes = base.to_vec();
        match round % 3 {
            0 => bytes.truncate(rand() as usize % bytes.len()),
            1 => {
                for _ in 0..1 + rand() % 4 {
                    let i = rand() as usize % bytes.len();
                    bytes[i] = alphabet[rand() as usize % alphabet.len()];
                }
            }
            _ => {
                let i = rand() as usize % bytes.len();
                let j = rand() as usize % bytes.len();
                bytes.insert(i, bytes[j]);
            }
        }
        std::fs::write(&path, &bytes).unwrap();
        let _ = formats::detect(&path);
        for format in [Format::DlcCsv, Format::LightningPose, Format::Anipose] {
            if let Err(err) = formats::read(&path, Some(format)) {
                assert!(
                    matches!(err, PoseError::Format { .. } | PoseError::Invalid { .. }),
                    "{err}"
                );
            }
        }
    }
}
