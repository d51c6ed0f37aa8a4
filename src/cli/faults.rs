//! `run --fault NODE:fail=P[,latency=MS][,crash=P]`: the faults the designer's inspector
//! injects, given on the command line, so a run with faults can be repeated exactly
//! (same file, same seed, same faults). Parsing and checking live here; the run applies
//! them with the same `Control::SetFaults` the inspector sends.

use std::time::Duration;

use tributary::model::Topology;
use tributary::runtime::FaultSpec;

/// One `--fault` argument: the node and its faults.
pub fn parse_fault(text: &str) -> Result<(String, FaultSpec), String> {
    let (node, spec) = text.split_once(':').ok_or_else(|| {
        format!("expected NODE:fail=P[,latency=MS][,crash=P], such as split:fail=0.1, got {text}")
    })?;
    let node = node.trim();
    if node.is_empty() {
        return Err(format!("no node named before ':' in {text}"));
    }
    let mut faults = FaultSpec::default();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("expected KEY=VALUE, got {part}"))?;
        let number: f64 = value
            .trim()
            .parse()
            .map_err(|_| format!("{key}: not a number: {value}"))?;
        let probability = || {
            if (0.0..=1.0).contains(&number) {
                Ok(number)
            } else {
                Err(format!("{key}={value}: a probability is between 0 and 1"))
            }
        };
        match key.trim() {
            "fail" => faults.fail_probability = probability()?,
            "crash" => faults.crash_probability = probability()?,
            "latency" if (0.0..=60_000.0).contains(&number) => {
                faults.added_latency = Duration::from_secs_f64(number / 1000.0);
            }
            "latency" => return Err(format!("latency={value}: milliseconds from 0 to 60000")),
            other => {
                return Err(format!(
                    "unknown fault '{other}' (use fail, latency or crash)"
                ));
            }
        }
    }
    if !faults.is_active() {
        return Err(format!("{text} sets no fault"));
    }
    Ok((node.to_string(), faults))
}

/// Refuses faults on nodes the topology lacks, naming the nodes it has.
pub fn check_nodes(topology: &Topology, faults: &[(String, FaultSpec)]) -> Result<(), String> {
    let unknown: Vec<&str> = faults
        .iter()
        .map(|(node, _)| node.as_str())
        .filter(|node| topology.node_by_name(node).is_none())
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let mut names: Vec<&str> = topology.nodes().map(|n| n.name.as_str()).collect();
    names.sort_unstable();
    Err(format!(
        "--fault names no node of this topology: {} (its nodes: {})",
        unknown.join(", "),
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_reads_and_bad_ones_say_why() {
        let (node, f) = parse_fault("split:fail=0.2,latency=5,crash=0.01").unwrap();
        assert_eq!(node, "split");
        assert_eq!(f.fail_probability, 0.2);
        assert_eq!(f.added_latency, Duration::from_millis(5));
        assert_eq!(f.crash_probability, 0.01);
        for (bad, why) in [
            ("split", "expected NODE:"),
            (":fail=0.1", "no node"),
            ("split:fail=1.5", "between 0 and 1"),
            ("split:crash=-0.1", "between 0 and 1"),
            ("split:fail=lots", "not a number"),
            ("split:slow=1", "unknown fault"),
            ("split:fail=0", "sets no fault"),
            ("split:latency=99999999", "milliseconds"),
        ] {
            let err = parse_fault(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
