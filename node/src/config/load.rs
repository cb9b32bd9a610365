//! Start-up configuration as `redis-server` reads it: the argv grammar, the
//! config file (and `include`d ones, wildcards allowed), stdin, and the
//! "FATAL CONFIG FILE ERROR" texts.
//!
//! Redis turns the command-line options into redis.conf lines ("--port 7000"
//! becomes "port 7000"), appends them to the file's text after a newline and
//! reads everything as one file. Line numbers in errors count in that combined
//! text, which is why `redis-server --port` complains about line 2.

use std::collections::HashSet;
use std::ffi::{CStr, CString, OsStr};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::syntax::{c_str, repr, split_args, split_lines, strerror, trim};
use super::table::{flags, DIRECTIVES};
use super::value::Origin;
use super::{lookup, Config, ConfigError, Located};

/// redis.conf directives Redis still accepts and ignores.
const DEPRECATED: [&[u8]; 3] = [b"list-max-ziplist-entries", b"list-max-ziplist-value", b"lua-replicate-commands"];

/// Redis reads files with `fgets` into a 1024-byte buffer.
const READ_CHUNK: usize = 1024;

pub(crate) fn from_args(
    args: &[String],
    stdin: &mut dyn Read,
    commands: Option<&[&str]>,
) -> Result<Config, ConfigError> {
    let mut loader = Loader {
        config: Config::defaults(),
        save_loaded: false,
        reading_file: false,
        commands: commands.map(|c| c.iter().map(|n| n.as_bytes().to_ascii_lowercase()).collect()),
    };
    // Without arguments Redis reads nothing at all, not even an empty file.
    if args.is_empty() {
        return Ok(loader.config);
    }

    let mut next = 0;
    if !args[0].starts_with('-') {
        loader.config.file = absolute_path(args[0].as_bytes());
        next = 1;
    }
    let (options, from_stdin) = options_text(args, next);
    let file = loader.config.file.clone();
    loader.load(file.as_deref().map(|p| p.as_os_str().as_bytes()), from_stdin.then_some(stdin), Some(&options))?;
    Ok(loader.config)
}

/// Turn the arguments after the config file into redis.conf text: each
/// "--name" starts a line, the arguments after it are quoted onto it. A "-" as
/// the first or last argument means "also read stdin".
fn options_text(args: &[String], first: usize) -> (Vec<u8>, bool) {
    let mut options: Vec<u8> = Vec::new();
    let mut from_stdin = false;
    // Whether the last "--name" already has a value; until it does, a
    // following "--word" is taken as its value ("--port --bla" sets port to
    // "--bla").
    let mut has_value = true;
    let last = args.len() - 1;
    for j in first..args.len() {
        let arg = args[j].as_bytes();
        if arg == b"-" && (j == 0 || j == last) {
            from_stdin = true;
        } else if has_value && arg.starts_with(b"--") {
            if !options.is_empty() {
                options.push(b'\n');
            }
            options.extend_from_slice(&arg[2..]);
            options.push(b' ');
            // "--maxmemory 100mb" in one argument carries its own value.
            if split_args(arg).is_some_and(|a| a.len() == 1) {
                has_value = false;
                let next_is_option = j != last && args[j + 1].starts_with("--");
                if arg.eq_ignore_ascii_case(b"--save") && (next_is_option || j == last) {
                    // A bare --save means `save ""` (as before Redis 7.0.1).
                    options.extend_from_slice(b"\"\"");
                    has_value = next_is_option;
                } else if arg.eq_ignore_ascii_case(b"--sentinel") && next_is_option {
                    // --sentinel takes no value.
                    has_value = true;
                }
            } else {
                has_value = true;
            }
        } else {
            options.extend_from_slice(repr(arg).as_bytes());
            options.push(b' ');
            has_value = true;
        }
    }
    (options, from_stdin)
}

/// Redis's `getAbsolutePath`: trimmed; relative paths are joined to the working
/// directory, leading "../" parts climbing out of it.
fn absolute_path(name: &[u8]) -> Option<PathBuf> {
    let rel = trim(name, b" \r\n\t");
    if rel.first() == Some(&b'/') {
        return Some(PathBuf::from(OsStr::from_bytes(rel)));
    }
    let cwd = std::env::current_dir().ok()?;
    let mut abs = cwd.as_os_str().as_bytes().to_vec();
    if !abs.ends_with(b"/") {
        abs.push(b'/');
    }
    let mut rel = rel;
    while rel.starts_with(b"../") {
        rel = &rel[3..];
        if abs.len() > 1 {
            // Drop the last directory, keeping its leading slash.
            let cut = abs[..abs.len() - 1].iter().rposition(|&b| b == b'/').map_or(0, |p| p + 1);
            abs.truncate(cut);
        }
    }
    abs.extend_from_slice(rel);
    Some(PathBuf::from(OsStr::from_bytes(&abs)))
}

/// A failure while handling one line: a reason to report at that line, or an
/// error that already says where it happened (from an included file).
enum LineError {
    Reason(String),
    Done(ConfigError),
}

impl From<String> for LineError {
    fn from(reason: String) -> LineError {
        LineError::Reason(reason)
    }
}

impl From<&str> for LineError {
    fn from(reason: &str) -> LineError {
        LineError::Reason(reason.to_string())
    }
}

struct Loader {
    config: Config,
    /// Whether a `save` line has been read yet (it then replaces the
    /// defaults; later ones add to it). Once per process, as in Redis.
    save_loaded: bool,
    /// Redis's `reading_config_file`: set while a text is read, cleared at its
    /// end, including an included file's end, so `save` lines after an
    /// `include` replace instead of add, as in Redis.
    reading_file: bool,
    /// Command names, when `rename-command` is to be checked.
    commands: Option<HashSet<Vec<u8>>>,
}

impl Loader {
    /// Redis's `loadServerConfig`: the file's (or matching files') text, then
    /// stdin's, then the options after a newline, read as one text.
    fn load(
        &mut self,
        file: Option<&[u8]>,
        stdin: Option<&mut dyn Read>,
        options: Option<&[u8]>,
    ) -> Result<(), ConfigError> {
        let mut text = Vec::new();
        if let Some(name) = file {
            let paths = if name.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
                // With a wildcard, no match is fine: an empty conf.d directory.
                glob_paths(name)
            } else {
                vec![name.to_vec()]
            };
            for path in paths {
                let path = Path::new(OsStr::from_bytes(&path));
                let file = std::fs::File::open(path).map_err(|e| ConfigError::CantOpen {
                    path: path.to_string_lossy().into_owned(),
                    reason: strerror(&e),
                })?;
                read_like_fgets(file, &mut text);
            }
        }
        if let Some(stdin) = stdin {
            read_like_fgets(stdin, &mut text);
        }
        if let Some(options) = options {
            text.push(b'\n');
            text.extend_from_slice(options);
        }
        self.load_text(&text)
    }

    /// Redis's `loadServerConfigFromString`.
    fn load_text(&mut self, text: &[u8]) -> Result<(), ConfigError> {
        self.reading_file = true;
        for (i, raw) in split_lines(c_str(text)).into_iter().enumerate() {
            let line = trim(raw, b" \t\r\n");
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let at = |reason: String| ConfigError::Fatal {
                at: Some((i + 1, String::from_utf8_lossy(line).into_owned())),
                reason,
            };
            let Some(argv) = split_args(line) else {
                return Err(at("Unbalanced quotes in configuration line".to_string()));
            };
            if argv.is_empty() {
                continue;
            }
            match self.directive(argv, i + 1, line) {
                Ok(()) => {}
                Err(LineError::Reason(reason)) => return Err(at(reason)),
                Err(LineError::Done(e)) => return Err(e),
            }
        }
        self.after_text()
    }

    fn directive(&mut self, mut argv: Vec<Vec<u8>>, line: usize, text: &[u8]) -> Result<(), LineError> {
        argv[0].make_ascii_lowercase();
        let name = argv[0].as_slice();
        let argc = argv.len();
        if let Some(entry) = lookup(name) {
            let d = &DIRECTIVES[entry.index];
            let multi = d.has(flags::MULTI_ARG);
            if !multi && argc != 2 {
                return Err("wrong number of arguments".into());
            }
            // "--save '3600 1 300 100'" arrives as one argument: split it (an
            // empty one stays, so `save ""` keeps meaning "no save points").
            let args = if multi && argc == 2 && !argv[1].is_empty() {
                split_args(&argv[1]).unwrap_or_default()
            } else {
                argv[1..].to_vec()
            };
            let origin =
                if self.reading_file { Origin::File { save_loaded: &mut self.save_loaded } } else { Origin::Command };
            self.config.assign(entry.index, &args, origin)?;
            return Ok(());
        }
        if argc == 2 && DEPRECATED.contains(&name) {
            return Ok(());
        }
        let lossy = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        match name {
            b"include" if argc == 2 => {
                let file = argv[1].clone();
                self.load(Some(&file), None, None).map_err(LineError::Done)
            }
            b"rename-command" if argc == 3 => {
                if let Some(commands) = &mut self.commands {
                    if !commands.remove(&argv[1].to_ascii_lowercase()) {
                        return Err("No such command in rename-command".into());
                    }
                    if !argv[2].is_empty() && !commands.insert(argv[2].to_ascii_lowercase()) {
                        return Err("Target command name already exists".into());
                    }
                }
                let rename = (lossy(&argv[1]), lossy(&argv[2]));
                self.config.file_directives.rename_commands.push(located(rename, line, text));
                Ok(())
            }
            b"user" if argc >= 2 => {
                let rules: Vec<String> = argv[1..].iter().map(|a| lossy(a)).collect();
                self.config.file_directives.users.push(located(rules, line, text));
                Ok(())
            }
            b"loadmodule" if argc >= 2 => {
                let module: Vec<String> = argv[1..].iter().map(|a| lossy(a)).collect();
                self.config.file_directives.load_modules.push(located(module, line, text));
                Ok(())
            }
            _ if name.contains(&b'.') => {
                if argc < 2 {
                    return Err("Module config specified without value".into());
                }
                let key = lossy(name);
                let value = argv[1..].iter().map(|a| lossy(a)).collect::<Vec<_>>().join(" ");
                let queue = &mut self.config.file_directives.module_configs;
                match queue.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = value,
                    None => queue.push((key, value)),
                }
                Ok(())
            }
            // A bare "sentinel" line selects sentinel mode, which is decided
            // before the file is read; Corvid has no sentinel mode.
            b"sentinel" if argc == 1 => Ok(()),
            b"sentinel" => Err("sentinel directive while not in sentinel mode".into()),
            _ => Err("Bad directive or wrong number of arguments".into()),
        }
    }

    /// Redis's checks at the end of each text read (an included file too).
    fn after_text(&mut self) -> Result<(), ConfigError> {
        let fatal = |reason: String| ConfigError::Fatal { at: None, reason };
        let logfile = self.config.get_raw("logfile");
        if !logfile.is_empty() {
            // Redis opens it in append mode, creating it, to fail early.
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(OsStr::from_bytes(&logfile))
                .map_err(|e| fatal(format!("Can't open the log file: {}", strerror(&e))))?;
        }
        if self.config.get_bool("cluster-enabled") && self.config.replica_of().is_some() {
            return Err(fatal("replicaof directive not allowed in cluster mode".to_string()));
        }
        for i in 0..DIRECTIVES.len() {
            self.config.clamp(i, true);
        }
        self.reading_file = false;
        Ok(())
    }
}

fn located<T>(value: T, line: usize, text: &[u8]) -> Located<T> {
    Located { value, line, text: String::from_utf8_lossy(text).into_owned() }
}

/// Read everything as Redis's `fgets` loop does: in lines of at most 1024
/// bytes, each cut at its first NUL byte; a read error ends the text.
fn read_like_fgets(mut from: impl Read, into: &mut Vec<u8>) {
    let mut data = Vec::new();
    // Whatever arrived before an error is kept, as fgets keeps earlier lines.
    let _ = from.read_to_end(&mut data);
    let mut rest = data.as_slice();
    while !rest.is_empty() {
        let window = &rest[..rest.len().min(READ_CHUNK)];
        let n = window.iter().position(|&b| b == b'\n').map_or(window.len(), |p| p + 1);
        into.extend_from_slice(c_str(&rest[..n]));
        rest = &rest[n..];
    }
}

/// The files matching a wildcard `include`, sorted, as glob(3) with no flags
/// returns them (hidden files only when the pattern starts with a dot).
fn glob_paths(pattern: &[u8]) -> Vec<Vec<u8>> {
    let Ok(pattern) = CString::new(pattern) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    // SAFETY: glob_t is a plain C struct for which all-zero is the documented
    // initial state; `pattern` is a valid NUL-terminated string; on success
    // gl_pathv holds gl_pathc valid C strings until globfree, which is called
    // once and accepts a glob_t whatever glob returned.
    unsafe {
        let mut g: libc::glob_t = std::mem::zeroed();
        if libc::glob(pattern.as_ptr(), 0, None, &mut g) == 0 {
            for i in 0..g.gl_pathc {
                found.push(CStr::from_ptr(*g.gl_pathv.add(i)).to_bytes().to_vec());
            }
        }
        libc::globfree(&mut g);
    }
    found
}
