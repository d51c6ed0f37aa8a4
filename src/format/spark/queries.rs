//! The job's streaming queries and `main`. Every input of a sink gets a query of its
//! own (a sink only writes rows, so this is the union Tributary's sink sees). A query
//! whose rows come from a per-batch operator reads the raw streams it needs as one
//! tagged stream and computes the per-batch part inside `foreachBatch`, once per batch.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::plan::{Plan, Step};
use super::python::{comment_text, literal};

pub fn queries(out: &mut String, plan: &Plan, id: &dyn Fn(&str) -> String) {
    let mut starts = Vec::new();
    for sink in plan.steps.iter().filter(|s| s.op.is_sink()) {
        for (n, input) in sink.inputs.iter().enumerate() {
            let Some(feeder) = plan.step(&input.from) else {
                continue;
            };
            let function = format!("query_{}_{}", id(&sink.name), n + 1);
            let label = if sink.inputs.len() == 1 {
                sink.name.clone()
            } else {
                format!("{} from {}", sink.name, input.from)
            };
            let _ = writeln!(
                out,
                "\n\ndef {function}(spark):\n    # The streaming query that feeds '{}' from '{}'.",
                comment_text(&sink.name),
                comment_text(&input.from)
            );
            let mut upstream = ancestors(plan, &feeder.name);
            upstream.insert(feeder.name.clone());
            if feeder.per_batch {
                per_batch_query(out, plan, &upstream, sink, feeder, id);
            } else {
                streaming_query(out, plan, &upstream, sink, feeder, id);
            }
            starts.push(format!("({}, {function})", literal(&label)));
        }
    }
    let _ = write!(
        out,
        "\n\nQUERIES = [{}]\n\n\ndef run(spark, checkpoint=None):\n    \"\"\"Starts every query and waits until they end.\"\"\"\n    spark.conf.set(\"spark.sql.shuffle.partitions\", str(PARTITIONS))\n    start_queries(spark, QUERIES, checkpoint, TRIGGER)\n\n\ndef main(argv):\n    args = arguments(argv)\n    spark = session(args)\n    try:\n        run(spark, args.checkpoint)\n    finally:\n        spark.stop()\n\n\nif __name__ == \"__main__\":\n    main(sys.argv[1:])\n",
        starts.join(", ")
    );
}

/// `    x = node_x(inputs…)` for one step.
fn call(step: &Step, indent: &str, id: &dyn Fn(&str) -> String) -> String {
    let args: Vec<String> = if step.inputs.is_empty() {
        vec!["spark".into()]
    } else {
        step.inputs.iter().map(|i| id(&i.from)).collect()
    };
    format!(
        "{indent}{} = node_{}({})\n",
        id(&step.name),
        id(&step.name),
        args.join(", ")
    )
}

fn streaming_query(
    out: &mut String,
    plan: &Plan,
    upstream: &BTreeSet<String>,
    sink: &Step,
    feeder: &Step,
    id: &dyn Fn(&str) -> String,
) {
    let mut update = false;
    for step in plan.steps.iter().filter(|s| upstream.contains(&s.name)) {
        out.push_str(&call(step, "    ", id));
        update |= step.op.is_aggregation();
    }
    let _ = writeln!(
        out,
        "    df, write = node_{}({})\n    return df.writeStream.outputMode({}).foreachBatch(write)",
        id(&sink.name),
        id(&feeder.name),
        if update { "\"update\"" } else { "\"append\"" }
    );
}

fn per_batch_query(
    out: &mut String,
    plan: &Plan,
    upstream: &BTreeSet<String>,
    sink: &Step,
    feeder: &Step,
    id: &dyn Fn(&str) -> String,
) {
    let steps: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| upstream.contains(&s.name))
        .collect();
    // The raw streams the per-batch part reads.
    let frontier: BTreeSet<&str> = steps
        .iter()
        .filter(|s| s.per_batch)
        .flat_map(|s| s.inputs.iter().map(|i| i.from.as_str()))
        .filter(|from| plan.step(from).is_some_and(|f| !f.per_batch))
        .collect();
    for step in steps.iter().filter(|s| !s.per_batch) {
        out.push_str(&call(step, "    ", id));
    }
    let entries: Vec<String> = frontier
        .iter()
        .map(|f| format!("{}: {}", literal(f), id(f)))
        .collect();
    let _ = writeln!(
        out,
        "    streams = {{{}}}\n\n    def each_batch(batch, batch_id):\n        # One micro-batch: the per-batch operators and what follows them.",
        entries.join(", ")
    );
    for f in &frontier {
        let _ = writeln!(
            out,
            "        {} = unpack(batch, streams, {})",
            id(f),
            literal(f)
        );
    }
    for step in steps.iter().filter(|s| s.per_batch) {
        out.push_str(&call(step, "        ", id));
    }
    let _ = writeln!(
        out,
        "        rows, write = node_{}({})\n        write(rows, batch_id)\n\n    return pack(streams).writeStream.outputMode(\"append\").foreachBatch(each_batch)",
        id(&sink.name),
        id(&feeder.name)
    );
}

/// Names of the nodes `name` reads from, directly or not.
fn ancestors(plan: &Plan, name: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut todo = vec![name.to_string()];
    while let Some(n) = todo.pop() {
        if let Some(step) = plan.step(&n) {
            for i in &step.inputs {
                if found.insert(i.from.clone()) {
                    todo.push(i.from.clone());
                }
            }
        }
    }
    found
}
