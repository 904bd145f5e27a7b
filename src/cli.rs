//! The command-line adapter: flags to a [`Context`], files to bytes, results to stdout and
//! exit codes. No translation logic lives here.
//!
//! Exit status ([`EXIT_STATUS`]): 0 success; 1 input rejected (OperationOutcome JSON on
//! stdout, a one-line summary on stderr), a `verify` prescription that is not valid,
//! `loadtest` errors, or `serve` cut off by its shutdown grace; 2 usage error (clap's own, or
//! a bad flag value), or `serve` unable to listen; 3 an input that cannot be read or an
//! output that cannot be written.

pub use crate::adapter::{now, parse_address, parse_duration, read_input};
use crate::context::Context;
use crate::datetime::Instant;
use crate::error::Rejection;
pub use crate::service::loadtest::LoadtestArgs;
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "eps-translator",
    version,
    about = "Translate NHS EPS messages between FHIR R4 and HL7 v3",
    after_help = EXIT_STATUS
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The exit statuses, shown by `--help`.
pub const EXIT_STATUS: &str = "Exit status:
  0  success
  1  input refused (the OperationOutcome on stdout, a summary on stderr); for verify, a
     prescription whose signature is not valid; for loadtest, errors during the run
  2  usage error (a bad flag or flag value)
  3  the input file cannot be read, or the output cannot be written";

/// The exit status of an input that cannot be read or an output that cannot be written.
const EXIT_IO: u8 = 3;

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
        #[arg(long, default_value = "exc")]
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
        /// Refuse (instead of warn about) a prescription id with a wrong check character
        #[arg(long)]
        strict: bool,
        /// Print warnings and the FHIRPaths not carried over to stderr
        #[arg(long)]
        report: bool,
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
    Serve(Box<ServeArgs>),
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
    #[arg(long, value_name = "ADDR", default_value = crate::service::DEFAULT_GRPC_ADDR, value_parser = parse_address)]
    pub grpc: std::net::SocketAddr,
    /// HTTP façade listen address (POST /FHIR/R4/$prepare, $convert, $verify-signature; GET
    /// /_status, /_ping, /_healthcheck, /metrics)
    #[arg(long, value_name = "ADDR", value_parser = parse_address)]
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
    #[arg(long, value_name = "blocking|inline", default_value = "blocking")]
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
    /// Sender ASID of requests that give none (default: the test environment's, with a
    /// warning at start-up)
    #[arg(long, value_name = "ID", env = "EPS_FROM_ASID", default_value = crate::context::DEFAULT_FROM_ASID)]
    pub from_asid: String,
    /// Receiver ASID of requests that give none
    #[arg(long, value_name = "ID", env = "EPS_TO_ASID", default_value = crate::context::DEFAULT_TO_ASID)]
    pub to_asid: String,
    /// SDS user id of requests that give none
    #[arg(long, value_name = "ID", env = "EPS_SDS_USER_ID", default_value = crate::context::DEFAULT_SDS_USER_ID)]
    pub sds_user_id: String,
    /// SDS role profile id of requests that give none
    #[arg(long, value_name = "ID", env = "EPS_SDS_ROLE_PROFILE_ID", default_value = crate::context::DEFAULT_SDS_ROLE_PROFILE_ID)]
    pub sds_role_profile_id: String,
    /// An `nhsd-application-id` whose HTTP `$prepare` digests with SHA-1 instead of SHA-256
    /// (repeatable, or comma-separated in the environment variable)
    #[arg(
        long = "sha1-application-id",
        value_name = "ID",
        env = "EPS_SHA1_ENABLED_APPLICATION_IDS",
        value_delimiter = ','
    )]
    pub sha1_application_ids: Vec<String>,
    /// Log lines as text or as one JSON object per line
    #[arg(
        long,
        value_name = "text|json",
        env = "EPS_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: crate::service::LogFormat,
    /// Connections served at once, both ports together; more are closed as soon as accepted
    /// (keep it under the process's file-descriptor limit, `ulimit -n`)
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Requests and HTTP/2 streams open at once, both ports together; more are answered
    /// RESOURCE_EXHAUSTED / 503 at once
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_streams: usize,
    /// ConvertStream (and reflection) calls open at once, counted apart from --max-streams;
    /// more are answered RESOURCE_EXHAUSTED at once
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_client_streams: usize,
    /// HTTP/2 streams one connection may have open (more are reset REFUSED_STREAM)
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_streams_per_connection: u32,
    /// HTTP/1: time allowed for a request's header, and for the next one on a kept-alive
    /// connection
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: std::time::Duration,
    /// Header bytes a connection may hold: HTTP/1's read buffer (at least 8192), HTTP/2's
    /// header list size
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024)]
    pub max_header_bytes: usize,
    /// Time allowed for a request's whole body; for a ConvertStream, the longest wait for
    /// its next piece
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub body_timeout: std::time::Duration,
    /// A connection with no request open for this long is closed
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: std::time::Duration,
    /// HTTP/2 keep-alive: PING after this long without a frame; no answer within the same
    /// time closes the connection
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub keepalive_interval: std::time::Duration,
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
            identities: crate::service::Identities {
                from_asid: self.from_asid.clone(),
                to_asid: self.to_asid.clone(),
                sds_user_id: self.sds_user_id.clone(),
                sds_role_profile_id: self.sds_role_profile_id.clone(),
            },
            sha1_application_ids: self.sha1_application_ids.clone(),
            log_format: self.log_format,
            limits: crate::service::transport::Limits {
                max_connections: self.max_connections,
                max_streams: self.max_streams,
                max_client_streams: self.max_client_streams,
                max_streams_per_connection: self.max_streams_per_connection,
                header_timeout: self.header_timeout,
                max_header_bytes: self.max_header_bytes,
                body_timeout: self.body_timeout,
                idle_timeout: self.idle_timeout,
                keepalive_interval: self.keepalive_interval,
            },
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
    /// Fetch the CRLs a verdict lacks from the certificates' CRL distribution points (http
    /// and https), cached until their nextUpdate
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
    /// Also trust the certificates in this PEM for https distribution points, besides the
    /// built-in webpki (Mozilla) roots (repeatable)
    #[arg(long = "crl-fetch-ca", value_name = "PEM")]
    pub crl_fetch_ca: Vec<String>,
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
            if !self.crl_fetch_ca.is_empty() {
                return Err("--crl-fetch-ca needs --fetch-crls".into());
            }
            return Ok(None);
        }
        let mut config = crate::service::fetch::FetchConfig {
            timeout: self.crl_fetch_timeout,
            max_bytes: self.crl_max_bytes,
            rewrites,
            ..Default::default()
        };
        for file in &self.crl_fetch_ca {
            let pem = std::fs::read(file).map_err(|e| format!("--crl-fetch-ca {file}: {e}"))?;
            config.add_tls_roots_pem(&pem, &format!("--crl-fetch-ca {file}"))?;
        }
        Ok(Some(config))
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

/// The translation context flags: what the core's `Context` carries (docs/mapping.md).
#[derive(Args, Debug, Clone, Default)]
pub struct ContextArgs {
    /// Message creation time, RFC 3339 (default: now)
    #[arg(long, value_name = "RFC3339")]
    pub creation_time: Option<String>,
    /// Message id (default: the Bundle identifier, upper-cased; for a release request, a
    /// name-based UUID of the request and the time)
    #[arg(long, value_name = "UUID")]
    pub message_id: Option<String>,
    /// A release request's own id (default: a name-based UUID of the message id)
    #[arg(long, value_name = "UUID")]
    pub payload_id: Option<String>,
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

impl ContextArgs {
    /// Builds the context; a bad time is a usage error.
    pub fn to_context(&self) -> Result<Context, String> {
        let now = match &self.creation_time {
            Some(t) => Instant::parse_rfc3339(t).map_err(|e| format!("--creation-time: {e}"))?,
            None => now(),
        };
        let mut ctx = Context::new(now);
        ctx.message_id = self.message_id.clone();
        ctx.payload_id = self.payload_id.clone();
        ctx.from_asid = self.from_asid.clone();
        ctx.to_asid = self.to_asid.clone();
        ctx.sds_user_id = self.sds_user_id.clone();
        ctx.sds_role_profile_id = self.sds_role_profile_id.clone();
        Ok(ctx)
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

/// An input that cannot be read or an output that cannot be written.
fn io_error(message: &str) -> ExitCode {
    eprintln!("eps-translator: {message}");
    ExitCode::from(EXIT_IO)
}

fn write_stdout(bytes: &[u8]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => io_error(&format!("cannot write output: {e}")),
    }
}

/// Prints the warnings of a translation and, with `--report`, the paths not carried over.
fn print_report(issues: &[crate::Issue], not_carried: Option<&[String]>) {
    for issue in issues {
        eprintln!("eps-translator: {issue}");
    }
    for path in not_carried.unwrap_or_default() {
        eprintln!("eps-translator: not carried over: {path}");
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
    let namespaces_given = !namespaces.is_empty();
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
        Err(e) => return io_error(&e),
    };
    let text = match std::str::from_utf8(&input) {
        Ok(t) => t,
        Err(e) => return rejected(&crate::fhir::not_utf8(&input, e)),
    };
    match crate::c14n::canonicalize(text, &options) {
        Ok(bytes) => write_stdout(&bytes),
        Err(e @ crate::c14n::C14nError::NoMatch { .. }) if !namespaces_given => {
            let mut rejection = e.to_rejection(text);
            rejection.issues[0].diagnostics.push_str(
                "; an element in a namespace matches only a prefixed name whose prefix --ns binds \
                 (e.g. --subtree //hl7:ParentPrescription --ns hl7=urn:hl7-org:v3)",
            );
            rejected(&rejection)
        }
        Err(e) => rejected(&e.to_rejection(text)),
    }
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
        Err(e) => return io_error(&e),
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
            return io_error(&format!("cannot write output: {e}"));
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
        Err(e) => return io_error(&e),
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
            strict,
            report,
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
            let mut ctx = match args.to_context() {
                Ok(c) => c,
                Err(e) => return usage_error(&e.replace("--creation-time", "--signing-time")),
            };
            ctx.strict = strict;
            let input = match read_input(&file) {
                Ok(b) => b,
                Err(e) => return io_error(&e),
            };
            match crate::signing::prepare(&input, algorithm, &ctx) {
                Ok(p) => {
                    let not_carried = report.then(|| {
                        std::str::from_utf8(&input)
                            .map(crate::translate::report::not_carried)
                            .unwrap_or_default()
                    });
                    print_report(&p.issues, not_carried.as_deref());
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
                Err(e) => return io_error(&e),
            };
            match crate::translate::convert(&input, &ctx) {
                Ok(t) => {
                    print_report(&t.issues, report.then_some(t.not_carried.as_slice()));
                    write_stdout(t.xml.as_bytes())
                }
                Err(r) => rejected(&r),
            }
        }
    }
}
