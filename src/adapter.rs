//! What the command line and the service share and the core never does: read the clock,
//! read input files, and parse the durations people write in flags. The core takes its time
//! from the [`Context`](crate::Context) these build.

use crate::datetime::Instant;
use std::io::Read;

/// The current time: read here, by the adapters, never in the core.
pub fn now() -> Instant {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Instant::from_unix(secs).expect("the system clock is within the representable range")
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

/// Parses a listen or target address: `IP:PORT`, `HOST:PORT` (resolved, the first address
/// wins: `localhost:50051`), or a URL `http://HOST:PORT[/]`.
pub fn parse_address(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let bare = text.trim();
    let bare = bare.strip_prefix("http://").unwrap_or(bare);
    if bare.starts_with("https://") {
        return Err(format!(
            "'{text}': TLS is not spoken here; use http:// or HOST:PORT"
        ));
    }
    let bare = bare.trim_end_matches('/');
    if let Ok(addr) = bare.parse() {
        return Ok(addr);
    }
    let mut addrs = bare
        .to_socket_addrs()
        .map_err(|e| format!("'{text}': expected HOST:PORT or http://HOST:PORT ({e})"))?;
    addrs
        .next()
        .ok_or_else(|| format!("'{text}': the name resolves to no address"))
}
