//! `behavert._native`: the Rust side of the Python package. It hands poses, predictions and
//! embeddings to Python as numpy arrays (moved, not copied, where Rust owns them) and runs the
//! same code as the command line; `python/behavert/` turns them into xarray and pandas.
//! Every call that computes releases the GIL, so threads (and Dask's threaded workers) run in
//! parallel.

use std::path::PathBuf;
use std::sync::Mutex;

use behavert::infer::predictions::{BoutTracker, frame_label, prediction_columns};
use behavert::infer::roles::predict_roles;
use behavert::infer::{InferOptions, OutputHead, Predictions, Predictor};
use behavert::model::{HeadKind, Precision};
use behavert_pose::pose::Pose;
use behavert_pose::{Format, formats};
use ndarray::{Array3, Array4};
use numpy::{IntoPyArray, PyReadonlyArray3, PyReadonlyArray4};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

create_exception!(
    _native,
    BehavertError,
    PyException,
    "A BehavERT operation failed; the message names the file, place, expected and found."
);

/// The error's message with its causes, as the command line prints it.
fn raise(error: impl Into<anyhow::Error>) -> PyErr {
    BehavertError::new_err(format!("{:#}", error.into()))
}

/// Reads a pose file (format detected from its content unless given) into plain arrays:
/// `position` float32 `[frames, individuals, keypoints, space]`, `confidence`
/// `[frames, individuals, keypoints]` or None, names, fps, software and source file.
#[pyfunction]
#[pyo3(signature = (path, format=None))]
fn read_pose<'py>(
    py: Python<'py>,
    path: PathBuf,
    format: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let format = format
        .map(str::parse::<Format>)
        .transpose()
        .map_err(raise)?;
    let pose = py
        .detach(|| formats::read_one(&path, format))
        .map_err(raise)?;
    pose_to_dict(py, pose)
}

fn pose_to_dict(py: Python<'_>, pose: Pose) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("position", pose.positions.into_pyarray(py))?;
    dict.set_item("confidence", pose.confidence.map(|c| c.into_pyarray(py)))?;
    dict.set_item("individuals", pose.individuals)?;
    dict.set_item("keypoints", pose.keypoints)?;
    dict.set_item("fps", pose.fps)?;
    dict.set_item("software", pose.software)?;
    dict.set_item("source", pose.source)?;
    Ok(dict)
}

/// A pose as Python hands it over (a dict): `read_pose`'s arrays and names, in its layout.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct PoseArrays<'py> {
    position: PyReadonlyArray4<'py, f32>,
    confidence: Option<PyReadonlyArray3<'py, f32>>,
    individuals: Vec<String>,
    keypoints: Vec<String>,
    fps: Option<f64>,
    /// What to call the pose in messages: its file, or "a pose Dataset".
    origin: String,
}

impl PoseArrays<'_> {
    /// The pose, checked as a file's would be (names match axes, finite rate; unusable
    /// coordinates become missing).
    fn into_pose(self) -> PyResult<(Pose, String)> {
        let positions: Array4<f32> = self.position.as_array().to_owned();
        let mut pose = Pose::new(positions, self.individuals, self.keypoints).map_err(raise)?;
        if let Some(confidence) = self.confidence {
            let confidence: Array3<f32> = confidence.as_array().to_owned();
            let expected = pose.positions.shape()[..3].to_vec();
            if confidence.shape() != expected.as_slice() {
                return Err(raise(anyhow::anyhow!(
                    "confidence: expected shape {expected:?} (frames, individuals, keypoints of \
                     the positions), found {:?}",
                    confidence.shape()
                )));
            }
            pose.confidence = Some(confidence);
        }
        if let Some(fps) = self.fps
            && !(fps.is_finite() && fps > 0.0)
        {
            return Err(raise(anyhow::anyhow!(
                "fps: expected a positive number of frames per second, found {fps}"
            )));
        }
        pose.fps = self.fps;
        pose.drop_unusable_values();
        Ok((pose, self.origin))
    }
}

/// A role model's slots and its behaviours with their roles (`solo`, `directed`).
type RoleSetup = (usize, Vec<(String, String)>);

/// One agent's (and target's) probabilities of one behaviour per frame.
type RoleTrack<'py> = (
    String,
    Option<String>,
    String,
    Bound<'py, numpy::PyArray1<f32>>,
);

/// A checkpoint loaded for labelling and embedding.
#[pyclass(module = "behavert._native")]
struct Model {
    // burn's modules are Send but not Sync: one call at a time uses the network. Boxed
    // because its alignment may exceed what Python's allocator gives an object.
    predictor: Box<Mutex<Predictor>>,
    heads: Vec<OutputHead>,
    window_length: usize,
}

#[pymethods]
impl Model {
    /// Loads a checkpoint folder (`config.json`, `model.safetensors`, `training.json`).
    #[staticmethod]
    #[pyo3(signature = (path, device="cpu", precision="f32"))]
    fn load(py: Python<'_>, path: PathBuf, device: &str, precision: &str) -> PyResult<Self> {
        let device = behavert::device::parse_device(device).map_err(raise)?;
        let precision: Precision = precision
            .parse()
            .map_err(|e: String| raise(anyhow::anyhow!("precision: {e}")))?;
        let predictor = py
            .detach(|| {
                let mut predictor = Predictor::load(&path, &device)?;
                predictor.set_precision(precision)?;
                Ok::<_, behavert::Error>(predictor)
            })
            .map_err(|e| {
                raise(
                    anyhow::Error::new(e)
                        .context(format!("cannot load the model {}", path.display())),
                )
            })?;
        Ok(Self {
            heads: predictor.heads().to_vec(),
            window_length: predictor.window_length(),
            predictor: Box::new(Mutex::new(predictor)),
        })
    }

    /// The heads: name, kind (`multiclass`, `multilabel`, `regression`), level and output names.
    fn heads<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for head in &self.heads {
            let dict = PyDict::new(py);
            dict.set_item("name", head.name())?;
            // The names config.json uses for them.
            let name = |value: serde_json::Value| value.as_str().unwrap_or_default().to_string();
            dict.set_item("kind", name(serde_json::json!(head.kind())))?;
            dict.set_item("level", name(serde_json::json!(head.level())))?;
            dict.set_item("outputs", head.output_names())?;
            list.append(dict)?;
        }
        Ok(list)
    }

    /// Frames per window the model was trained with.
    #[getter]
    fn window_length(&self) -> usize {
        self.window_length
    }

    /// For a model of who did what to whom: `(slots, [(behaviour, "solo" | "directed")])`.
    #[getter]
    fn roles(&self) -> PyResult<Option<RoleSetup>> {
        let predictor = self.lock()?;
        Ok(predictor.info().roles.as_ref().map(|model| {
            let behaviours = model
                .behaviours
                .iter()
                .map(|(name, role)| {
                    let role = serde_json::json!(role);
                    (name.clone(), role.as_str().unwrap_or_default().to_string())
                })
                .collect();
            (model.slots, behaviours)
        }))
    }

    /// Who did what to whom: per agent and target (target `None` for solo behaviours) and
    /// behaviour, the probability per frame (float32, NaN where the agent or target is not
    /// tracked), as `behavert infer` writes them.
    #[pyo3(signature = (pose, stride=None, batch_size=16))]
    fn predict_role_tracks<'py>(
        &self,
        py: Python<'py>,
        pose: PoseArrays<'py>,
        stride: Option<usize>,
        batch_size: usize,
    ) -> PyResult<Vec<RoleTrack<'py>>> {
        let (pose, origin) = pose.into_pose()?;
        let options = InferOptions {
            stride,
            batch_size,
            embeddings: false,
        };
        let predictions = py
            .detach(|| {
                let predictor = self
                    .predictor
                    .lock()
                    .map_err(|_| anyhow::anyhow!("an earlier call using this model panicked"))?;
                predict_roles(&predictor, &pose, &origin, &options)
                    .map_err(|e| anyhow::Error::new(e).context(format!("cannot label {origin}")))
            })
            .map_err(raise)?;
        let names = &predictions.animals;
        Ok(predictions
            .tracks
            .into_iter()
            .map(|track| {
                (
                    names[track.agent].clone(),
                    track.target.map(|t| names[t].clone()),
                    predictions.behaviours[track.behaviour].0.clone(),
                    track.probability.into_pyarray(py),
                )
            })
            .collect())
    }

    /// `predictions.csv`'s columns for a pose, in its order: `(name, values)` pairs where
    /// values are a float32 array or a list of labels. `frame` and `time_s` are the caller's.
    #[pyo3(signature = (pose, stride=None, batch_size=16))]
    fn predict_columns<'py>(
        &self,
        py: Python<'py>,
        pose: PoseArrays<'py>,
        stride: Option<usize>,
        batch_size: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let (pose, origin) = pose.into_pose()?;
        let predictions = self.run(py, &pose, &origin, stride, batch_size, false)?;
        let names = prediction_columns(&self.heads);
        let mut names = names.into_iter().skip(2); // frame, time_s: the caller's
        let columns = PyList::empty(py);
        for (head, values) in self.heads.iter().zip(predictions.heads) {
            if head.kind() != HeadKind::Regression {
                let labels: Vec<String> = values
                    .rows()
                    .into_iter()
                    .map(|row| frame_label(head, row).unwrap_or_default())
                    .collect();
                columns.append((names.next(), labels))?;
            }
            for column in values.columns() {
                columns.append((names.next(), column.to_owned().into_pyarray(py)))?;
            }
        }
        Ok(columns)
    }

    /// The first head's bouts (multiclass heads): `(class, start, frames, mean probability)`.
    #[pyo3(signature = (pose, stride=None, batch_size=16))]
    fn predict_bouts(
        &self,
        py: Python<'_>,
        pose: PoseArrays<'_>,
        stride: Option<usize>,
        batch_size: usize,
    ) -> PyResult<Vec<(String, usize, usize, f64)>> {
        let Some(head) = self
            .heads
            .first()
            .filter(|h| h.kind() == HeadKind::Multiclass)
        else {
            return Err(raise(anyhow::anyhow!(
                "bouts: expected a model whose first head is multiclass, found {}",
                self.heads
                    .first()
                    .map_or("no head".to_string(), |h| format!("{:?}", h.kind()))
            )));
        };
        let (pose, origin) = pose.into_pose()?;
        let predictions = self.run(py, &pose, &origin, stride, batch_size, false)?;
        let names = head.output_names();
        let probabilities = &predictions.heads[0];
        let mut tracker = BoutTracker::default();
        let mut bouts: Vec<_> = probabilities
            .rows()
            .into_iter()
            .enumerate()
            .filter_map(|(frame, row)| tracker.push(frame, row))
            .collect();
        bouts.extend(tracker.finish(probabilities.nrows()));
        Ok(bouts
            .into_iter()
            .map(|b| {
                (
                    names[b.class].clone(),
                    b.start,
                    b.frames,
                    b.mean_probability,
                )
            })
            .collect())
    }

    /// Per-frame embeddings `[frames, hidden]` (float32), as `behavert embed` writes them.
    #[pyo3(signature = (pose, stride=None, batch_size=16))]
    fn embed<'py>(
        &self,
        py: Python<'py>,
        pose: PoseArrays<'py>,
        stride: Option<usize>,
        batch_size: usize,
    ) -> PyResult<Bound<'py, numpy::PyArray2<f32>>> {
        let (pose, origin) = pose.into_pose()?;
        let predictions = self.run(py, &pose, &origin, stride, batch_size, true)?;
        let embeddings = predictions
            .embeddings
            .ok_or_else(|| raise(anyhow::anyhow!("the predictor returned no embeddings")))?;
        Ok(embeddings.into_pyarray(py))
    }
}

impl Model {
    /// The predictor, for one call at a time.
    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, Predictor>> {
        self.predictor
            .lock()
            .map_err(|_| raise(anyhow::anyhow!("an earlier call using this model panicked")))
    }

    /// Every frame's outputs, computed without the GIL.
    fn run(
        &self,
        py: Python<'_>,
        pose: &Pose,
        origin: &str,
        stride: Option<usize>,
        batch_size: usize,
        embeddings: bool,
    ) -> PyResult<Predictions> {
        let options = InferOptions {
            stride,
            batch_size,
            embeddings,
        };
        py.detach(|| {
            let predictor = self
                .predictor
                .lock()
                .map_err(|_| anyhow::anyhow!("an earlier call using this model panicked"))?;
            if predictor.info().roles.is_some() {
                anyhow::bail!(
                    "this model labels who did what to whom (trained with data.roles): use \
                     Model.predict_roles"
                );
            }
            predictor
                .predict(pose, origin, &options)
                .map_err(|e| anyhow::Error::new(e).context(format!("cannot label {origin}")))
        })
        .map_err(raise)
    }
}

/// Writes a pose (a dict as `read_pose` gives) to `path` in `format` (`dlc-csv`, `dlc-h5`,
/// `sleap-h5`, `npy`), never over an existing file.
#[pyfunction]
fn write_pose(py: Python<'_>, pose: PoseArrays<'_>, path: PathBuf, format: &str) -> PyResult<()> {
    let format = format.parse::<Format>().map_err(raise)?;
    let (pose, _) = pose.into_pose()?;
    py.detach(|| formats::write(&pose, &path, format))
        .map_err(raise)
}

/// Runs a `behavert` command line (`["finetune", "--config", …]`) in this process, without
/// the GIL: training and evaluation from Python are exactly the command line's.
#[pyfunction]
fn run_command(py: Python<'_>, args: Vec<String>) -> PyResult<()> {
    let argv = std::iter::once("behavert".to_string()).chain(args);
    let cli = <behavert_cli::cli::Cli as clap::Parser>::try_parse_from(argv)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.render().to_string()))?;
    py.detach(|| behavert_cli::commands::run(cli))
        .map_err(raise)
}

/// A training config given as JSON (a Python dict) written as the TOML `--config` reads.
#[pyfunction]
fn config_toml(json: &str) -> PyResult<String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(raise)?;
    toml::to_string(&value).map_err(raise)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("BehavertError", m.py().get_type::<BehavertError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(read_pose, m)?)?;
    m.add_function(wrap_pyfunction!(write_pose, m)?)?;
    m.add_function(wrap_pyfunction!(run_command, m)?)?;
    m.add_function(wrap_pyfunction!(config_toml, m)?)?;
    m.add_class::<Model>()?;
    Ok(())
}
