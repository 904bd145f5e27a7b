//! Compiles `proto/` with protox (a pure-Rust protobuf compiler: no system `protoc`) and
//! generates the tonic service and prost messages into `OUT_DIR`, plus the encoded
//! FileDescriptorSet that server reflection serves. Only the `service` feature needs them:
//! the translation core alone (`--no-default-features`) builds without.

#[cfg(not(feature = "service"))]
fn main() {}

#[cfg(feature = "service")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use prost::Message;
    use std::path::PathBuf;

    const PROTO: &str = "proto/eps/translator/v1/translator.proto";
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile([PROTO], ["proto"])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("eps_translator_descriptor.bin"),
        fds.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .emit_rerun_if_changed(false)
        .compile_fds(fds)?;
    Ok(())
}
