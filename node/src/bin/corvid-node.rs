//! `corvid-node [/path/to/redis.conf] [--directive value ...]`: the same
//! command line as `redis-server`, so scripts and Redis's own test suite
//! start Corvid unchanged. The argument grammar is Redis's (a config file,
//! `-` for stdin, then `--name value...` pairs), which is why it is parsed by
//! the config module rather than by clap.

use tikv_jemallocator::Jemalloc;

// Counted, so used_memory and maxmemory see every byte at once (see alloc.rs).
#[global_allocator]
static GLOBAL: corvid_node::alloc::Counting<Jemalloc> = corvid_node::alloc::Counting(Jemalloc);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
