//! The pure parts of `bench load`: percentiles, ratios, reading what pgbench,
//! `/proc` and a Server-Sent Events stream print, matching saves to the events
//! they raised, and the scratch database's URL. No I/O here, so it is
//! unit-tested below.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

/// The `p`th percentile (0–100) of sorted values, by the nearest rank; None when empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// How long something took, over many tries, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// How many.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

/// Summarises the values (sorting them); None when there are none.
pub fn summarise(values: &mut [f64]) -> Option<Summary> {
    values.sort_by(f64::total_cmp);
    Some(Summary {
        n: values.len(),
        p50: percentile(values, 50.0)?,
        p95: percentile(values, 95.0)?,
        p99: percentile(values, 99.0)?,
        max: *values.last()?,
    })
}

/// `a / b`, or None when `b` is not a positive number.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0 && b.is_finite() && a.is_finite()).then(|| a / b)
}

/// Saves/s with streams open against without, over runs of (streams open, saves/s).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StreamsCost {
    /// Mean saves/s of the runs with streams open.
    pub with: f64,
    /// Mean saves/s of the runs without.
    pub without: f64,
    /// `with / without`.
    pub ratio: f64,
}

/// Compares the runs with streams open with those without; None unless there are both.
pub fn streams_cost(runs: &[(usize, f64)]) -> Option<StreamsCost> {
    let mean = |open: bool| {
        let v: Vec<f64> = runs.iter().filter(|(s, _)| (*s > 0) == open).map(|(_, r)| *r).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let (with, without) = (mean(true)?, mean(false)?);
    Some(StreamsCost { with, without, ratio: ratio(with, without)? })
}

/// What a pgbench run printed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pgbench {
    /// Transactions per second, without the time spent connecting.
    pub tps: f64,
    /// Average latency of a transaction, in milliseconds.
    pub latency_ms: Option<f64>,
    /// Transactions done.
    pub transactions: Option<u64>,
    /// Transactions that failed (pgbench 15 prints it; 0 before).
    pub failed: Option<u64>,
}

/// Reads pgbench's summary. It prints `tps = N (without initial connection
/// time)` since version 14, and before that an `including` and an `excluding
/// connections establishing` line: the one without connecting is taken.
pub fn parse_pgbench(output: &str) -> Option<Pgbench> {
    let number = |s: &str| s.split_whitespace().next().and_then(|n| n.parse::<f64>().ok());
    let mut tps = None;
    let (mut latency_ms, mut transactions, mut failed) = (None, None, None);
    for line in output.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("tps = ") {
            if tps.is_none() || rest.contains("without") || rest.contains("excluding") {
                tps = number(rest);
            }
        } else if let Some(rest) = line.strip_prefix("latency average = ") {
            latency_ms = number(rest);
        } else if let Some(rest) = line.strip_prefix("number of transactions actually processed: ") {
            transactions = rest.split(['/', ' ']).next().and_then(|n| n.parse().ok());
        } else if let Some(rest) = line.strip_prefix("number of failed transactions: ") {
            failed = rest.split_whitespace().next().and_then(|n| n.parse().ok());
        }
    }
    Some(Pgbench { tps: tps?, latency_ms, transactions, failed })
}

/// A `kB` field of `/proc/{pid}/status`, e.g. `VmRSS` or `VmHWM`.
pub fn status_kb(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The CPU time a process has used, in clock ticks (user + system), from its
/// `/proc/{pid}/stat`; with `children`, also that of its children that have
/// ended (PostgreSQL's postmaster collects its finished backends' that way).
/// Its name, in parentheses, may hold spaces: the fields are counted after the last `)`.
pub fn process_ticks(stat: &str, children: bool) -> Option<u64> {
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    // Fields 14–17 of the line (utime, stime, cutime, cstime); the first after `)` is field 3.
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let own = field(11)? + field(12)?;
    Some(if children { own + field(13)? + field(14)? } else { own })
}

/// A process's name, from its `/proc/{pid}/stat`.
pub fn process_name(stat: &str) -> Option<&str> {
    stat.get(stat.find('(')? + 1..stat.rfind(')')?)
}

/// The machine's CPU time, busy and in all, in clock ticks summed over every
/// core, from the `cpu` line of `/proc/stat` (idle and iowait are not busy).
pub fn machine_ticks(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line.split_whitespace().skip(1).map(|x| x.parse().ok()).collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is counted in user already).
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

/// How the machine's CPU was shared during a run, as fractions of every core's time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CpuShare {
    /// Busy, all processes.
    pub busy: f64,
    /// The server under test.
    pub server: f64,
    /// The load generator (this process).
    pub generator: f64,
    /// PostgreSQL's processes (the whole server, whoever uses it).
    pub postgres: f64,
    /// Everything else running on the machine.
    pub rest: f64,
}

/// CPU ticks at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ticks {
    /// The server under test.
    pub server: u64,
    /// The load generator.
    pub generator: u64,
    /// Every `postgres` process together.
    pub postgres: u64,
    /// The machine, busy.
    pub busy: u64,
    /// The machine, in all.
    pub total: u64,
}

/// The shares of the machine's time between two moments; None when no time passed.
pub fn cpu_share(before: Ticks, after: Ticks) -> Option<CpuShare> {
    let total = after.total.saturating_sub(before.total) as f64;
    if total <= 0.0 {
        return None;
    }
    let share = |f: fn(&Ticks) -> u64| f(&after).saturating_sub(f(&before)) as f64 / total;
    let (busy, server, generator, postgres) = (share(|t| t.busy), share(|t| t.server), share(|t| t.generator), share(|t| t.postgres));
    Some(CpuShare { busy, server, generator, postgres, rest: (busy - server - generator - postgres).max(0.0) })
}

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseMessage {
    /// Its `event:` name (`message` when none is given).
    pub kind: String,
    /// Its `data:` lines, joined by newlines.
    pub data: String,
}

/// Takes every complete event (ended by a blank line) out of `buf`, leaving
/// the beginning of the next one; comments (keep-alives) are skipped.
pub fn take_sse_messages(buf: &mut Vec<u8>) -> Vec<SseMessage> {
    let mut out = Vec::new();
    while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
        let block: Vec<u8> = buf.drain(..end + 2).collect();
        let (mut kind, mut data) = (None, Vec::new());
        for line in String::from_utf8_lossy(&block).lines() {
            let (field, value) = line.split_once(':').map_or((line, ""), |(f, v)| (f, v.strip_prefix(' ').unwrap_or(v)));
            match field {
                "event" => kind = Some(value.to_owned()),
                "data" => data.push(value.to_owned()),
                _ => {}
            }
        }
        if kind.is_some() || !data.is_empty() {
            out.push(SseMessage { kind: kind.unwrap_or_else(|| "message".into()), data: data.join("\n") });
        }
    }
    out
}

/// A save the server answered with 2xx.
#[derive(Debug, Clone, Copy)]
pub struct Save {
    /// Which examiner (their index).
    pub examiner: usize,
    /// The response marked.
    pub response: Uuid,
    /// 0 for the examiner's first save of this response, 1 for the next...
    pub seq: usize,
    /// When its answer had been read, in ms from the start of the run.
    pub at_ms: f64,
}

/// What one open stream heard: the `mark` events, per response, in order of arrival.
#[derive(Debug, Clone, Default)]
pub struct Heard {
    /// Whose stream it is (the examiner's index).
    pub examiner: usize,
    /// For each response, when each of its `mark` events arrived, in ms from the start of the run.
    pub marks: HashMap<Uuid, Vec<f64>>,
}

/// From a save's answer to its event having reached every stream that hears it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FanOut {
    /// Saves heard by at least one open stream, and heard by all of them.
    pub measured: usize,
    /// Saves whose event did not reach one of their streams.
    pub missed: usize,
    /// Delays, in milliseconds (0 when the event came before the save's answer).
    pub delay: Option<Summary>,
}

/// Matches saves to events. An examiner's stream hears their own marks (the
/// visibility policy); they save a response one save at a time, so the `n`th
/// `mark` event for a response on their stream is their `n`th save of it.
/// A save by an examiner with no stream open is not counted.
pub fn fan_out(saves: &[Save], streams: &[Heard]) -> FanOut {
    let mut by_examiner: HashMap<usize, Vec<&Heard>> = HashMap::new();
    for s in streams {
        by_examiner.entry(s.examiner).or_default().push(s);
    }
    let (mut delays, mut missed) = (Vec::new(), 0);
    for save in saves {
        let Some(listeners) = by_examiner.get(&save.examiner) else { continue };
        let last = listeners
            .iter()
            .map(|h| h.marks.get(&save.response).and_then(|times| times.get(save.seq)).copied())
            .try_fold(f64::MIN, |latest, arrived| arrived.map(|a| latest.max(a)));
        match last {
            Some(arrived) => delays.push((arrived - save.at_ms).max(0.0)),
            None => missed += 1,
        }
    }
    FanOut { measured: delays.len(), missed, delay: summarise(&mut delays) }
}

/// The URL of database `name`: `base` (a `DATABASE_URL`) with its database
/// replaced, or else one made from the server found (a socket directory as the
/// `host` parameter, which both sqlx and libpq read).
pub fn database_url(base: Option<&str>, host: &str, port: u16, user: &str, name: &str) -> String {
    if let Some(base) = base {
        let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
        let (before_query, query) = rest.split_once('?').map_or((rest, None), |(b, q)| (b, Some(q)));
        let authority = before_query.split('/').next().unwrap_or("");
        return match query {
            Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
            None => format!("{scheme}://{authority}/{name}"),
        };
    }
    if host.starts_with('/') {
        format!("postgres://{user}@localhost:{port}/{name}?host={host}")
    } else {
        format!("postgres://{user}@{host}:{port}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 95.0), Some(95.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
        let mut unsorted = vec![3.0, 1.0, 2.0, 10.0];
        let s = summarise(&mut unsorted).unwrap();
        assert_eq!((s.n, s.p50, s.p99, s.max), (4, 2.0, 10.0, 10.0));
        assert_eq!(summarise(&mut []), None);
    }

    #[test]
    fn ratios_refuse_a_zero_denominator() {
        assert_eq!(ratio(450.0, 900.0), Some(0.5));
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(1.0, f64::NAN), None);
        let cost = streams_cost(&[(0, 1000.0), (100, 900.0), (0, 980.0), (100, 880.0), (0, 1020.0)]).unwrap();
        assert_eq!((cost.with, cost.without), (890.0, 1000.0));
        assert!((cost.ratio - 0.89).abs() < 1e-9);
        assert_eq!(streams_cost(&[(0, 1000.0)]), None);
    }

    #[test]
    fn reads_pgbench_15_and_older_summaries() {
        let v15 = "pgbench (15.8 (Debian 15.8-0+deb12u1))
transaction type: /tmp/save.sql
scaling factor: 1
query mode: prepared
number of clients: 32
number of threads: 2
maximum number of tries: 1
duration: 20 s
number of transactions actually processed: 41234
number of failed transactions: 0 (0.000%)
latency average = 15.519 ms
initial connection time = 41.220 ms
tps = 2061.993710 (without initial connection time)
";
        assert_eq!(
            parse_pgbench(v15),
            Some(Pgbench { tps: 2061.99371, latency_ms: Some(15.519), transactions: Some(41234), failed: Some(0) })
        );
        let v12 = "number of transactions actually processed: 1000/1000
tps = 95.1 (including connections establishing)
tps = 99.5 (excluding connections establishing)
";
        let old = parse_pgbench(v12).unwrap();
        assert_eq!((old.tps, old.transactions, old.failed), (99.5, Some(1000), None));
        assert_eq!(parse_pgbench("pgbench: error: connection to server failed"), None);
    }

    #[test]
    fn reads_memory_from_proc_status() {
        let status = "Name:\tstandardise\nVmPeak:\t  900000 kB\nVmHWM:\t   81234 kB\nVmRSS:\t   70123 kB\n";
        assert_eq!(status_kb(status, "VmRSS"), Some(70123));
        assert_eq!(status_kb(status, "VmHWM"), Some(81234));
        assert_eq!(status_kb(status, "VmSwap"), None);
    }

    #[test]
    fn reads_cpu_time_from_proc() {
        let stat = "4242 (standardise serve) S 1 4242 4242 0 -1 4194560 900 0 0 0 150 25 7 3 20 0 9 0 1234 0 0";
        assert_eq!(process_ticks(stat, false), Some(175));
        assert_eq!(process_ticks(stat, true), Some(185));
        assert_eq!(process_name(stat), Some("standardise serve"));
        assert_eq!(process_ticks("garbage", false), None);
        let machine = "cpu  100 5 50 800 20 0 5 0 0 0\ncpu0 50 2 25 400 10 0 3 0 0 0\n";
        assert_eq!(machine_ticks(machine), Some((160, 980)));
        let at = |server, generator, postgres, busy, total| Ticks { server, generator, postgres, busy, total };
        let share = cpu_share(at(0, 0, 0, 0, 0), at(40, 10, 30, 90, 100)).unwrap();
        assert_eq!((share.busy, share.server, share.generator, share.postgres), (0.9, 0.4, 0.1, 0.3));
        assert!((share.rest - 0.1).abs() < 1e-9);
        assert_eq!(cpu_share(at(0, 0, 0, 0, 5), at(1, 1, 1, 1, 5)), None);
    }

    #[test]
    fn sse_events_are_taken_whole_and_keep_alives_skipped() {
        let mut buf = b":\n\nevent: mark\ndata: {\"kind\":\"mark\"}\n\nevent: res".to_vec();
        let got = take_sse_messages(&mut buf);
        assert_eq!(got, vec![SseMessage { kind: "mark".into(), data: "{\"kind\":\"mark\"}".into() }]);
        assert_eq!(buf, b"event: res");
        buf.extend_from_slice(b"ync\ndata: {}\n\n");
        assert_eq!(take_sse_messages(&mut buf), vec![SseMessage { kind: "resync".into(), data: "{}".into() }]);
        assert!(buf.is_empty());
    }

    #[test]
    fn fan_out_waits_for_every_stream_of_the_examiner() {
        let (r, other) = (Uuid::new_v4(), Uuid::new_v4());
        let save = |examiner, seq, at_ms| Save { examiner, response: r, seq, at_ms };
        let heard = |examiner, times: &[f64]| Heard { examiner, marks: HashMap::from([(r, times.to_vec())]) };
        // Examiner 0 has two tabs open; examiner 1 one; examiner 2 none.
        let streams = [heard(0, &[10.0, 20.0]), heard(0, &[12.0]), heard(1, &[5.0])];
        let saves = [save(0, 0, 9.0), save(0, 1, 19.0), save(1, 0, 6.0), save(2, 0, 1.0)];
        let f = fan_out(&saves, &streams);
        // 0's first save: slowest tab at 12 (3 ms); 0's second: the second tab never heard it;
        // 1's: the event came before the answer (0); 2 has no stream.
        assert_eq!((f.measured, f.missed), (2, 1));
        let d = f.delay.unwrap();
        assert_eq!((d.p50, d.max), (0.0, 3.0));
        let another = Save { response: other, ..save(1, 0, 0.0) };
        assert_eq!(fan_out(&[another], &streams).missed, 1);
    }

    #[test]
    fn scratch_urls() {
        assert_eq!(
            database_url(Some("postgres://u:p@db.example:5433/standardise?sslmode=require"), "", 0, "", "scratch"),
            "postgres://u:p@db.example:5433/scratch?sslmode=require"
        );
        assert_eq!(database_url(Some("postgresql://u@h"), "", 0, "", "s"), "postgresql://u@h/s");
        assert_eq!(database_url(None, "127.0.0.1", 5432, "postgres", "s"), "postgres://postgres@127.0.0.1:5432/s");
        assert_eq!(
            database_url(None, "/var/run/postgresql", 5432, "root", "s"),
            "postgres://root@localhost:5432/s?host=/var/run/postgresql"
        );
    }
}
