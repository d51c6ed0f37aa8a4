# ---------------------------------------------------------------------------
# Helpers shared by every exported job. The generators below are Tributary's seeded
# generators ported exactly (SplitMix64, xoshiro256++ and the same draws), so a
# generator with the same seed yields the same records in the same order.
# ---------------------------------------------------------------------------
import argparse
import decimal
import math
import os
import sys
import tempfile
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

MASK64 = (1 << 64) - 1
BASE = os.path.dirname(os.path.abspath(__file__))
# Processing time is measured from here, as Tributary measures it from the run's start.
START_MS = int(time.time() * 1000)


def splitmix64(state):
    """One SplitMix64 output from `state`."""
    z = (state + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def derive_seed(seed, purpose):
    """The sub-seed of one task of a generator."""
    return splitmix64((seed ^ ((purpose * 0xD6E8FEB86659FD93) & MASK64)) & MASK64)


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK64


class Xoshiro256pp:
    """xoshiro256++ seeded with four SplitMix64 steps, as Tributary seeds it."""

    def __init__(self, seed):
        s = []
        x = seed & MASK64
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            s.append(z ^ (z >> 31))
        self.s = s

    def next_u64(self):
        s = self.s
        result = (_rotl((s[0] + s[3]) & MASK64, 23) + s[0]) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def below(self, n):
        return ((self.next_u64() >> 32) * n) >> 32


SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo",
             "ba", "de", "fu", "go", "hi", "ju", "ke", "pa"]


def vocabulary_word(i):
    """Word number `i` of the built-in vocabulary."""
    w, digits = [], 0
    while i > 0 or digits < 2:
        w.append(SYLLABLES[i % 16])
        i //= 16
        digits += 1
    return "".join(w)


def sentence_pool(seed, vocabulary, words):
    vocabulary = max(vocabulary, 1)
    words = max(words, 1)
    size = min(max((1 << 20) // (words * 8), 1), 4096)
    rng = Xoshiro256pp(seed)
    return [" ".join(vocabulary_word(rng.below(vocabulary)) for _ in range(words))
            for _ in range(size)]


def pick(task_seed, k, n):
    """Which of `n` entries message `k` of a task gets: a pure function of (seed, k)."""
    mixed = splitmix64((task_seed ^ ((k * 0x9E3779B97F4A7C15) & MASK64)) & MASK64)
    return ((mixed >> 32) * n) >> 32


def sentence_records(seed, vocabulary, words, tasks):
    """Record `v` of the rate source is message v // tasks of task v % tasks."""
    pool = sentence_pool(seed, vocabulary, words)
    seeds = [derive_seed(seed, i) for i in range(tasks)]
    return lambda v: pool[pick(seeds[v % tasks], v // tasks, len(pool))]


def word_records(seed, vocabulary, tasks):
    vocabulary = max(vocabulary, 1)
    seeds = [derive_seed(seed, i) for i in range(tasks)]
    return lambda v: vocabulary_word(pick(seeds[v % tasks], v // tasks, vocabulary))


def generated(spark, total, rows_per_sec, partitions):
    """A generator over Spark's rate source: row `_v` is the generator's record number.
    A finite generator (`total` records) is one micro-batch of exactly that many rows."""
    if total is not None:
        df = (spark.readStream.format("rate-micro-batch")
              .option("rowsPerBatch", max(total, 1))
              .option("numPartitions", partitions).load())
        df = df.filter(F.col("value") < total)
    else:
        df = (spark.readStream.format("rate")
              .option("rowsPerSecond", max(int(rows_per_sec), 1))
              .option("numPartitions", partitions).load())
    return df.select(F.col("value").alias("_v"))


def file_lines(spark, path):
    """Spark's text file source over the file's folder, reading that one file."""
    target = resolve(path)
    folder, name = os.path.split(target)
    pattern = "".join("\\" + c if c in "[]{}*?\\" else c for c in name)
    return spark.readStream.option("pathGlobFilter", pattern).text(folder or ".")


def union_all(frames):
    """The inputs of a node with several, as one stream; columns whose types differ
    become text, as Tributary's values are whatever each input sent."""
    first = frames[0]
    if len(frames) == 1:
        return first
    types = [dict(f.dtypes) for f in frames]
    columns = first.columns
    cast = [c for c in columns if len({t.get(c) for t in types}) > 1]
    out = None
    for f in frames:
        f = f.select([F.col(c).cast("string").alias(c) if c in cast else F.col(c) for c in columns])
        out = f if out is None else out.unionByName(f)
    return out


def pack(streams):
    """Several streams as one, each row as JSON tagged with its node, so one query (and
    one `foreachBatch`) sees the same micro-batch of all of them."""
    out = None
    for name, df in streams.items():
        tagged = df.select(F.lit(name).alias("_from"),
                           F.to_json(F.struct(*[F.col(c) for c in df.columns])).alias("_row"))
        out = tagged if out is None else out.unionByName(tagged)
    return out


def unpack(batch, streams, name):
    """One node's rows of a packed micro-batch, with their columns again."""
    rows = batch.filter(F.col("_from") == name)
    return rows.select(F.from_json("_row", streams[name].schema).alias("_r")).select("_r.*")


def renamed(df, fields):
    """The node's declared field names, when there are as many as columns."""
    return df.toDF(*fields) if len(fields) == len(df.columns) else df


def trimmed(column):
    """Whitespace cut from both ends, as Rust's `trim` cuts it."""
    return F.regexp_replace(column, r"(?U)^\s+|\s+$", "")


def mapped(column, op, arg):
    """Tributary's map operations as column expressions."""
    text = column.cast("string")
    if op == "uppercase":
        return F.upper(text)
    if op == "lowercase":
        return F.lower(text)
    if op == "trim":
        return trimmed(text)
    if op == "length":
        return F.char_length(text).cast("long")
    if op == "reverse":
        return F.reverse(text)
    if op == "prefix":
        return F.concat(F.lit(arg), text)
    if op == "suffix":
        return F.concat(text, F.lit(arg))
    if op == "replace":
        source, sep, target = arg.partition("=>")
        if sep and source:
            return F.replace(text, F.lit(source), F.lit(target))
    return column


def passes(column, op, value, number):
    """Tributary's filter: numbers compare numerically when both sides are numbers
    (`number` is the value as one, or None), text compares byte by byte otherwise."""
    text = column.cast("string")
    if op == "contains":
        return text.contains(value)
    if op == "starts_with":
        return text.startswith(value)
    if op == "ends_with":
        return text.endswith(value)
    if op not in ("eq", "ne", "gt", "ge", "lt", "le"):
        return column.isNotNull() & (text != "")
    as_number = F.trim(text).try_cast("double")

    def compare(a, b):
        return {"eq": a == b, "ne": a != b, "gt": a > b, "ge": a >= b,
                "lt": a < b, "le": a <= b}[op]

    if number is None:
        return compare(text, F.lit(value))
    return F.when(as_number.isNotNull(), compare(as_number, F.lit(number))).otherwise(
        compare(text, F.lit(value)))


def show(v):
    """A value as Tributary's file sink and logger print it (Rust's formatting: floats
    in their shortest exact digits, never in exponent form)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v == int(v):
            return "-0" if v == 0 and math.copysign(1.0, v) < 0 else str(int(v))
        text = repr(v)
        return format(decimal.Decimal(text), "f") if "e" in text else text
    return str(v)


def resolve(path):
    """Paths resolve relative to this script, as Tributary resolves them relative to the
    topology file."""
    return path if os.path.isabs(path) else os.path.join(BASE, path)


def append_lines(path, batch_df):
    """Appends one tab-separated line per row, as Tributary's file sink does."""
    rows = batch_df.collect()
    if not rows:
        return
    target = resolve(path)
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    with open(target, "a", encoding="utf-8") as out:
        for row in rows:
            out.write("\t".join(show(v) for v in row) + "\n")
        out.flush()
        os.fsync(out.fileno())


def log_rows(node, max_bytes, batch_df):
    """Prints one line per row, cut at `max_bytes` as Tributary's logger cuts it."""
    for row in batch_df.collect():
        text = ", ".join(show(v) for v in row)
        data = text.encode("utf-8")
        if len(data) > max_bytes:
            text = data[:max_bytes].decode("utf-8", errors="ignore") + "\u2026"
        print(f"[{node}] {text}", flush=True)


def with_copies(df, copies):
    """Storm's all grouping: every task of the consumer gets its own copy."""
    if copies <= 1:
        return df
    return df.withColumn("_copy", F.explode(F.sequence(F.lit(1), F.lit(copies)))).drop("_copy")


def window_end_ms(column):
    """A window's end in milliseconds since the job started, as Tributary reports it."""
    return (F.unix_millis(column.end) - F.lit(START_MS)).cast("long")


def session(args):
    builder = SparkSession.builder.appName(JOB_NAME).config(
        "spark.ui.showConsoleProgress", "false")
    if args.master:
        builder = builder.master(args.master)
    elif "PYSPARK_GATEWAY_PORT" not in os.environ and "SPARK_HOME" not in os.environ:
        builder = builder.master("local[*]")
    for pair in args.conf:
        key, _, value = pair.partition("=")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def arguments(argv):
    parser = argparse.ArgumentParser(description=JOB_NAME)
    parser.add_argument("--master", help="Spark master; spark-submit sets it")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="extra Spark configuration")
    parser.add_argument("--checkpoint", help="checkpoint folder (default: a fresh temporary one)")
    return parser.parse_args(argv)


def start_queries(spark, starts, checkpoint, trigger):
    """Starts one streaming query per sink and waits for them all."""
    root = checkpoint or tempfile.mkdtemp(prefix="tributary-spark-")
    queries = []
    for number, (name, start) in enumerate(starts):
        writer = start(spark)
        writer = writer.option("checkpointLocation", os.path.join(root, "query-%d" % number))
        writer = writer.trigger(**trigger).queryName(name)
        queries.append(writer.start())
    for q in queries:
        q.awaitTermination()
