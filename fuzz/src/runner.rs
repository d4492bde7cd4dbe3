//! A bounded, seeded mutation fuzzer on stable Rust, built on proptest.
//!
//! Inputs are the checked-in corpus entries, then corpus entries mutated the
//! way coverage fuzzers mutate (bit flips, interesting bytes and numbers,
//! inserted, deleted, repeated and spliced runs, tokens of the format). The
//! run stops after a time budget and reports how many inputs ran. A failing
//! input is shrunk by proptest and written to `fuzz/artifacts/<target>/`, then
//! reported with its path, so it can be added to the corpus once fixed.
//!
//! Runs are reproducible: the same seed gives the same inputs in the same
//! order. A run stops at a number of inputs or at a time budget, whichever
//! comes first: with the count reached, the run is the same on every machine.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sha2::{Digest, Sha256};

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub target: String,
    /// Corpus entries, each run as it is first.
    pub corpus: usize,
    /// Inputs run in all: the corpus and its mutations.
    pub inputs: u64,
    pub elapsed: Duration,
}

/// When a run stops: after `max_inputs` inputs (the corpus included) or
/// after `budget`, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_inputs: u64,
    pub budget: Duration,
}

/// One mutation of a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    SetByte {
        at: usize,
        byte: u8,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Repeat {
        at: usize,
        len: usize,
        times: usize,
    },
    /// A run of another corpus entry replaces a run of this one.
    Splice {
        other: usize,
        from: usize,
        len: usize,
        at: usize,
    },
}

/// Bytes and tokens that often find the edges of a parser.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1e999",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"\"\"",
    b"\\u0000",
    b"\\ud800",
    b"\xff",
    b"\xe4\xb8\xad",
    b"X",
    b"x",
    b"0000",
    b"9999",
    b"2027-02-29",
    b"2027-13-40",
    b"T25:61:61+99:00",
    b"=",
    b"\n[",
    b"]]\n",
    b"#",
    b"'''",
    b"\"\"\"",
    b"-",
    b"\xe5\x8f\xb7",
    b"\xe5\x8d\x95\xe5\x85\x83",
    b"\xe5\xae\xa4",
];

fn mutation(corpus_len: usize) -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (at, any::<u8>()).prop_map(|(at, byte)| Mutation::SetByte { at, byte }),
        (at, prop::sample::select(TOKENS)).prop_map(|(at, t)| Mutation::Insert { at, bytes: t.to_vec() }),
        (at, prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (at, 1usize..16).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (at, 1usize..16, 2usize..64).prop_map(|(at, len, times)| Mutation::Repeat { at, len, times }),
        (0..corpus_len.max(1), at, 1usize..64, at).prop_map(|(other, from, len, at)| Mutation::Splice {
            other,
            from,
            len,
            at
        }),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation], corpus: &[Vec<u8>]) -> Vec<u8> {
    for m in mutations {
        let n = bytes.len();
        match m {
            Mutation::FlipBit { at, bit } if n > 0 => bytes[at % n] ^= 1 << bit,
            Mutation::SetByte { at, byte } if n > 0 => bytes[at % n] = *byte,
            Mutation::Insert { at, bytes: new } => {
                let at = at % (n + 1);
                bytes.splice(at..at, new.iter().copied());
            }
            Mutation::Delete { at, len } if n > 0 => {
                let at = at % n;
                let end = (at + len).min(n);
                bytes.drain(at..end);
            }
            Mutation::Repeat { at, len, times } if n > 0 => {
                let at = at % n;
                let end = (at + len).min(n);
                let run = bytes[at..end].to_vec();
                let copies: Vec<u8> = run.iter().copied().cycle().take(run.len() * times).collect();
                bytes.splice(end..end, copies);
            }
            Mutation::Splice { other, from, len, at } => {
                let source = &corpus[*other % corpus.len()];
                if !source.is_empty() {
                    let from = from % source.len();
                    let end = (from + len).min(source.len());
                    let at = at % (n + 1);
                    let cut = (at + len).min(n);
                    bytes.splice(at..cut, source[from..end].iter().copied());
                }
            }
            _ => {}
        }
    }
    bytes
}

/// The corpus of a target: every file in `dir`, sorted by name.
pub fn corpus(dir: &Path) -> std::io::Result<Vec<Vec<u8>>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|p| p.is_file());
    paths.sort();
    paths.iter().map(std::fs::read).collect()
}

fn fails(target: fn(&[u8]), input: &[u8]) -> Option<String> {
    match catch_unwind(AssertUnwindSafe(|| target(input))) {
        Ok(()) => None,
        Err(payload) => Some(
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic".to_owned()),
        ),
    }
}

/// Runs `target` on its corpus, then on mutations of it, until `max_inputs`
/// inputs have run or `budget` is spent, whichever comes first. Panics (failing the test that calls it) on the first input that
/// makes the target panic, after shrinking it and saving it under
/// `artifacts/<name>/`.
pub fn run(name: &str, target: fn(&[u8]), corpus_dir: &Path, artifacts: &Path, limits: Limits, seed: u64) -> Report {
    let Limits { max_inputs, budget } = limits;
    let started = Instant::now();
    let corpus = corpus(corpus_dir).unwrap_or_else(|e| panic!("reading the corpus {}: {e}", corpus_dir.display()));
    assert!(!corpus.is_empty(), "the corpus {} is empty", corpus_dir.display());
    let mut inputs = 0u64;
    for (i, input) in corpus.iter().enumerate() {
        inputs += 1;
        if let Some(message) = fails(target, input) {
            panic!("{name}: corpus entry {i} fails: {message}");
        }
    }
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    seed_bytes[8..8 + name.len().min(24)].copy_from_slice(&name.as_bytes()[..name.len().min(24)]);
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(
        Config {
            max_shrink_iters: 4096,
            ..Config::default()
        },
        rng,
    );
    let strategy = (0..corpus.len(), prop::collection::vec(mutation(corpus.len()), 1..8));
    // Quiet while fuzzing: each failing input would print a panic message.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut finding = None;
    while inputs < max_inputs && started.elapsed() < budget {
        let mut tree = strategy.new_tree(&mut runner).expect("the strategy always generates");
        let input = |tree: &(usize, Vec<Mutation>)| apply(corpus[tree.0].clone(), &tree.1, &corpus);
        inputs += 1;
        let Some(mut message) = fails(target, &input(&tree.current())) else {
            continue;
        };
        // Shrink: fewer and smaller mutations, as long as it still fails.
        let mut last_failing = input(&tree.current());
        let mut steps = 0;
        while steps < 4096 && tree.simplify() {
            steps += 1;
            let candidate = input(&tree.current());
            match fails(target, &candidate) {
                Some(m) => {
                    message = m;
                    last_failing = candidate;
                }
                None => {
                    if !tree.complicate() {
                        break;
                    }
                }
            }
        }
        finding = Some((last_failing, message));
        break;
    }
    std::panic::set_hook(hook);
    if let Some((input, message)) = finding {
        let dir = artifacts.join(name);
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("crash-{}", &hex::encode(Sha256::digest(&input))[..16]));
        let _ = std::fs::write(&path, &input);
        panic!(
            "{name}: input {} ({} bytes, saved to {}) fails: {message}",
            inputs,
            input.len(),
            path.display()
        );
    }
    Report {
        target: name.to_owned(),
        corpus: corpus.len(),
        inputs,
        elapsed: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picky(data: &[u8]) {
        assert!(!data.windows(3).any(|w| w == b"BUG"), "found the bug");
    }

    #[test]
    fn finds_shrinks_and_saves_a_failing_input() {
        let dir = std::env::temp_dir().join(format!("enrol-fuzz-self-test-{}", std::process::id()));
        let corpus = dir.join("corpus");
        std::fs::create_dir_all(&corpus).unwrap();
        std::fs::write(corpus.join("seed"), b"xBUxG").unwrap();
        let outcome = catch_unwind(|| {
            run(
                "picky",
                picky,
                &corpus,
                &dir.join("artifacts"),
                Limits {
                    max_inputs: u64::MAX,
                    budget: Duration::from_secs(20),
                },
                1,
            )
        });
        let message = match outcome {
            Err(p) => p.downcast_ref::<String>().cloned().unwrap_or_default(),
            Ok(report) => panic!("the bug was not found in {} inputs", report.inputs),
        };
        assert!(
            message.contains("found the bug") && message.contains("saved to"),
            "{message}"
        );
        let saved = std::fs::read_dir(dir.join("artifacts/picky")).unwrap().count();
        assert_eq!(saved, 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_same_seed_gives_the_same_inputs() {
        let corpus = vec![b"abc".to_vec(), b"{\"a\": 1}".to_vec()];
        let draw = |seed: u8| {
            let mut runner =
                TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]));
            let strategy = (0..corpus.len(), prop::collection::vec(mutation(corpus.len()), 1..8));
            (0..50)
                .map(|_| {
                    let t = strategy.new_tree(&mut runner).unwrap().current();
                    apply(corpus[t.0].clone(), &t.1, &corpus)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }
}
