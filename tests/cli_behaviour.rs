//! The command line's conventions, as a user meets them: exit statuses listed in `--help`
//! and kept, `prepare` taking `convert`'s `--strict` and `--report`, `c14n` exclusive by
//! default and hinting at `--ns` when a selector matches nothing, and addresses given as
//! host names or URLs.

use std::process::{Command, Output};

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eps-translator"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        let _ = input.write_all(stdin.unwrap_or_default());
    }
    child.wait_with_output().unwrap()
}

fn example() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/convert/acute_minimal.json"
    )
    .to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_lists_the_exit_statuses_that_unreadable_input_and_bad_flags_get() {
    let help = run(&["--help"], None);
    let text = String::from_utf8_lossy(&help.stdout);
    for line in [
        "Exit status:",
        "1  input refused",
        "2  usage error",
        "3  the input file",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    for sub in ["convert", "prepare", "c14n", "to-fhir", "verify"] {
        let out = run(&[sub, "/no/such/file"], None);
        assert_eq!(out.status.code(), Some(3), "{sub}: {}", stderr(&out));
        assert!(stderr(&out).contains("cannot read /no/such/file"), "{sub}");
    }
    let out = run(&["prepare", "--algorithm", "md5", &example()], None);
    assert_eq!(out.status.code(), Some(2));
}

fn with_bad_check_character() -> Vec<u8> {
    let text = std::fs::read_to_string(example()).unwrap();
    assert!(text.contains("6BC03A-A83008-485BAR"));
    text.replace("6BC03A-A83008-485BAR", "6BC03A-A83008-485BAX")
        .into_bytes()
}

#[test]
fn prepare_takes_strict_and_report_as_convert_does() {
    let bundle = with_bad_check_character();
    for sub in ["convert", "prepare"] {
        let lenient = run(&[sub, "-"], Some(&bundle));
        assert_eq!(lenient.status.code(), Some(0), "{sub}");
        assert!(
            stderr(&lenient).contains("invalid check character"),
            "{sub}: a warning"
        );
        assert!(!stderr(&lenient).contains("not carried over"), "{sub}");

        let strict = run(&[sub, "--strict", "-"], Some(&bundle));
        assert_eq!(strict.status.code(), Some(1), "{sub} --strict refuses");
        assert!(String::from_utf8_lossy(&strict.stdout).contains("invalid check character"));

        let report = run(&[sub, "--report", &example()], None);
        assert_eq!(report.status.code(), Some(0), "{sub}");
        assert!(
            stderr(&report).contains("not carried over: Bundle.entry[0].resource.source.endpoint"),
            "{sub}: {}",
            stderr(&report)
        );
    }
}

#[test]
fn c14n_is_exclusive_by_default_and_a_selector_matching_nothing_hints_at_ns() {
    let xml = br#"<hl7:a xmlns:hl7="urn:hl7-org:v3" xmlns:x="urn:x"><hl7:b/></hl7:a>"#;
    let default = run(&["c14n", "-"], Some(xml));
    let exclusive = run(&["c14n", "--mode", "exc", "-"], Some(xml));
    assert_eq!(default.status.code(), Some(0));
    assert_eq!(default.stdout, exclusive.stdout);
    assert!(!String::from_utf8_lossy(&default.stdout).contains("urn:x"));

    let unmatched = run(&["c14n", "--subtree", "//b", "-"], Some(xml));
    assert_eq!(unmatched.status.code(), Some(1));
    assert!(
        stderr(&unmatched).contains("--ns"),
        "{}",
        stderr(&unmatched)
    );
    let matched = run(
        &[
            "c14n",
            "--subtree",
            "//h:b",
            "--ns",
            "h=urn:hl7-org:v3",
            "-",
        ],
        Some(xml),
    );
    assert_eq!(matched.status.code(), Some(0), "{}", stderr(&matched));
}

#[test]
fn addresses_are_read_as_host_names_and_urls() {
    use eps_translator::adapter::parse_address;
    let expected: std::net::SocketAddr = "127.0.0.1:50051".parse().unwrap();
    for text in [
        "127.0.0.1:50051",
        "http://127.0.0.1:50051",
        "http://127.0.0.1:50051/",
    ] {
        assert_eq!(parse_address(text).unwrap(), expected, "{text}");
    }
    let localhost = parse_address("localhost:50051").unwrap();
    assert!(localhost.ip().is_loopback());
    assert_eq!(localhost.port(), 50051);
    assert!(parse_address("https://127.0.0.1:1")
        .unwrap_err()
        .contains("TLS"));
    assert!(parse_address("no port").is_err());
}

#[test]
fn loadtest_drives_to_fhir_and_a_stream_and_logs_progress_as_lines() {
    for rpc in ["to-fhir", "stream"] {
        let out = run(
            &[
                "loadtest",
                "--rpc",
                rpc,
                "--duration",
                "1500ms",
                "--concurrency",
                "2",
            ],
            None,
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{rpc}: {stdout}{}",
            stderr(&out)
        );
        assert!(stdout.contains(" 0 errors"), "{rpc}: {stdout}");
        // stderr is a pipe here, not a terminal: progress comes as lines, no carriage returns.
        assert!(!stderr(&out).contains('\r'), "{rpc}");
        assert!(stderr(&out).contains("req/s"), "{rpc}: {}", stderr(&out));
    }
}
