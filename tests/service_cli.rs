//! The service's commands as a user runs them: `demo` (the README's main job) exits 0 after
//! calling every RPC; `serve` answers, then shuts down gracefully on SIGTERM with exit 0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn the_demo_calls_every_rpc_and_exits_zero() {
    let out = Command::new(env!("CARGO_BIN_EXE_eps-translator"))
        .arg("demo")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    for rpc in [
        "Health",
        "Reflection",
        "Convert",
        "Prepare",
        "Canonicalize",
        "ToFhir",
        "Verify",
        "ConvertStream",
        "POST $prepare",
        "POST $convert",
        "GET /_status",
        "GET /metrics",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(rpc)),
            "{rpc} missing from\n{stdout}"
        );
    }
    assert!(stdout.contains("<PORX_IN020101SM31 xmlns=\"urn:hl7-org:v3\">"));
    assert!(stdout.contains("Parameters identical to gRPC Prepare: true"));
    assert!(stdout.contains("XML identical to gRPC Convert: true"));
}

#[cfg(unix)]
/// `demo | head`: once stdout is closed the demo still finishes its calls and shuts down
/// gracefully, without a panic.
#[test]
fn the_demo_survives_a_closed_stdout() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eps-translator"))
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("the demo ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn serve_answers_then_stops_gracefully_on_sigterm() {
    // Answered requests are logged at debug: asked for here.
    let mut server = Command::new(env!("CARGO_BIN_EXE_eps-translator"))
        .args(["serve", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .env("RUST_LOG", "info,eps_translator::request=debug")
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut log = BufReader::new(server.stderr.take().unwrap()).lines();
    let warning = log.next().unwrap().unwrap();
    assert!(
        warning.contains("WARN") && warning.contains("test-environment"),
        "{warning}"
    );
    let first = log.next().unwrap().unwrap();
    let field = |name: &str| {
        first
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name}= in {first}"))
            .to_string()
    };
    let (grpc, http) = (field("grpc"), field("http"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut client =
            eps_translator::service::pb::v1::translator_client::TranslatorClient::connect(format!(
                "http://{grpc}"
            ))
            .await
            .unwrap();
        let answer = client
            .canonicalize(eps_translator::service::pb::v1::CanonicalizeRequest {
                xml: b"<a   b='1'/>".to_vec(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(answer.into_inner().canonical, b"<a b=\"1\"></a>");
        let mut web =
            eps_translator::service::http_client::HttpClient::connect(http.parse().unwrap())
                .await
                .unwrap();
        assert_eq!(web.get("/_status").await.unwrap().status, 200);
    });
    // The client's connections close with its runtime (an unresponsive client would hold
    // the shutdown until the grace period: HTTP/2 GOAWAY waits for the peer's answer).
    drop(rt);
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.wait().unwrap();
    let rest: Vec<String> = log.map_while(Result::ok).collect();
    assert!(status.success(), "exit {status:?}; log: {rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("rpc=\"Canonicalize\" outcome=\"ok\"")),
        "{rest:?}"
    );
    assert!(
        rest.iter()
            .any(|l| l.contains("shutting down") && l.contains("SIGTERM")),
        "{rest:?}"
    );
    assert!(
        rest.last().is_some_and(|l| l.ends_with("stopped")),
        "{rest:?}"
    );
}

#[test]
fn serve_logs_json_lines_naming_refusals_by_fhirpath_and_not_answered_requests() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_eps-translator"))
        .args(["serve", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .args(["--log-format", "json"])
        .env("EPS_FROM_ASID", "999000000001")
        .env("EPS_TO_ASID", "999000000002")
        .env("EPS_SDS_USER_ID", "999000000003")
        .env("EPS_SDS_ROLE_PROFILE_ID", "999000000004")
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut log = BufReader::new(server.stderr.take().unwrap()).lines();
    let first: serde_json::Value =
        serde_json::from_str(&log.next().unwrap().unwrap()).expect("a JSON line");
    assert_eq!(
        first["fields"]["message"], "serving",
        "no warning: every id is set"
    );
    let http = first["fields"]["http"].as_str().unwrap().to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut web =
            eps_translator::service::http_client::HttpClient::connect(http.parse().unwrap())
                .await
                .unwrap();
        let json = [("content-type", "application/fhir+json")];
        let refused = web
            .post(
                "/FHIR/R4/$prepare",
                &json,
                br#"{"resourceType": "Bundle", "type": "message"}"#.to_vec(),
            )
            .await
            .unwrap();
        assert_eq!(refused.status, 400);
        let example = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/golden/convert/acute_minimal.json"
        ))
        .unwrap();
        assert_eq!(
            web.post("/FHIR/R4/$prepare", &json, example)
                .await
                .unwrap()
                .status,
            200
        );
        assert_eq!(web.get("/nothing/here").await.unwrap().status, 404);
        assert_eq!(web.get("/FHIR/R4/$convert").await.unwrap().status, 405);
    });
    drop(rt);
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(server.wait().unwrap().success());
    let lines: Vec<serde_json::Value> = log
        .map_while(Result::ok)
        .map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let fields = |l: &serde_json::Value| l["fields"].clone();
    let rejected = lines
        .iter()
        .map(fields)
        .find(|f| f["outcome"] == "rejected")
        .unwrap_or_else(|| panic!("no rejected line: {lines:?}"));
    let problems = rejected["problems"].as_str().unwrap();
    assert!(problems.contains("@Bundle"), "{problems}");
    assert!(rejected["response_bytes"].as_u64().unwrap() > 0);
    assert!(
        !lines.iter().map(fields).any(|f| f["outcome"] == "ok"),
        "answered requests are not logged at info: {lines:?}"
    );
    for status in [404, 405] {
        assert!(
            lines.iter().map(fields).any(|f| f["status"] == status),
            "{status}: {lines:?}"
        );
    }
}

/// `serve --crl-dir`: the directory is read at start-up (a bad file logged and skipped, the
/// server starting anyway) and again on SIGHUP.
#[cfg(unix)]
#[test]
fn serve_reads_the_crl_directory_and_rereads_it_on_sighup() {
    let dir = std::env::temp_dir().join(format!("eps-serve-crl-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("garbage.crl"), b"garbage").unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_eps-translator"))
        .args([
            "serve",
            "--grpc",
            "127.0.0.1:0",
            "--crl-dir-poll",
            "1h",
            "--crl-dir",
        ])
        .arg(&dir)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let (send, lines) = std::sync::mpsc::channel::<String>();
    let stderr = server.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                return;
            }
        }
    });
    // Waits for a line containing `text`; the lines before it are returned too.
    let until = |text: &str| -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            match lines.recv_timeout(std::time::Duration::from_secs(60)) {
                Ok(line) => {
                    let found = line.contains(text);
                    seen.push(line);
                    if found {
                        return seen;
                    }
                }
                Err(_) => panic!("no line with '{text}' in {seen:?}"),
            }
        }
    };
    let start = until("serving");
    assert!(
        start.iter().any(|l| l.contains("CRL file skipped")),
        "{start:?}"
    );
    assert!(
        start.iter().any(|l| l.contains("CRL directory read")),
        "{start:?}"
    );
    let signal = |name: &str| {
        assert!(Command::new("kill")
            .args([name, &server.id().to_string()])
            .status()
            .unwrap()
            .success());
    };
    signal("-HUP");
    until("SIGHUP: re-reading the CRL directory");
    until("CRL directory read");
    signal("-TERM");
    let status = server.wait().unwrap();
    let rest: Vec<String> = lines.try_iter().collect();
    assert!(status.success(), "{status}: {rest:?}");
    std::fs::remove_dir_all(&dir).ok();
}
