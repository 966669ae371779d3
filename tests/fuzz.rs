//! Fuzzing of the readers of untrusted input: the compose reader (files on
//! disk through `compose::load_dir`, `.env` and included files too),
//! interpolation, port specs and the Project JSON reader
//! (`io::parse_records::<Project>`). Inputs are seeds (valid files and the
//! hostile ones of issue #14) mutated with a dictionary of compose and YAML
//! tokens, spliced, and amplified up to 1 MiB.
//!
//! Each input must not panic, must raise the process's resident memory by at
//! most 256 MiB (its peak, `VmHWM`, reset before each input), and must take at
//! most 2 s of this thread's CPU time. `BERTH_FUZZ_CASES` sets how
//! many inputs (default 1000, about 20 s on this loaded machine: `make test`), `BERTH_FUZZ_SEED`
//! the seed; `make fuzz` runs many more. A failing input is written to
//! `target/fuzz-failures/` and named in the failure.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use berth::Project;
use berth::compose::{self, interpolate, ports};
use berth::io::{Source, parse_records};

/// Resident memory now and its peak since the last [`reset_peak`], in bytes (from /proc).
fn memory() -> (usize, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .map_or(0, |kb| kb << 10)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Start a new peak (writing 5 to `clear_refs` resets `VmHWM`).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

const MAX_INPUT: usize = 1 << 20;
const MAX_BYTES: usize = 256 << 20;
const MAX_CPU: Duration = Duration::from_secs(2);

/// xorshift64*: small, seeded, enough for choosing mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const COMPOSE_SEEDS: &[&str] = &[
    "services:\n  web:\n    image: nginx\n    ports: [\"8080:80\", \"127.0.0.1:8443:443/tcp\", \"[::1]:6379:6379\", \"9000-9002:9000-9002\", \"3000\"]\n",
    "x-base: &base\n  image: nginx\n  ports: [\"${WEB_PORT:-8080}:80\"]\nservices:\n  web:\n    <<: *base\n    environment: [A=1, B]\n  api:\n    <<: [*base]\n    ports: !reset []\n",
    "services:\n  web:\n    ports:\n      - target: 80\n        published: \"8000-8001\"\n        host_ip: 127.0.0.1\n        protocol: udp\n        mode: host\n    profiles: [dev]\n",
    "include:\n  - other.yaml\n  - path: [other.yaml]\nservices:\n  web:\n    extends: {service: base, file: other.yaml}\n  w2:\n    extends: web\n",
    "services:\n  a:\n    extends: b\n  b:\n    extends: {service: a}\n",
    "services:\n  \"we b;rm -rf /\":\n    image: x\n  \"\": {}\n  web:\n    profiles: notalist\n",
    "services:\n  web:\n    ports: [\"${Aé}:80\", \"${A:é}\", \"${Bü-x}\", \"$$\", \"${A:?need}\"]\n",
    "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\na1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]\na2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]\na3: [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]\n",
    "services:\n  web:\n    ports: [\"1-65535:1-65535\", \"127.0.0.9:1-6000:1-6000\"]\n",
    "services:\n  web:\n    ports: !override [\"1:1\"]\n    environment: {A: !reset null}\n",
];

const DOTENV_SEEDS: &[&str] = &[
    "WEB_PORT=8081\nA=${WEB_PORT}\nexport B='x y'\nC=\"multi\nline\"\n",
    "root:$6$hash:19000:0:99999:7:::\n",
    "COMPOSE_FILE=compose.yaml:other.yaml\nCOMPOSE_PROFILES=dev,*\n",
];

const OTHER_SEEDS: &[&str] = &[
    "services:\n  base:\n    image: python\n    ports: [\"9000:9000\"]\n",
    "include: [compose.yaml]\n",
    "services:\n  base:\n    extends: {service: web, file: compose.yaml}\n",
];

const INTERPOLATION_SEEDS: &[&str] = &[
    "${A:-${B:-${C}}}",
    "$A ${A} $$A ${A:+x} ${U-d} ${U:?msg ${A}}",
    "${A:-{\"json\": 1}}",
    "${Aé} ${A:é} ${Bü-x} ${",
];

const JSON_SEEDS: &[&str] = &[
    "[{\"name\":\"shop\",\"path\":\"/p\",\"domain\":\"shop.test\",\"port\":5000,\"stack\":null,\"compose_files\":[\"/p/compose.yaml\"],\"services\":[\"web\"],\"service_ports\":[{\"service\":\"web\",\"host_ip\":\"0.0.0.0\",\"published\":8080,\"target\":80,\"protocol\":\"tcp\"}],\"exposed_ports\":[5000,8080],\"environment\":{\"A\":\"1\"},\"status\":\"running\",\"registered_at\":\"2026-01-01T00:00:00Z\"}]",
    "{\"name\":\"a\"}\n{\"name\":\"b\",\"port\":70000}\n",
    "{\"name\": \"x\\u001b]0;t\\u0007\", \"service_ports\": [{\"service\": 1}]}",
];

const TOKENS: &[&str] = &[
    "${",
    "}",
    "$",
    "$$",
    ":-",
    "-",
    ":?",
    "+",
    "{",
    "[",
    "]",
    ":",
    ": ",
    "\n",
    "\n  ",
    "\n    ",
    "- ",
    "<<: *base\n",
    "&base ",
    "*base",
    "!reset ",
    "!override ",
    "!!str ",
    "<<",
    "extends: a\n",
    "include: [compose.yaml]\n",
    "ports: [\"1-65535:1-65535\"]\n",
    "\"",
    "'",
    "é",
    "ü",
    "\u{1b}[2J",
    "\u{202e}",
    "\0",
    "\t",
    "#",
    "---\n",
    "...\n",
    "? ",
    "|\n  ",
    ">-\n  ",
    "0x10",
    "65536",
    "127.0.0.1:",
    "[::1]:",
    "/udp",
    "/tcp",
    "8080:80",
    "1-65535",
    "\\",
    "\u{feff}",
    "\r\n",
];

fn mutate(rng: &mut Rng, seed: &str, other: &str) -> Vec<u8> {
    let mut b = seed.as_bytes().to_vec();
    for _ in 0..=rng.below(8) {
        let at = rng.below(b.len() + 1);
        match rng.below(7) {
            0 => {
                if !b.is_empty() {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
            }
            1 | 2 => {
                let t = rng.pick(TOKENS).as_bytes();
                b.splice(at..at, t.iter().copied());
            }
            3 => {
                let end = (at + rng.below(64)).min(b.len());
                b.drain(at..end);
            }
            4 => {
                let o = other.as_bytes();
                let from = rng.below(o.len());
                let to = (from + rng.below(200)).min(o.len());
                b.splice(at..at, o[from..to].iter().copied());
            }
            5 => {
                // Amplify: repeat a chunk, sometimes up to the size limit.
                let end = (at + 1 + rng.below(40)).min(b.len());
                let chunk = b[at.min(end)..end].to_vec();
                if !chunk.is_empty() {
                    let times = if rng.below(8) == 0 {
                        MAX_INPUT / chunk.len() / 2
                    } else {
                        rng.below(100)
                    };
                    let rep = chunk.repeat(times);
                    b.splice(at..at, rep);
                }
            }
            _ => {
                let t = rng.pick(TOKENS).as_bytes();
                let n = if rng.below(4) == 0 {
                    50_000
                } else {
                    1 + rng.below(50)
                };
                let rep = t.repeat(n);
                b.splice(at..at, rep);
            }
        }
        b.truncate(MAX_INPUT);
    }
    b
}

/// CPU time this thread has used (utime + stime from /proc, in clock ticks of 10 ms).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    // After the name: state, ppid, ..., utime (12th), stime (13th).
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

enum Target {
    Compose {
        compose: Vec<u8>,
        dotenv: Option<Vec<u8>>,
        other: Vec<u8>,
    },
    Interpolate(Vec<u8>),
    Port(Vec<u8>),
    Json(Vec<u8>),
}

impl Target {
    fn name(&self) -> &'static str {
        match self {
            Target::Compose { .. } => "compose",
            Target::Interpolate(_) => "interpolate",
            Target::Port(_) => "port",
            Target::Json(_) => "json",
        }
    }
    fn size(&self) -> usize {
        match self {
            Target::Compose {
                compose,
                dotenv,
                other,
            } => compose.len() + dotenv.as_ref().map_or(0, Vec::len) + other.len(),
            Target::Interpolate(b) | Target::Port(b) | Target::Json(b) => b.len(),
        }
    }
}

fn generate(rng: &mut Rng) -> Target {
    match rng.below(10) {
        0..=5 => {
            let seed = *rng.pick(COMPOSE_SEEDS);
            let other = *rng.pick(COMPOSE_SEEDS);
            let compose = mutate(rng, seed, other);
            let dotenv = if rng.below(3) == 0 {
                let d = *rng.pick(DOTENV_SEEDS);
                Some(mutate(rng, d, seed))
            } else {
                None
            };
            let o = *rng.pick(OTHER_SEEDS);
            let other = mutate(rng, o, seed);
            Target::Compose {
                compose,
                dotenv,
                other,
            }
        }
        6 | 7 => {
            let s = *rng.pick(INTERPOLATION_SEEDS);
            Target::Interpolate(mutate(rng, s, "${A:-x}"))
        }
        8 => Target::Port(mutate(
            rng,
            "127.0.0.1:8000-8010:8000-8010/udp",
            "[::1]:1-65535:1",
        )),
        _ => {
            let (a, b) = (*rng.pick(JSON_SEEDS), *rng.pick(JSON_SEEDS));
            Target::Json(mutate(rng, a, b))
        }
    }
}

fn run(target: &Target, dir: &Path) {
    match target {
        Target::Compose {
            compose,
            dotenv,
            other,
        } => {
            std::fs::write(dir.join("compose.yaml"), compose).unwrap();
            std::fs::write(dir.join("other.yaml"), other).unwrap();
            match dotenv {
                Some(d) => std::fs::write(dir.join(".env"), d).unwrap(),
                None => {
                    let _ = std::fs::remove_file(dir.join(".env"));
                }
            }
            if let Ok(c) = compose::load_dir(dir) {
                assert!(c.ports().count() <= ports::MAX_BINDINGS);
            }
        }
        Target::Interpolate(b) => {
            let vars: HashMap<&str, String> = [
                ("A", "a".to_owned()),
                ("B", String::new()),
                ("BIG", "x".repeat(4096)),
            ]
            .into();
            let lookup = |n: &str| vars.get(n).cloned();
            if let Ok(r) = interpolate::interpolate(&String::from_utf8_lossy(b), &lookup) {
                assert!(r.value.len() <= interpolate::MAX_OUTPUT);
            }
        }
        Target::Port(b) => {
            if let Ok(v) = ports::parse_short("web", &String::from_utf8_lossy(b)) {
                assert!(v.len() <= ports::MAX_BINDINGS);
            }
        }
        Target::Json(b) => {
            let _ = parse_records::<Project>(&Source::Stdin, b);
        }
    }
}

fn save(target: &Target, n: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    std::fs::create_dir_all(&dir).unwrap();
    let base = dir.join(format!("case-{n}-{}", target.name()));
    match target {
        Target::Compose {
            compose,
            dotenv,
            other,
        } => {
            std::fs::create_dir_all(&base).unwrap();
            std::fs::write(base.join("compose.yaml"), compose).unwrap();
            std::fs::write(base.join("other.yaml"), other).unwrap();
            if let Some(d) = dotenv {
                std::fs::write(base.join(".env"), d).unwrap();
            }
        }
        Target::Interpolate(b) | Target::Port(b) | Target::Json(b) => {
            std::fs::write(&base, b).unwrap();
        }
    }
    base
}

#[test]
fn readers_survive_any_input_within_bounds() {
    let cases: usize = std::env::var("BERTH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let seed: u64 = std::env::var("BERTH_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x0b5e_55ed);
    let mut rng = Rng(seed | 1);
    let tmp = tempfile::tempdir().unwrap();
    // Panics are caught and reported with their input; keep the default hook quiet.
    std::panic::set_hook(Box::new(|_| {}));
    let (mut worst_bytes, mut worst_cpu, mut big) = (0usize, Duration::ZERO, 0usize);
    let mut failures = Vec::new();
    for n in 0..cases {
        let target = generate(&mut rng);
        if target.size() > MAX_INPUT / 2 {
            big += 1;
        }
        assert!(reset_peak(), "cannot reset the peak of resident memory");
        let (before, _) = memory();
        let cpu = thread_cpu();
        let outcome = catch_unwind(AssertUnwindSafe(|| run(&target, tmp.path())));
        let used = memory().1.saturating_sub(before);
        let took = thread_cpu().saturating_sub(cpu);
        worst_bytes = worst_bytes.max(used);
        worst_cpu = worst_cpu.max(took);
        let why = if outcome.is_err() {
            Some("panicked".to_owned())
        } else if used > MAX_BYTES {
            Some(format!("allocated {} MiB", used >> 20))
        } else if took > MAX_CPU {
            Some(format!("took {took:?} of CPU"))
        } else {
            None
        };
        if let Some(why) = why {
            failures.push(format!(
                "{} input {n} {why}: {}",
                target.name(),
                save(&target, n).display()
            ));
        }
    }
    let _ = std::panic::take_hook();
    eprintln!(
        "fuzz: {cases} inputs (seed {seed}, {big} over 512 KiB): worst {} KiB more resident memory, worst {worst_cpu:?} CPU",
        worst_bytes >> 10
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
