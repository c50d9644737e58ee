//! Compiles the small C helper that does INCRBYFLOAT's `long double` arithmetic.

fn main() {
    println!("cargo:rerun-if-changed=csrc/long_double.c");
    cc::Build::new()
        .file("csrc/long_double.c")
        .warnings(true)
        .compile("cachegate_long_double");
}
