//! `eps-translator demo` (the README's main job) runs to the end and exits 0: a server
//! in-process, every RPC over gRPC and the HTTP façade, the expected answers.

use std::process::Command;

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
