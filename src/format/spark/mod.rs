//! A design as a self-contained PySpark Structured Streaming job: `plan` judges every
//! node (mapped, mapped with a caveat, or refused), `emit` writes the Python (`queries`
//! its streaming queries), and
//! `prelude.py` carries the helpers every job needs, the seeded generators' exact port
//! among them.

mod caveats;
mod emit;
mod plan;
mod python;
mod queries;

pub use emit::PYSPARK_VERSION;
pub use plan::{Note, NoteKind, Plan, review};

use crate::model::Topology;

/// The job's Python text, or every refusal (each naming its node).
pub fn export(topology: &Topology) -> Result<String, Vec<String>> {
    let plan = review(topology);
    let refusals: Vec<String> = plan.refusals().map(Note::message).collect();
    if !refusals.is_empty() {
        return Err(refusals);
    }
    Ok(emit::script(topology, &plan))
}
