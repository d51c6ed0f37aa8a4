//! How a run is configured ([`RunOptions`]) and the one gate every engine passes before
//! it starts anything ([`admit`]): shared by all engines so each applies the same
//! validation and the same safety policy.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::model::Topology;
use crate::policy::Grant;
use crate::validate;

use super::components::Factory;
use super::error::RunError;

/// How to run a topology.
#[derive(Clone)]
pub struct RunOptions {
    /// Seeds every random choice of the runtime (ids, shuffles, faults).
    pub seed: u64,
    /// Folder that relative paths in component settings resolve against (the topology
    /// file's folder).
    pub base_dir: PathBuf,
    /// Folders (or files) components may use besides `base_dir`, which is always
    /// allowed; relative ones resolve against the current folder.
    pub allowed_dirs: Vec<PathBuf>,
    /// May sources listen beyond loopback (and resolve host names)?
    pub allow_network: bool,
    /// May shell spouts and bolts run the programs they name?
    pub allow_exec: bool,
    /// The file the topology was read from, which its components may never write or
    /// consume (a spool folder or file sink pointing at it is refused).
    pub topology_file: Option<PathBuf>,
    /// Tuples per batch between two tasks.
    pub batch_size: usize,
    /// Batches an executor's queue holds before producers overflow.
    pub queue_batches: usize,
    /// Longest a partly filled batch waits before it is sent.
    pub flush_interval: Duration,
    /// Window for rates in snapshots.
    pub rate_window: Duration,
    /// Custom behaviour for named nodes (tests, embedding programs): replaces the
    /// built-in component of that node.
    pub overrides: BTreeMap<String, Factory>,
    /// Faults in force from the first tuple (`run --fault`), by node: set before any
    /// thread starts, so none slips through before they apply.
    pub faults: BTreeMap<String, super::control::FaultSpec>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            base_dir: PathBuf::from("."),
            allowed_dirs: Vec::new(),
            allow_network: false,
            allow_exec: false,
            topology_file: None,
            batch_size: 256,
            queue_batches: 64,
            flush_interval: Duration::from_millis(1),
            rate_window: Duration::from_secs(1),
            overrides: BTreeMap::new(),
            faults: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("seed", &self.seed)
            .field("base_dir", &self.base_dir)
            .field("allowed_dirs", &self.allowed_dirs)
            .field("allow_network", &self.allow_network)
            .field("allow_exec", &self.allow_exec)
            .field("batch_size", &self.batch_size)
            .field("overrides", &self.overrides.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl RunOptions {
    /// What these options allow the run to touch (see `crate::policy`).
    pub fn grant(&self) -> Grant {
        Grant::new(&self.base_dir)
            .allowing(&self.allowed_dirs)
            .with_network(self.allow_network)
            .with_exec(self.allow_exec)
            .protecting(self.topology_file.as_deref())
    }
}

/// The gate every engine passes before starting anything: the topology must be valid,
/// and everything it declares (paths, listening addresses) must be allowed. All
/// refusals are reported at once, so a user fixes or allows them in one go.
pub fn admit(topology: &Topology, options: &RunOptions) -> Result<Grant, RunError> {
    let diagnostics = validate::validate(topology);
    if !validate::is_runnable(&diagnostics) {
        return Err(RunError::Invalid(diagnostics));
    }
    let grant = options.grant();
    let refusals = crate::policy::check(topology, &grant);
    if !refusals.is_empty() {
        return Err(RunError::NotAllowed(refusals));
    }
    Ok(grant)
}
