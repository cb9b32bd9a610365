//! Builds the one C file the node needs: long double arithmetic for
//! INCRBYFLOAT, which Rust has no type for (see src/longdouble.c).
fn main() {
    println!("cargo:rerun-if-changed=src/longdouble.c");
    cc::Build::new().file("src/longdouble.c").opt_level(2).compile("corvid_longdouble");
}
