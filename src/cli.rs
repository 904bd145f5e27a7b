//! The command-line adapter: flags to a [`Context`], files to bytes, results to stdout and
//! exit codes. No translation logic lives here.
//!
//! Exit status: 0 success; 1 input rejected (OperationOutcome JSON on stdout, a one-line
//! summary on stderr); 2 usage error (clap's own, or an unreadable file).

use crate::context::Context;
use crate::datetime::Instant;
use crate::error::Rejection;
use clap::{Args, Parser, Subcommand};
use std::io::{Read, Write};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "eps-translator",
    version,
    about = "Translate NHS EPS messages between FHIR R4 and HL7 v3"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// FHIR Bundle JSON → HL7 v3 XML on stdout
    Convert {
        #[command(flatten)]
        context: ContextArgs,
        /// Refuse (instead of warn about) a prescription id with a wrong check character
        #[arg(long)]
        strict: bool,
        /// Print warnings and the FHIRPaths not carried over to stderr
        #[arg(long)]
        report: bool,
        /// The Bundle JSON file, or - for stdin
        file: String,
    },
    /// HL7 v3 XML (send message, bare ParentPrescription, release response, cancellation
    /// response or acknowledgement) → FHIR JSON on stdout
    ToFhir {
        /// Verify the signatures of a release response's prescriptions against these anchors
        #[command(flatten)]
        trust: TrustArgs,
        /// Translate a release response without verifying its signatures: every prescription
        /// is listed as passed and the output is tagged `signatures not-checked`
        #[arg(long)]
        no_verify: bool,
        /// The HL7 v3 XML file, or - for stdin
        file: String,
    },
    /// Any XML → its canonical bytes (C14N 1.0 / exclusive C14N) on stdout
    C14n {
        /// exc | exc-with-comments | c14n10 | c14n10-with-comments
        #[arg(long)]
        mode: String,
        /// InclusiveNamespaces prefix list for exclusive modes (`#default` for the default namespace)
        #[arg(long, value_delimiter = ',')]
        prefixes: Vec<String>,
        /// Canonicalise the subtree of the first element matching this simple XPath
        #[arg(long, value_name = "XPATH")]
        subtree: Option<String>,
        /// Bind a prefix used in --subtree: p=uri (repeatable)
        #[arg(long = "ns", value_name = "PREFIX=URI")]
        namespaces: Vec<String>,
        /// The XML file, or - for stdin
        file: String,
    },
    /// FHIR Bundle JSON → FHIR Parameters {digest, timestamp, algorithm} JSON on stdout
    Prepare {
        /// Digest and signature algorithm
        #[arg(long, value_name = "sha256|sha1", default_value = "sha256")]
        algorithm: String,
        /// Signing time used when the Bundle has no Provenance signature (default: now)
        #[arg(long, value_name = "RFC3339")]
        signing_time: Option<String>,
        /// Print an intermediate form instead of the Parameters: the canonical fragments
        /// that are hashed, or the canonical SignedInfo that is signed
        #[arg(long, value_name = "fragments|signed-info")]
        show: Option<String>,
        #[command(flatten)]
        context: ContextArgs,
        /// The Bundle JSON file, or - for stdin
        file: String,
    },
    /// Verify prescription signatures: HL7 v3 (ParentPrescription, send message, release
    /// response) or FHIR (prescription-order Bundle, or a searchset of them) → JSON verdicts
    /// on stdout; exit 0 when every prescription is valid, 1 when any is not
    Verify {
        #[command(flatten)]
        trust: TrustArgs,
        /// The file, or - for stdin
        file: String,
    },
    /// Serve the gRPC API (and the HTTP façade with --http) until SIGINT/SIGTERM
    Serve(ServeArgs),
    /// Start a server in-process on free loopback ports and call every RPC on a bundled
    /// example, over gRPC and the HTTP façade
    Demo,
    /// Load-test an RPC: N concurrent callers for a duration; report requests/s, latency
    /// percentiles and errors
    Loadtest(LoadtestArgs),
}

/// `serve`'s flags.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// gRPC listen address
    #[arg(long, value_name = "ADDR", default_value = crate::service::DEFAULT_GRPC_ADDR)]
    pub grpc: std::net::SocketAddr,
    /// HTTP façade listen address (POST /FHIR/R4/$prepare, $convert; GET /_status, /metrics)
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
    /// Largest request message or body, bytes
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_message_bytes: usize,
    /// Server-side timeout of every request (a caller's shorter deadline wins)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// Requests handled at once; more are shed (RESOURCE_EXHAUSTED / 503)
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_in_flight: usize,
    /// Where translation runs: blocking (tokio's blocking pool) or inline (on the reactor)
    #[arg(long, value_name = "blocking|inline", default_value = "blocking", value_parser = parse_offload)]
    pub offload: crate::service::admission::Offload,
    /// Pin "now" (the default creation/signing time) for every request, to reproduce the
    /// reference corpus; default: the clock
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub fixed_clock: Option<Instant>,
    /// How long shutdown waits for in-flight requests
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_grace: std::time::Duration,
    /// A trust anchor for Verify, ToFhir and $verify-signature requests that give none: a PEM
    /// file (every certificate in it), a root or a sub-CA; read once at start-up (repeatable)
    #[arg(long = "trusted-ca", value_name = "PEM")]
    pub trusted_ca: Vec<String>,
    /// A certificate that may link a signer to an anchor without being trusted (repeatable)
    #[arg(long = "intermediate-ca", value_name = "PEM")]
    pub intermediate_ca: Vec<String>,
    /// A directory of CRLs and ARLs (DER or PEM files), re-read when a file changes and on
    /// SIGHUP; a file that does not parse is logged and skipped
    #[arg(long = "crl-dir", value_name = "DIR")]
    pub crl_dir: Option<std::path::PathBuf>,
    /// How often --crl-dir is looked at for changes
    #[arg(long = "crl-dir-poll", value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub crl_dir_poll: std::time::Duration,
    #[command(flatten)]
    pub revocation: RevocationArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
}

impl ServeArgs {
    /// The server configuration these flags describe; an unreadable certificate is an error
    /// naming its flag and file.
    pub fn to_config(&self) -> Result<crate::service::Config, String> {
        Ok(crate::service::Config {
            grpc_addr: self.grpc,
            http_addr: self.http,
            max_message_bytes: self.max_message_bytes,
            timeout: self.timeout,
            max_in_flight: self.max_in_flight,
            offload: self.offload,
            fixed_clock: self.fixed_clock,
            shutdown_grace: self.shutdown_grace,
            trust: {
                let mut trust = load_trust(&self.trusted_ca, &self.intermediate_ca)?;
                self.revocation.apply(&mut trust);
                trust
            },
            crl_dir: match &self.crl_dir {
                Some(dir) if !dir.is_dir() => {
                    return Err(format!("--crl-dir {}: not a directory", dir.display()))
                }
                dir => dir.clone(),
            },
            crl_dir_poll: self.crl_dir_poll,
            fetch_crls: self.fetch.to_config()?,
        })
    }
}

/// `loadtest`'s flags.
#[derive(Args, Debug, Clone)]
pub struct LoadtestArgs {
    /// The RPC to call: convert, prepare, canonicalize, http-prepare or http-convert
    #[arg(long, default_value = "prepare")]
    pub rpc: String,
    /// Concurrent callers
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// How long to run (e.g. 20s, 500ms, 1m)
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    /// A running server's gRPC address (or HTTP address for http-*); default: start one
    /// in-process on a free loopback port
    #[arg(long, value_name = "ADDR")]
    pub target: Option<std::net::SocketAddr>,
    /// HTTP/2 connections the callers share (gRPC)
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Server options when the server is in-process: where translation runs
    #[arg(long, value_name = "blocking|inline", default_value = "blocking", value_parser = parse_offload)]
    pub offload: crate::service::admission::Offload,
    /// Reactor threads of the in-process server (default: half the cores; its translation
    /// work runs on a blocking pool of one thread per core)
    #[arg(long, value_name = "N")]
    pub server_threads: Option<usize>,
    /// Reactor threads of the callers (default: half the cores)
    #[arg(long, value_name = "N")]
    pub client_threads: Option<usize>,
    /// The request body: a Bundle JSON (XML for canonicalize); default: the bundled example
    pub file: Option<String>,
}

/// Parses `20s`, `500ms`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("expected a duration such as 20s or 500ms, got '{text}'"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1e3,
        "us" | "µs" => n / 1e6,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "unknown duration unit '{unit}' (use ms, s, m or h)"
            ))
        }
    };
    std::time::Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

fn parse_offload(text: &str) -> Result<crate::service::admission::Offload, String> {
    crate::service::admission::Offload::from_name(text)
        .ok_or_else(|| format!("expected blocking or inline, got '{text}'"))
}

fn parse_instant(text: &str) -> Result<Instant, String> {
    Instant::parse_rfc3339(text)
}

/// The trust flags of `verify` and `to-fhir`.
#[derive(Args, Debug, Clone, Default)]
pub struct TrustArgs {
    /// A trust anchor: a PEM file (every certificate in it) or a DER certificate; a root or a
    /// sub-CA (repeatable)
    #[arg(long = "trusted-ca", value_name = "PEM")]
    pub trusted_ca: Vec<String>,
    /// A certificate that may link a signer to an anchor without being trusted itself, such
    /// as a sub-CA under a trusted root (repeatable)
    #[arg(long = "intermediate-ca", value_name = "PEM")]
    pub intermediate_ca: Vec<String>,
    /// The time of checking (default: now); a prescription signed after it is not valid
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// A certificate or authority revocation list: DER, or PEM (every X509 CRL in it)
    /// (repeatable)
    #[arg(long = "crl", value_name = "FILE")]
    pub crl: Vec<String>,
    #[command(flatten)]
    pub revocation: RevocationArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
}

/// The revocation policy flags of `verify`, `to-fhir` and `serve`.
#[derive(Args, Debug, Clone, Default)]
pub struct RevocationArgs {
    /// What an unknown revocation status does: require (the prescription is invalid),
    /// prefer (a warning) or off (not checked)
    #[arg(long = "revocation", value_name = "require|prefer|off", default_value = "require", value_parser = crate::verify::RevocationPolicy::parse)]
    pub revocation_policy: crate::verify::RevocationPolicy,
    /// How long a CRL is still taken before its thisUpdate and after its nextUpdate
    #[arg(long = "crl-grace", value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub crl_grace: std::time::Duration,
}

/// The CRL fetching flags of `verify`, `to-fhir` and `serve`.
#[derive(Args, Debug, Clone, Default)]
pub struct FetchArgs {
    /// Fetch the CRLs a verdict lacks from the certificates' CRL distribution points (http),
    /// cached until their nextUpdate
    #[arg(long = "fetch-crls")]
    pub fetch_crls: bool,
    /// Rewrite distribution point URLs starting with FROM to start with TO (a proxy)
    /// (repeatable)
    #[arg(long = "crl-url-rewrite", value_name = "FROM=TO")]
    pub crl_url_rewrites: Vec<String>,
    /// Longest a CRL fetch may take
    #[arg(long = "crl-fetch-timeout", value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub crl_fetch_timeout: std::time::Duration,
    /// Largest CRL fetched, bytes
    #[arg(long = "crl-max-bytes", value_name = "BYTES", default_value_t = 32 * 1024 * 1024)]
    pub crl_max_bytes: usize,
}

impl FetchArgs {
    /// The fetching configuration, `None` without `--fetch-crls`.
    pub fn to_config(&self) -> Result<Option<crate::service::fetch::FetchConfig>, String> {
        let mut rewrites = Vec::new();
        for r in &self.crl_url_rewrites {
            let (from, to) = r
                .split_once('=')
                .ok_or_else(|| format!("--crl-url-rewrite: expected FROM=TO, got '{r}'"))?;
            rewrites.push((from.to_string(), to.to_string()));
        }
        if !self.fetch_crls {
            if !rewrites.is_empty() {
                return Err("--crl-url-rewrite needs --fetch-crls".into());
            }
            return Ok(None);
        }
        Ok(Some(crate::service::fetch::FetchConfig {
            timeout: self.crl_fetch_timeout,
            max_bytes: self.crl_max_bytes,
            rewrites,
            ..Default::default()
        }))
    }
}

impl RevocationArgs {
    /// Sets the policy's revocation fields.
    pub fn apply(&self, trust: &mut crate::verify::Trust) {
        trust.policy.revocation = self.revocation_policy;
        trust.policy.crl_grace_seconds =
            i64::try_from(self.crl_grace.as_secs()).unwrap_or(i64::MAX);
    }
}

impl TrustArgs {
    /// Reads the certificates; an unreadable or unparsable one is a usage error naming it.
    pub fn to_trust(&self) -> Result<crate::verify::Trust, String> {
        let mut trust = crate::verify::Trust::new();
        for (flag, files, add) in [
            (
                "--trusted-ca",
                &self.trusted_ca,
                crate::verify::Trust::add_anchors as fn(&mut _, &[u8]) -> _,
            ),
            (
                "--intermediate-ca",
                &self.intermediate_ca,
                crate::verify::Trust::add_intermediates,
            ),
        ] {
            for file in files {
                let bytes = std::fs::read(file).map_err(|e| format!("{flag} {file}: {e}"))?;
                add(&mut trust, &bytes).map_err(|e| format!("{flag} {file}: {e}"))?;
            }
        }
        for file in &self.crl {
            let bytes = std::fs::read(file).map_err(|e| format!("--crl {file}: {e}"))?;
            trust
                .add_crls(&bytes, file)
                .map_err(|e| format!("--crl {file}: {e}"))?;
        }
        self.revocation.apply(&mut trust);
        Ok(trust)
    }

    /// The time of checking.
    pub fn at(&self) -> Result<Instant, String> {
        match &self.at {
            Some(t) => Instant::parse_rfc3339(t).map_err(|e| format!("--at: {e}")),
            None => Ok(now()),
        }
    }
}

/// Reads `--trusted-ca` and `--intermediate-ca` files into a trust configuration.
pub fn load_trust(
    anchors: &[String],
    intermediates: &[String],
) -> Result<crate::verify::Trust, String> {
    type Add = fn(&mut crate::verify::Trust, &[u8]) -> Result<usize, String>;
    let mut trust = crate::verify::Trust::new();
    let lists: [(&str, &[String], Add); 2] = [
        ("--trusted-ca", anchors, crate::verify::Trust::add_anchors),
        (
            "--intermediate-ca",
            intermediates,
            crate::verify::Trust::add_intermediates,
        ),
    ];
    for (flag, files, add) in lists {
        for file in files {
            let bytes = std::fs::read(file).map_err(|e| format!("{flag} {file}: {e}"))?;
            add(&mut trust, &bytes).map_err(|e| format!("{flag} {file}: {e}"))?;
        }
    }
    Ok(trust)
}

/// The translation context flags (DESIGN.md's CONTEXT).
#[derive(Args, Debug, Clone, Default)]
pub struct ContextArgs {
    /// Message creation time, RFC 3339 (default: now)
    #[arg(long, value_name = "RFC3339")]
    pub creation_time: Option<String>,
    /// Message id (default: the Bundle identifier, upper-cased)
    #[arg(long, value_name = "UUID")]
    pub message_id: Option<String>,
    /// Sender ASID
    #[arg(long, value_name = "ID", default_value = crate::context::DEFAULT_FROM_ASID)]
    pub from_asid: String,
    /// Receiver ASID
    #[arg(long, value_name = "ID", default_value = crate::context::DEFAULT_TO_ASID)]
    pub to_asid: String,
    /// SDS user id of the sender
    #[arg(long, value_name = "ID", default_value = crate::context::DEFAULT_SDS_USER_ID)]
    pub sds_user_id: String,
    /// SDS role profile id of the sender
    #[arg(long, value_name = "ID", default_value = crate::context::DEFAULT_SDS_ROLE_PROFILE_ID)]
    pub sds_role_profile_id: String,
}

/// The current time: read here, at the edge, never in the core.
pub fn now() -> Instant {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Instant::from_unix(secs).expect("the system clock is within the representable range")
}

impl ContextArgs {
    /// Builds the context; a bad time is a usage error.
    pub fn to_context(&self) -> Result<Context, String> {
        let now = match &self.creation_time {
            Some(t) => Instant::parse_rfc3339(t).map_err(|e| format!("--creation-time: {e}"))?,
            None => now(),
        };
        let mut ctx = Context::new(now);
        ctx.message_id = self.message_id.clone();
        ctx.from_asid = self.from_asid.clone();
        ctx.to_asid = self.to_asid.clone();
        ctx.sds_user_id = self.sds_user_id.clone();
        ctx.sds_role_profile_id = self.sds_role_profile_id.clone();
        Ok(ctx)
    }
}

/// Reads a file, or stdin for `-`.
pub fn read_input(path: &str) -> Result<Vec<u8>, String> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("eps-translator: {message}");
    ExitCode::from(2)
}

fn rejected(rejection: &Rejection) -> ExitCode {
    let body = serde_json::to_string_pretty(&rejection.to_operation_outcome()).unwrap_or_default();
    // A closed stdout (`| head`) must not turn a refusal into a panic.
    let _ = writeln!(std::io::stdout().lock(), "{body}");
    eprintln!("eps-translator: input rejected: {rejection}");
    ExitCode::from(1)
}

fn write_stdout(bytes: &[u8]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => usage_error(&format!("cannot write output: {e}")),
    }
}

fn run_c14n(
    mode: &str,
    prefixes: Vec<String>,
    subtree: Option<String>,
    namespaces: Vec<String>,
    file: &str,
) -> ExitCode {
    let Some(mode) = crate::c14n::Mode::from_cli(mode) else {
        return usage_error(&format!(
            "--mode: expected exc, exc-with-comments, c14n10 or c14n10-with-comments, got '{mode}'"
        ));
    };
    let mut options = crate::c14n::Options::new(mode);
    options.inclusive_prefixes = prefixes;
    options.subtree = subtree.as_deref();
    for binding in &namespaces {
        let Some((prefix, uri)) = binding.split_once('=') else {
            return usage_error(&format!("--ns: expected PREFIX=URI, got '{binding}'"));
        };
        options
            .namespaces
            .push((prefix.to_string(), uri.to_string()));
    }
    let input = match read_input(file) {
        Ok(b) => b,
        Err(e) => return usage_error(&e),
    };
    let text = match std::str::from_utf8(&input) {
        Ok(t) => t,
        Err(e) => {
            return refused_xml(&format!(
                "input is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ))
        }
    };
    match crate::c14n::canonicalize(text, &options) {
        Ok(bytes) => write_stdout(&bytes),
        Err(e) => rejected(&Rejection::from(&e)),
    }
}

fn refused_xml(message: &str) -> ExitCode {
    let rejection = Rejection::single(crate::error::Issue::error(
        crate::error::IssueCode::Structure,
        message,
        None,
    ));
    rejected(&rejection)
}

/// The fetcher `--fetch-crls` asks for (a fresh cache for this run).
fn fetcher(
    args: &TrustArgs,
) -> Result<Option<std::sync::Arc<crate::service::fetch::Fetcher>>, String> {
    Ok(args
        .fetch
        .to_config()?
        .map(crate::service::fetch::Fetcher::new))
}

fn run_verify(args: &TrustArgs, file: &str) -> ExitCode {
    let (trust, at, fetcher) = match args
        .to_trust()
        .and_then(|t| Ok((t, args.at()?, fetcher(args)?)))
    {
        Ok(x) => x,
        Err(e) => return usage_error(&e),
    };
    let input = match read_input(file) {
        Ok(b) => b,
        Err(e) => return usage_error(&e),
    };
    crate::service::init_logs("warn,eps_translator::crl=info");
    let report = match crate::service::crls::verify_fetching(fetcher.as_ref(), trust, now(), |t| {
        crate::verify::verify(&input, t, at)
    }) {
        Ok(r) => r,
        Err(r) => return rejected(&r),
    };
    let body = serde_json::to_string_pretty(&report.to_json()).unwrap_or_default();
    if let Err(e) = writeln!(std::io::stdout().lock(), "{body}") {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return usage_error(&format!("cannot write output: {e}"));
        }
    }
    if report.prescriptions.is_empty() {
        eprintln!("eps-translator: no prescription to verify");
    }
    for p in report.prescriptions.iter().filter(|p| !p.is_valid()) {
        eprintln!(
            "eps-translator: prescription {} is not valid: {}",
            p.id,
            p.errors().join(", ")
        );
    }
    if report.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn run_to_fhir(args: &TrustArgs, no_verify: bool, file: &str) -> ExitCode {
    if no_verify && !args.trusted_ca.is_empty() {
        return usage_error("--no-verify and --trusted-ca contradict each other");
    }
    let (mut trust, at, fetcher) = match args
        .to_trust()
        .and_then(|t| Ok((t, args.at()?, fetcher(args)?)))
    {
        Ok(x) => x,
        Err(e) => return usage_error(&e),
    };
    let input = match read_input(file) {
        Ok(b) => b,
        Err(e) => return usage_error(&e),
    };
    if fetcher.is_some() && !no_verify {
        // A first verification names the CRLs to fetch; the translation then verifies with
        // them. Input that is not a release response is translated unverified anyway.
        crate::service::init_logs("warn,eps_translator::crl=info");
        let seen = std::cell::RefCell::new(None);
        let _ =
            crate::service::crls::verify_fetching(fetcher.as_ref(), trust.clone(), now(), |t| {
                *seen.borrow_mut() = Some(t.crls().to_vec());
                crate::verify::verify(&input, t, at)
            });
        if let Some(crls) = seen.into_inner() {
            let known = trust.crls().len();
            trust.extend_crls(crls.into_iter().skip(known));
        }
    }
    let signatures = if no_verify {
        crate::to_fhir::Signatures::NotChecked
    } else {
        crate::to_fhir::Signatures::Verify { trust: &trust, at }
    };
    match crate::to_fhir::to_fhir_with(&input, &signatures) {
        Ok(json) => write_stdout(json.as_bytes()),
        Err(r) => rejected(&r),
    }
}

/// Runs the command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => match args.to_config() {
            Ok(config) => crate::service::serve(config),
            Err(e) => usage_error(&e),
        },
        Command::Demo => crate::service::demo::run(),
        Command::Loadtest(args) => crate::service::loadtest::run(&args),
        Command::Verify { trust, file } => run_verify(&trust, &file),
        Command::ToFhir {
            trust,
            no_verify,
            file,
        } => run_to_fhir(&trust, no_verify, &file),
        Command::C14n {
            mode,
            prefixes,
            subtree,
            namespaces,
            file,
        } => run_c14n(&mode, prefixes, subtree, namespaces, &file),
        Command::Prepare {
            algorithm,
            signing_time,
            show,
            context,
            file,
        } => {
            let Some(algorithm) = crate::signing::DigestAlgorithm::from_name(&algorithm) else {
                return usage_error(&format!(
                    "--algorithm: expected sha256 or sha1, got '{algorithm}'"
                ));
            };
            let mut args = context;
            if signing_time.is_some() {
                args.creation_time = signing_time;
            }
            let ctx = match args.to_context() {
                Ok(c) => c,
                Err(e) => return usage_error(&e.replace("--creation-time", "--signing-time")),
            };
            let input = match read_input(&file) {
                Ok(b) => b,
                Err(e) => return usage_error(&e),
            };
            match crate::signing::prepare(&input, algorithm, &ctx) {
                Ok(p) => {
                    for issue in &p.issues {
                        eprintln!("eps-translator: {issue}");
                    }
                    match show.as_deref() {
                        None => write_stdout(format!("{}\n", p.parameters_json).as_bytes()),
                        Some("fragments") => write_stdout(&p.fragments_c14n),
                        Some("signed-info") => write_stdout(p.signed_info_xml.as_bytes()),
                        Some(other) => usage_error(&format!(
                            "--show: expected fragments or signed-info, got '{other}'"
                        )),
                    }
                }
                Err(r) => rejected(&r),
            }
        }
        Command::Convert {
            context,
            strict,
            report,
            file,
        } => {
            let mut ctx = match context.to_context() {
                Ok(c) => c,
                Err(e) => return usage_error(&e),
            };
            ctx.strict = strict;
            let input = match read_input(&file) {
                Ok(b) => b,
                Err(e) => return usage_error(&e),
            };
            match crate::translate::convert(&input, &ctx) {
                Ok(t) => {
                    for issue in &t.issues {
                        eprintln!("eps-translator: {issue}");
                    }
                    if report {
                        for path in &t.not_carried {
                            eprintln!("eps-translator: not carried over: {path}");
                        }
                    }
                    write_stdout(t.xml.as_bytes())
                }
                Err(r) => rejected(&r),
            }
        }
    }
}
