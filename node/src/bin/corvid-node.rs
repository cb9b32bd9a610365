//! `corvid-node [/path/to/redis.conf] [--directive value ...]`: the same
//! command line as `redis-server`, so scripts and Redis's own test suite
//! start Corvid unchanged. The argument grammar is Redis's (a config file,
//! `-` for stdin, then `--name value...` pairs), which is why it is parsed by
//! the config module rather than by clap.

use tikv_jemallocator::Jemalloc;

// Counted, so used_memory and maxmemory see every byte at once (see alloc.rs).
#[global_allocator]
static GLOBAL: corvid_node::alloc::Counting<Jemalloc> = corvid_node::alloc::Counting(Jemalloc);

/// jemalloc's built-in options; `_RJEM_MALLOC_CONF` in the environment still
/// overrides them.
///
/// `slab_sizes`: jemalloc keeps a 128-byte extent descriptor per slab, and
/// gives the 512 B, 1, 2 and 4 KiB classes one-page slabs: a 1 KiB value
/// shares its page with three others, so a dataset of 1 KiB strings spends 3%
/// of its memory on descriptors (bench/memory.sh's cache: 3 MiB at a 100 MB
/// maxmemory). Eight-page slabs cut that to an eighth. The other classes
/// already have slabs of three to seven pages; making those larger too left
/// more pages partly used (unit/memefficiency's script test, the same bench).
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: MallocConf = MallocConf(c"slab_sizes:512-512:8|1024-1024:8|2048-2048:8|4096-4096:8".as_ptr());

#[repr(transparent)]
struct MallocConf(*const std::ffi::c_char);
// SAFETY: it points at a string literal, immutable for the whole run.
unsafe impl Sync for MallocConf {}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(corvid_node::child::ARG) {
        corvid_node::child::main();
    }
    if args.len() == 1 && (args[0] == "-v" || args[0] == "--version") {
        println!(
            "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=corvid-{}",
            env!("CARGO_PKG_VERSION")
        );
        return;
    }
    if args.len() == 1 && (args[0] == "-h" || args[0] == "--help") {
        println!("Usage: ./corvid-node [/path/to/redis.conf] [options] [-]");
        println!("       ./corvid-node - (read config from stdin)");
        println!("       ./corvid-node -v or --version");
        println!("       ./corvid-node -h or --help");
        println!();
        println!("Examples:");
        println!("       ./corvid-node (run the server with default conf)");
        println!("       ./corvid-node /etc/redis/6379.conf");
        println!("       ./corvid-node --port 7777");
        println!("       ./corvid-node /etc/myredis.conf --loglevel verbose -");
        return;
    }
    let commands = corvid_node::dispatch::command_names();
    let config = match corvid_node::config::Config::from_args_with_commands(&args, &commands) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    std::process::exit(corvid_node::run(config));
}
