//! The Spark Streaming operators of the palette, run by the micro-batch engine on a
//! manual clock: `reduce_by_key` and `count_by_value` reduce within each batch only,
//! `window` and `count_by_window` fire every slide over `(t − L, t]`, and `join` pairs
//! the same-time batches of two inputs. Validation refuses windows that are not
//! multiples of the batch interval, joins that do not name their inputs, and these
//! operators in record-at-a-time mode.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::collections::BTreeMap;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, unbounded};
use tributary::clock::ManualClock;
use tributary::model::{
    ExecutionMode, Grouping, Node, Role, StreamDecl, Topology, WindowSize, WindowSpec,
};
use tributary::runtime::{
    Behaviour, Emitter, Engine, Factory, RunError, RunOptions, Spout, StopMode, TaskInfo, Val,
    Values,
};
use tributary::validate::{Diagnostic, Location, validate};

mod common;
use common::wait_for;

const SECOND: ExecutionMode = ExecutionMode::MicroBatch { interval_ms: 1000 };

/// A spout that emits exactly the records the test sends it.
struct Fed(Receiver<Values>);

impl Spout for Fed {
    fn next_tuple(&mut self, out: &mut Emitter) -> bool {
        match self.0.try_recv() {
            Ok(values) => {
                out.emit(values);
                true
            }
            Err(_) => false,
        }
    }
}

/// A running micro-batch engine whose spouts the test feeds by hand.
struct Harness {
    engine: Engine,
    clock: Arc<ManualClock>,
    feeds: BTreeMap<String, Sender<Values>>,
    batches: u64,
}

impl Harness {
    fn start(t: &Topology, spouts: &[&str]) -> Harness {
        let mut overrides = BTreeMap::new();
        let mut feeds = BTreeMap::new();
        for spout in spouts {
            let (tx, rx) = unbounded();
            let factory: Factory =
                Arc::new(move |_: &TaskInfo| Ok(Behaviour::Spout(Box::new(Fed(rx.clone())))));
            overrides.insert(spout.to_string(), factory);
            feeds.insert(spout.to_string(), tx);
        }
        let clock = Arc::new(ManualClock::new(0));
        let options = RunOptions {
            overrides,
            ..RunOptions::default()
        };
        let engine = Engine::start_with_clock(t, options, clock.clone()).unwrap();
        Harness {
            engine,
            clock,
            feeds,
            batches: 0,
        }
    }

    /// Sends records to a spout and waits until its receiver has buffered them.
    fn send(&self, spout: &str, records: Vec<Values>) {
        let before = self.engine.snapshot().nodes[spout].emitted;
        let want = before + records.len() as u64;
        for r in records {
            self.feeds[spout].send(r).unwrap();
        }
        wait_for("the receiver to buffer", || {
            self.engine.snapshot().nodes[spout].emitted == want
        });
    }

    /// Feeds one batch (records arrive in its middle), runs it, and returns what the
    /// collector `out` received from this batch.
    fn batch(&mut self, records: &[(&str, Vec<Values>)]) -> Vec<Vec<String>> {
        let before = self.engine.collected("out").len();
        let start = self.batches * 1000;
        self.clock.set(start + 500);
        for (spout, rs) in records {
            self.send(spout, rs.clone());
        }
        self.batches += 1;
        self.clock.set(start + 1000);
        let want = self.batches;
        wait_for("the batch", || {
            self.engine
                .snapshot()
                .batch
                .is_some_and(|b| b.batches_completed >= want)
        });
        self.engine.collected("out")[before..]
            .iter()
            .map(|v| v.to_vec().iter().map(|x| x.to_string()).collect())
            .collect()
    }
}

fn words(text: &str) -> Vec<Values> {
    text.split_whitespace()
        .map(|w| Values::One(Val::str(w)))
        .collect()
}

/// `key=value` pairs as two-field records.
fn pairs(text: &str) -> Vec<Values> {
    text.split_whitespace()
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            let v = v
                .parse::<i64>()
                .map(Val::Int)
                .unwrap_or_else(|_| Val::str(v));
            Values::two(Val::str(k), v)
        })
        .collect()
}

fn rows(expected: &[&str]) -> Vec<Vec<String>> {
    expected
        .iter()
        .map(|r| r.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// A spout the tests replace with a [`Fed`] one (a stand-in takes any fields).
fn fed_spout(name: &str) -> Node {
    Node::new(name, Role::Spout, "stand_in").with_config("class", "test.Fed")
}

/// `source` (fields) → `op` → `out` (collector), with 1 s batches.
fn pipeline(source_fields: &[&str], op: Node) -> Topology {
    let mut t = Topology::new("spark-op");
    t.settings.mode = SECOND;
    t.add_node(fed_spout("source").with_output(StreamDecl::default_stream(source_fields)))
        .unwrap();
    let name = op.name.clone();
    t.add_node(op).unwrap();
    t.add_node(Node::new("out", Role::Bolt, "collector"))
        .unwrap();
    t.connect_names("source", &name, "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names(&name, "out", "default", Grouping::Shuffle)
        .unwrap();
    t
}

fn window_of(length_ms: u64, slide_ms: u64) -> Option<WindowSpec> {
    Some(WindowSpec {
        length: WindowSize::Millis(length_ms),
        slide: WindowSize::Millis(slide_ms),
    })
}

fn windowed(component: &str, fields: &[&str], length_ms: u64, slide_ms: u64) -> Node {
    let mut n =
        Node::new("op", Role::Bolt, component).with_output(StreamDecl::default_stream(fields));
    n.window = window_of(length_ms, slide_ms);
    n
}

#[test]
fn reduce_by_key_reduces_within_each_batch_only() {
    let count = Node::new("op", Role::Bolt, "reduce_by_key")
        .with_config("key", "word")
        .with_output(StreamDecl::default_stream(&["word", "value"]));
    let mut h = Harness::start(&pipeline(&["word"], count), &["source"]);
    assert_eq!(
        h.batch(&[("source", words("b a b a a"))]),
        rows(&["a 3", "b 2"])
    );
    // Not cumulative: the second batch counts only its own records.
    assert_eq!(h.batch(&[("source", words("b"))]), rows(&["b 1"]));
    assert_eq!(h.batch(&[]), rows(&[]));
    h.engine.stop(StopMode::Immediate);

    for (reduce, expected) in [
        ("sum", ["x 9", "y 4"]),
        ("min", ["x 2", "y 4"]),
        ("max", ["x 7", "y 4"]),
    ] {
        let op = Node::new("op", Role::Bolt, "reduce_by_key")
            .with_config("key", "k")
            .with_config("field", "v")
            .with_config("reduce", reduce)
            .with_output(StreamDecl::default_stream(&["k", "value"]));
        let mut h = Harness::start(&pipeline(&["k", "v"], op), &["source"]);
        assert_eq!(
            h.batch(&[("source", pairs("x=2 y=4 x=7"))]),
            rows(&expected),
            "{reduce}"
        );
        assert_eq!(h.batch(&[("source", pairs("x=1"))]), rows(&["x 1"]));
        h.engine.stop(StopMode::Immediate);
    }
}

#[test]
fn reduce_by_key_fails_records_it_cannot_reduce() {
    let op = Node::new("op", Role::Bolt, "reduce_by_key")
        .with_config("key", "k")
        .with_config("field", "v")
        .with_config("reduce", "sum")
        .with_output(StreamDecl::default_stream(&["k", "value"]));
    let mut h = Harness::start(&pipeline(&["k", "v"], op), &["source"]);
    assert_eq!(
        h.batch(&[("source", pairs("x=2 x=oops x=3"))]),
        rows(&["x 5"])
    );
    let s = h.engine.stop(StopMode::Immediate);
    assert_eq!((s.nodes["op"].executed, s.nodes["op"].failed), (3, 1));
}

#[test]
fn count_by_value_counts_each_batch() {
    let op = Node::new("op", Role::Bolt, "count_by_value")
        .with_config("field", "word")
        .with_output(StreamDecl::default_stream(&["word", "count"]));
    let mut h = Harness::start(&pipeline(&["word"], op), &["source"]);
    assert_eq!(
        h.batch(&[("source", words("c a c b c"))]),
        rows(&["a 1", "b 1", "c 3"])
    );
    assert_eq!(h.batch(&[("source", words("a a"))]), rows(&["a 2"]));
    h.engine.stop(StopMode::Immediate);
}

#[test]
fn window_re_emits_every_record_of_the_window_each_slide() {
    // Length 3 batches, slide 1: a window closes after every batch.
    let mut h = Harness::start(
        &pipeline(&["word"], windowed("window", &["word"], 3000, 1000)),
        &["source"],
    );
    assert_eq!(h.batch(&[("source", words("a"))]), rows(&["a"]));
    assert_eq!(h.batch(&[("source", words("b c"))]), rows(&["a", "b", "c"]));
    assert_eq!(h.batch(&[]), rows(&["a", "b", "c"]));
    // Batch 1 has left the window (4000 − 3000, 4000].
    assert_eq!(h.batch(&[("source", words("d"))]), rows(&["b", "c", "d"]));
    assert_eq!(h.batch(&[]), rows(&["d"]));
    h.engine.stop(StopMode::Immediate);

    // Length 3, slide 2: windows close after batches 2, 4, 6.
    let mut h = Harness::start(
        &pipeline(&["word"], windowed("window", &["word"], 3000, 2000)),
        &["source"],
    );
    assert_eq!(h.batch(&[("source", words("a"))]), rows(&[]));
    assert_eq!(h.batch(&[("source", words("b"))]), rows(&["a", "b"]));
    assert_eq!(h.batch(&[("source", words("c"))]), rows(&[]));
    assert_eq!(h.batch(&[("source", words("d"))]), rows(&["b", "c", "d"]));
    h.engine.stop(StopMode::Immediate);
}

#[test]
fn count_by_window_counts_records_in_each_window() {
    let op = windowed("count_by_window", &["count", "window_end_ms"], 3000, 2000);
    let mut h = Harness::start(&pipeline(&["word"], op), &["source"]);
    assert_eq!(h.batch(&[("source", words("a b"))]), rows(&[]));
    // The first window is partial: batches 1–2.
    assert_eq!(h.batch(&[("source", words("c"))]), rows(&["3 2000"]));
    assert_eq!(h.batch(&[("source", words("d e f g"))]), rows(&[]));
    // Batches 2–4.
    assert_eq!(h.batch(&[]), rows(&["5 4000"]));
    assert_eq!(h.batch(&[]), rows(&[]));
    // Batches 4–6.
    assert_eq!(h.batch(&[("source", words("h"))]), rows(&["1 6000"]));
    let s = h.engine.stop(StopMode::Immediate);
    let latest = &s.batch.unwrap().windows["op"];
    assert_eq!(latest.window_end_ms, 6000);
    assert_eq!(latest.top, [("count".to_string(), 1.0)]);
    assert_eq!(latest.batches, 3);
}

/// views (user, page) and clicks (user, ad) joined on user.
fn views_and_clicks() -> Topology {
    let mut t = Topology::new("join");
    t.settings.mode = SECOND;
    t.add_node(fed_spout("views").with_output(StreamDecl::default_stream(&["user", "page"])))
        .unwrap();
    t.add_node(fed_spout("clicks").with_output(StreamDecl::default_stream(&["ad", "user"])))
        .unwrap();
    t.add_node(
        Node::new("joined", Role::Bolt, "join")
            .with_config("left", "views")
            .with_config("right", "clicks")
            .with_config("key", "user")
            .with_output(StreamDecl::default_stream(&["user", "page", "ad"])),
    )
    .unwrap();
    t.add_node(Node::new("out", Role::Bolt, "collector"))
        .unwrap();
    for from in ["views", "clicks"] {
        t.connect_names(from, "joined", "default", Grouping::Shuffle)
            .unwrap();
    }
    t.connect_names("joined", "out", "default", Grouping::Shuffle)
        .unwrap();
    t
}

/// `ad=user` pairs: the clicks stream has its key second.
fn clicks(text: &str) -> Vec<Values> {
    pairs(text)
}

#[test]
fn join_pairs_the_same_time_batches_of_two_streams() {
    let t = views_and_clicks();
    assert_eq!(validate(&t), Vec::<Diagnostic>::new());
    let mut h = Harness::start(&t, &["views", "clicks"]);
    assert_eq!(
        h.batch(&[
            ("views", pairs("u1=home u2=cart u1=shop u3=help")),
            ("clicks", clicks("ad7=u1 ad8=u2 ad9=u1")),
        ]),
        rows(&[
            "u1 home ad7",
            "u1 home ad9",
            "u2 cart ad8",
            "u1 shop ad7",
            "u1 shop ad9",
        ])
    );
    // u1 viewed in batch 1 and clicks in batch 2: batches of different times never meet.
    assert_eq!(
        h.batch(&[
            ("views", pairs("u2=home")),
            ("clicks", clicks("ad1=u1 ad2=u2")),
        ]),
        rows(&["u2 home ad2"])
    );
    assert_eq!(h.batch(&[("views", pairs("u1=x"))]), rows(&[]));
    let s = h.engine.stop(StopMode::Immediate);
    assert_eq!(s.nodes["joined"].executed, 11);
    assert_eq!(s.nodes["joined"].emitted, 6);
}

fn errors_at(t: &Topology, node: &str) -> Vec<String> {
    validate(t)
        .into_iter()
        .filter(|d| d.is_error() && d.location == Location::Node(node.to_string()))
        .map(|d| format!("{} | {}", d.message, d.hint))
        .collect()
}

fn has(errors: &[String], text: &str) -> bool {
    errors.iter().any(|e| e.contains(text))
}

#[test]
fn windows_must_be_multiples_of_the_batch_interval() {
    for component in ["window", "count_by_window"] {
        let fields: &[&str] = if component == "window" {
            &["word"]
        } else {
            &["count", "window_end_ms"]
        };
        let ok = pipeline(&["word"], windowed(component, fields, 3000, 1000));
        assert_eq!(errors_at(&ok, "op"), Vec::<String>::new(), "{component}");
        let bad = pipeline(&["word"], windowed(component, fields, 2500, 1000));
        let errors = errors_at(&bad, "op");
        assert!(
            has(&errors, "not a multiple of the 1000 ms batch interval"),
            "{component}: {errors:?}"
        );
        let bad_slide = pipeline(&["word"], windowed(component, fields, 3000, 1500));
        assert!(has(
            &errors_at(&bad_slide, "op"),
            "not a multiple of the 1000 ms batch interval"
        ));
        let mut counted = windowed(component, fields, 3000, 1000);
        counted.window = Some(WindowSpec {
            length: WindowSize::Count(10),
            slide: WindowSize::Count(5),
        });
        assert!(has(
            &errors_at(&pipeline(&["word"], counted), "op"),
            "count-based window"
        ));
        let mut none = windowed(component, fields, 3000, 1000);
        none.window = None;
        assert!(has(
            &errors_at(&pipeline(&["word"], none), "op"),
            "without a window"
        ));
        // The engine refuses what validation refuses, naming the node.
        match Engine::start(&bad, RunOptions::default()) {
            Err(RunError::Invalid(ds)) => assert!(ds.iter().any(|d| d.location.nodes() == ["op"])),
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("started with a bad window"),
        }
    }
}

#[test]
fn join_must_name_two_real_upstreams_sharing_the_key() {
    let edit = |f: &dyn Fn(&mut Topology)| {
        let mut t = views_and_clicks();
        f(&mut t);
        errors_at(&t, "joined")
    };
    let set = |t: &mut Topology, key: &str, value: &str| {
        t.node_by_name_mut("joined")
            .unwrap()
            .config
            .insert(key.into(), value.into());
    };
    let e = edit(&|t| set(t, "left", ""));
    assert!(has(&e, "join names no left input"), "{e:?}");
    assert!(has(&e, "upstream nodes: 'clicks', 'views'"), "{e:?}");
    assert!(has(&e, "'views' feeds this join but is neither"), "{e:?}");
    let e = edit(&|t| set(t, "right", "nowhere"));
    assert!(
        has(
            &e,
            "'right' names 'nowhere', but there is no node of that name"
        ),
        "{e:?}"
    );
    let e = edit(&|t| {
        t.add_node(fed_spout("other").with_output(StreamDecl::default_stream(&["user"])))
            .unwrap();
        t.connect_names("other", "out", "default", Grouping::Shuffle)
            .unwrap();
        set(t, "right", "other");
    });
    assert!(
        has(&e, "'right' names 'other', which does not feed this join"),
        "{e:?}"
    );
    let e = edit(&|t| set(t, "right", "views"));
    assert!(has(&e, "left and right are both 'views'"), "{e:?}");
    let e = edit(&|t| {
        t.add_node(fed_spout("third").with_output(StreamDecl::default_stream(&["user"])))
            .unwrap();
        t.connect_names("third", "joined", "default", Grouping::Shuffle)
            .unwrap();
    });
    assert!(
        has(
            &e,
            "'third' feeds this join but is neither its left nor its right input"
        ),
        "{e:?}"
    );
    // An unset key is the default, `key`, which neither side has.
    let e = edit(&|t| {
        t.node_by_name_mut("joined").unwrap().config.remove("key");
    });
    assert!(has(&e, "join key 'key' is not a field of 'views'"), "{e:?}");
    let e = edit(&|t| set(t, "key", "page"));
    assert!(
        has(
            &e,
            "join key 'page' is not a field of 'clicks' | 'clicks' emits: ad, user"
        ),
        "{e:?}"
    );
    let e = edit(&|t| {
        t.node_by_name_mut("joined").unwrap().outputs =
            vec![StreamDecl::default_stream(&["user", "ad", "page"])];
    });
    assert!(
        has(
            &e,
            "the join emits (user, page, ad) but the node declares (user, ad, page)"
        ),
        "{e:?}"
    );
    let e = edit(&|t| {
        t.node_by_name_mut("clicks").unwrap().outputs =
            vec![StreamDecl::default_stream(&["page", "user"])];
    });
    assert!(
        has(&e, "'views' and 'clicks' both have a field 'page'"),
        "{e:?}"
    );
}

#[test]
fn batch_only_operators_refuse_record_at_a_time_mode() {
    let mut t = views_and_clicks();
    t.settings.mode = ExecutionMode::RecordAtATime;
    let e = errors_at(&t, "joined");
    assert!(
        has(
            &e,
            "'join' is a Spark Streaming operator and runs only in micro-batch mode"
        ),
        "{e:?}"
    );
    assert!(matches!(
        Engine::start(&t, RunOptions::default()),
        Err(RunError::Invalid(_))
    ));
    for component in ["reduce_by_key", "count_by_value"] {
        let mut t = pipeline(
            &["word"],
            Node::new("op", Role::Bolt, component)
                .with_output(StreamDecl::default_stream(&["word", "n"])),
        );
        assert_eq!(errors_at(&t, "op"), Vec::<String>::new(), "{component}");
        t.settings.mode = ExecutionMode::RecordAtATime;
        assert!(has(&errors_at(&t, "op"), "runs only in micro-batch mode"));
    }
    // count_by_key and window_aggregate run in both modes.
    let mut t = pipeline(
        &["word"],
        Node::new("op", Role::Bolt, "count_by_key")
            .with_output(StreamDecl::default_stream(&["word", "count"])),
    );
    t.settings.mode = ExecutionMode::RecordAtATime;
    assert_eq!(errors_at(&t, "op"), Vec::<String>::new());
}
