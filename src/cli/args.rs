//! The clap derive structs. Values are parsed here with the library's own parsers, so a bad
//! value is rejected (exit 2, the value named) before any process is touched.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use regex::Regex;

use reaper::spec::{EnvSpec, StartBound};
use reaper::{PortSpec, Proto, Sequence, Signal};

use super::exit;

const EXAMPLES: &str = "\
Examples:
  reaper kill 3000                     end what holds port 3000 (a bare number is a port)
  reaper list 3000                     what holds port 3000?
  reaper list                          every process holding a listening port
  reaper tree 1234                     ancestry and descendants of 1234, with ports
  reaper kill --port 3000 --dry-run    show what would be signalled
  reaper kill --port 3000 --yes        end the holder of 3000 and what it spawned
  reaper kill --signature 'chromedriver|geckodriver' --timeout 2s
  reaper run --watch-pid $$ -- ./server --port 5700
  reaper wait --port 5700 --free --timeout 10s";

/// Find processes by port, command line or ancestry, and end orphaned process trees cleanly.
#[derive(Debug, Parser)]
#[command(name = "reaper", version, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    /// When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Print nothing but errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Without one, on a terminal (stdin and stdout), the picker starts (`reaper pick`).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find processes and show them (exit 0 if something matched, 1 if nothing did).
    List(ListArgs),
    /// Show one process's ancestry and descendants, with the ports each holds.
    Tree(TreeArgs),
    /// Explain matching processes: who started them, who restarts them, and how to stop them.
    Why(WhyArgs),
    /// End matching processes and their descendants: a graceful signal, then SIGKILL.
    Kill(KillArgs),
    /// Run a command and end its whole tree when an anchor process dies or reaper is signalled.
    Run(RunArgs),
    /// Wait until a port is free or listening, or a process has exited.
    Wait(WaitArgs),
    /// Pick processes from a live list and end them (also plain `reaper` on a terminal).
    Pick(PickArgs),
    /// Print shell completions or the man page.
    #[command(hide = true)]
    Generate(GenerateArgs),
    /// Print live values for the shell completions (what the committed scripts call).
    #[command(hide = true)]
    Complete(CompleteArgs),
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset or empty.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// JSON for programs.
    Json,
    /// One pid per line, nothing else.
    Pid,
}

/// `--proto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProtoArg {
    /// TCP only.
    Tcp,
    /// UDP only.
    Udp,
}

impl From<ProtoArg> for Proto {
    fn from(p: ProtoArg) -> Proto {
        match p {
            ProtoArg::Tcp => Proto::Tcp,
            ProtoArg::Udp => Proto::Udp,
        }
    }
}

/// `--state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    /// TCP sockets in LISTEN (and bound UDP sockets).
    Listen,
    /// Also connected sockets whose local port matches (accepted connections).
    Any,
}

/// `--port`'s parser: [`PortSpec::parse_named`], also with the leading `:` people type for a
/// port (`:3000`, as in `host:port` and the picker's filter).
fn parse_port(s: &str) -> Result<PortSpec, reaper::Error> {
    let t = s.trim();
    PortSpec::parse_named(t.strip_prefix(':').filter(|r| !r.is_empty()).unwrap_or(t))
}

/// A plain argument of `list`, `kill` and `wait`: a port, as killport and fkill take it. A bare
/// number is a port, never a pid (`--pid` names a pid); anything that is not a port is an error
/// saying what was expected.
fn parse_port_arg(s: &str) -> Result<PortSpec, reaper::Error> {
    parse_port(s).map_err(|e| {
        let why = match e {
            reaper::Error::InvalidPort { reason, .. } => reason,
            other => other.to_string(),
        };
        let t = s.trim();
        let hint = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            format!("; --pid {t} selects a process by pid")
        } else if t.starts_with(|c: char| c.is_ascii_alphabetic()) && !t.contains(':') {
            format!("; --name {t} or --signature {t} selects processes by name or command line")
        } else {
            String::new()
        };
        reaper::Error::Usage(format!(
            "{why}; a plain argument is a port: 3000, :3000, 3000-3010, udp:53 or a service name such as http{hint}"
        ))
    })
}

fn parse_signal(s: &str) -> Result<Signal, reaper::Error> {
    s.parse()
}

/// The signal names `--signal` completes to: the POSIX ones that Linux and macOS share, a fixed
/// list so that the committed completions are the same whichever platform generates them (the
/// parser still decides what this platform accepts).
const SIGNAL_NAMES: [&str; 28] = [
    "TERM", "INT", "HUP", "KILL", "QUIT", "USR1", "USR2", "ABRT", "ALRM", "BUS", "CHLD", "CONT", "FPE", "ILL", "IO",
    "PIPE", "PROF", "SEGV", "STOP", "SYS", "TRAP", "TSTP", "TTIN", "TTOU", "URG", "VTALRM", "WINCH", "XCPU",
];

/// `--signal`'s parser: [`parse_signal`], with [`SIGNAL_NAMES`] as the possible values, so that
/// the shell completions offer them (`reaper kill --signal <TAB>`).
#[derive(Clone)]
struct SignalParser;

impl clap::builder::TypedValueParser for SignalParser {
    type Value = Signal;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Signal, clap::Error> {
        clap::builder::TypedValueParser::parse_ref(&parse_signal, cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(SIGNAL_NAMES.iter().map(|&n| clap::builder::PossibleValue::new(n))))
    }
}

fn parse_sequence(s: &str) -> Result<Sequence, reaper::Error> {
    s.parse()
}

fn parse_duration(s: &str) -> Result<Duration, reaper::Error> {
    reaper::parse_duration(s)
}

fn parse_env(s: &str) -> Result<EnvSpec, reaper::Error> {
    s.parse()
}

fn parse_start(s: &str) -> Result<StartBound, reaper::Error> {
    s.parse()
}

fn parse_regex(s: &str) -> Result<Regex, reaper::Error> {
    reaper::select::regex(s)
}

fn parse_pid(s: &str) -> Result<u32, reaper::Error> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|&p| p > 0 && p <= 4_194_304)
        .ok_or_else(|| reaper::Error::InvalidPid(s.to_string()))
}

fn parse_id(s: &str) -> Result<u32, reaper::Error> {
    s.trim().parse::<u32>().map_err(|_| reaper::Error::InvalidPid(s.to_string()))
}

/// The selectors shared by `list`, `kill` and `why`.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Selectors (AND across kinds, OR within a kind)")]
pub struct SelectArgs {
    /// Ports as plain arguments, as --port takes them: 3000, :3000, 3000-3010, udp:53, http. A bare number is a port; --pid selects a pid.
    #[arg(value_name = "PORT", value_delimiter = ',', value_parser = parse_port_arg)]
    pub ports: Vec<PortSpec>,
    /// Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists).
    #[arg(short, long = "port", value_name = "SPEC", value_delimiter = ',', value_parser = parse_port)]
    pub port: Vec<PortSpec>,
    /// Only this protocol's sockets.
    #[arg(long, value_enum)]
    pub proto: Option<ProtoArg>,
    /// Which TCP sockets a port matches: listeners only, or also connected ones.
    #[arg(long, value_enum, default_value_t = StateArg::Listen)]
    pub state: StateArg,
    /// Regex over the full command line (arguments joined by single spaces; no short form: -s is the signal, as in kill(1)).
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    pub signature: Vec<Regex>,
    /// Exact process name (the kernel's name, argv[0]'s file name or the executable's).
    #[arg(short, long, value_name = "NAME")]
    pub name: Vec<String>,
    /// Executable path or glob (matched against the file name when it has no '/').
    #[arg(long, value_name = "PATH_OR_GLOB")]
    pub exe: Vec<String>,
    /// Regex over the command line of processes never to match (repeatable).
    #[arg(short = 'x', long, value_name = "REGEX", value_parser = parse_regex)]
    pub exclude: Vec<Regex>,
    /// Exact pid (repeatable).
    #[arg(long, value_name = "PID", value_parser = parse_pid)]
    pub pid: Vec<u32>,
    /// Every descendant of PID.
    #[arg(long, value_name = "PID", value_parser = parse_pid)]
    pub descendants_of: Vec<u32>,
    /// The direct children of PID.
    #[arg(long, value_name = "PID", value_parser = parse_pid)]
    pub children_of: Vec<u32>,
    /// Process group id.
    #[arg(long, value_name = "N", value_parser = parse_id)]
    pub pgid: Vec<u32>,
    /// Session id.
    #[arg(long, value_name = "N", value_parser = parse_id)]
    pub sid: Vec<u32>,
    /// Processes reparented away from whoever started them (parent is PID 1 or a systemd --user subreaper).
    #[arg(long)]
    pub orphans: bool,
    /// Owner, by name or uid.
    #[arg(short, long, value_name = "NAME|UID")]
    pub user: Vec<String>,
    /// Started more than DUR ago (500ms, 5s, 2m, 1h; a bare number is seconds).
    #[arg(long, value_name = "DUR", value_parser = parse_duration, allow_hyphen_values = true)]
    pub older_than: Option<Duration>,
    /// Started less than DUR ago.
    #[arg(long, value_name = "DUR", value_parser = parse_duration, allow_hyphen_values = true)]
    pub younger_than: Option<Duration>,
    /// Environment has NAME, or NAME=VALUE exactly (repeatable; other users' need root). A CI job marker: RUNNER_TRACKING_ID=..., BUILD_ID=...
    #[arg(long, value_name = "NAME[=VALUE]", value_parser = parse_env)]
    pub env: Vec<EnvSpec>,
    /// In this cgroup v2 path or below it, as /proc/PID/cgroup shows it (absolute, repeatable).
    #[arg(long, value_name = "PATH", value_parser = reaper::spec::parse_cgroup)]
    pub cgroup: Vec<String>,
    /// Started after WHEN: RFC 3339 (2026-01-31T12:00:00.25Z), @UNIX_SECONDS[.frac], or pid:N (when N started).
    #[arg(long, value_name = "WHEN", value_parser = parse_start)]
    pub started_after: Option<StartBound>,
    /// Started before WHEN (same forms as --started-after).
    #[arg(long, value_name = "WHEN", value_parser = parse_start)]
    pub started_before: Option<StartBound>,
    /// In the container whose id begins with ID (4 or more hex digits, as `docker ps` shows it; repeatable).
    #[arg(long, value_name = "ID", value_parser = reaper::container::parse_prefix)]
    pub container: Vec<String>,
    /// Look ports up in every network namespace (containers, `ip netns`), not only reaper's own.
    #[arg(long)]
    pub all_netns: bool,
    /// Let signature, name and ancestry selectors match other users' processes (without it a broad selector matches only yours; `list` shows what `kill` would take).
    #[arg(long)]
    pub all_users: bool,
}

/// `reaper list`.
#[derive(Debug, Args)]
#[command(after_help = after_help(
    "list",
    &[
        "reaper list 3000",
        "reaper list --port 3000",
        "reaper list -p tcp:8000-8100 --tree",
        "reaper list --signature 'uvicorn .*:5700' --format json",
        "reaper list --orphans --signature my-sidecar",
    ],
))]
pub struct ListArgs {
    // The flattened groups come last: their help heading would otherwise carry over to the
    // options declared after them.
    /// Show each match within its ancestry and descendants.
    #[arg(long)]
    pub tree: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub select: SelectArgs,
}

/// `reaper why`.
#[derive(Debug, Args)]
#[command(after_help = after_help(
    "why",
    &["reaper why 5432", "reaper why --pid 4242 --format json", "reaper why --signature 'node .*vite'"],
))]
pub struct WhyArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub select: SelectArgs,
}

/// `reaper tree`.
#[derive(Debug, Args)]
#[command(after_help = after_help("tree", &["reaper tree 1234", "reaper tree $(reaper list -p 5700 --format pid | head -1)"]))]
pub struct TreeArgs {
    /// The process to show.
    #[arg(value_name = "PID", value_parser = parse_pid)]
    pub pid: u32,
    /// Output format (`pid` lists the process and its descendants, never its ancestors).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `--timeout`'s default: how long the graceful signal has before SIGKILL.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The kill sequence options shared by `kill` and `run`.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Kill sequence")]
pub struct SequenceArgs {
    /// How long to wait after the first signal before SIGKILL [default: 5s; when the first signal is KILL, 2s as with -9].
    #[arg(long, value_name = "DUR", value_parser = parse_duration, allow_hyphen_values = true)]
    pub timeout: Option<Duration>,
    /// The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1)).
    #[arg(short = 's', long, value_name = "SIG", value_parser = SignalParser, hide_possible_values = true, default_value = "TERM")]
    pub signal: Signal,
    /// The whole sequence, e.g. 'TERM:5s,INT:2s,KILL' (overrides --signal and --timeout).
    #[arg(long, value_name = "SEQ", value_parser = parse_sequence, conflicts_with_all = ["signal", "timeout"])]
    pub sequence: Option<Sequence>,
    /// SIGKILL at once.
    #[arg(short = '9', long, conflicts_with_all = ["signal", "timeout", "sequence"])]
    pub force: bool,
}

impl SequenceArgs {
    /// The sequence these options spell.
    pub fn sequence(&self) -> Sequence {
        if self.force {
            Sequence::force()
        } else if let Some(s) = &self.sequence {
            s.clone()
        } else {
            match (self.signal, self.timeout) {
                // `--signal 9` is `-9`: the same plan, the same 2 s for the kernel to finish.
                (Signal::KILL, None) => Sequence::force(),
                (signal, timeout) => Sequence::graceful(signal, timeout.unwrap_or(DEFAULT_TIMEOUT)),
            }
        }
    }
}

/// `reaper kill`.
#[derive(Debug, Args)]
#[command(after_help = after_help(
    "kill",
    &[
        "reaper kill 3000",
        "reaper kill --port 3000 --dry-run",
        "reaper kill --port 3000 --yes",
        "reaper kill --signature 'node .*vite' --timeout 2s",
        "reaper kill --descendants-of 4242 --sequence 'TERM:5s,INT:2s,KILL'",
        "reaper kill --pid 4242 -9",
    ],
))]
pub struct KillArgs {
    /// Only the matched processes, not their descendants.
    #[arg(long)]
    pub no_tree: bool,
    /// Print the plan and signal nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation on a terminal.
    #[arg(short, long)]
    pub yes: bool,
    /// Count a port with only TIME_WAIT connections left as held (for a server that does not
    /// set SO_REUSEADDR); by default such a port is free.
    #[arg(long)]
    pub strict: bool,
    /// After the ports are free, watch them this long for a supervisor that starts the holder
    /// again (only when a target's parent lives on); 0 skips it.
    #[arg(long, value_name = "DUR", value_parser = parse_duration, allow_hyphen_values = true, default_value = "1s")]
    pub settle: Duration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub sequence: SequenceArgs,
}

/// `--restart`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RestartArg {
    /// Never restart.
    No,
    /// Restart when the command exits non-zero or dies of a signal.
    OnFailure,
    /// Restart whenever the command exits.
    Always,
}

/// `reaper run`.
#[derive(Debug, Args)]
#[command(after_help = after_help(
    "run",
    &[
        "reaper run --watch-pid $$ -- ./server --port 5700",
        "reaper run sh -c 'exec ./server'",
        "reaper run --restart on-failure --max-restarts 5 -- ./flaky-worker",
        "reaper run --ready-port 5700 --ready-timeout 20s -- python3 -m http.server 5700",
    ],
))]
pub struct RunArgs {
    /// End the command's tree when this process exits (repeatable).
    #[arg(long, value_name = "PID", value_parser = parse_pid)]
    pub watch_pid: Vec<u32>,
    /// Do not start the command in a PID namespace: it sees its real pid, but if reaper is
    /// SIGKILLed only the command itself dies, not what it started. Linux only (no effect on
    /// macOS and Windows).
    #[arg(long)]
    pub no_pid_namespace: bool,
    /// Restart the command when it exits.
    #[arg(long, value_enum, default_value_t = RestartArg::No)]
    pub restart: RestartArg,
    /// At most this many restarts.
    #[arg(long, value_name = "N")]
    pub max_restarts: Option<u32>,
    /// Report on stderr once the tree listens on this TCP port.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub ready_port: Option<u16>,
    /// End the tree and exit 1 if it is not listening on --ready-port by then.
    #[arg(long, value_name = "DUR", value_parser = parse_duration, allow_hyphen_values = true, requires = "ready_port")]
    pub ready_timeout: Option<Duration>,
    /// The command and its arguments: everything from the first word that is not one of reaper's options (as with timeout and nohup); `--` before it also works.
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<String>,
    #[command(flatten)]
    pub sequence: SequenceArgs,
}

/// `reaper wait`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["port_arg", "port", "pid"])))]
#[command(
    override_usage = "reaper wait [OPTIONS] <PORT|--port SPEC> <--free|--listening>\n       reaper wait [OPTIONS] --pid PID"
)]
#[command(after_help = after_help(
    "wait",
    &["reaper wait 5700 --free --timeout 10s", "reaper wait --port 5432 --listening", "reaper wait --pid 4242 --timeout 0"],
))]
pub struct WaitArgs {
    /// The port to watch, as a plain argument (3000, :3000, udp:53, http; the same as --port).
    #[arg(value_name = "PORT", value_parser = parse_port_arg, conflicts_with = "port", requires = "condition")]
    pub port_arg: Option<PortSpec>,
    /// The port to watch.
    #[arg(short, long, value_name = "SPEC", value_parser = parse_port, requires = "condition")]
    pub port: Option<PortSpec>,
    /// Wait until nothing holds the port.
    #[arg(long, group = "condition")]
    pub free: bool,
    /// Wait until something listens on the port.
    #[arg(long, group = "condition")]
    pub listening: bool,
    /// With --free: also wait for TIME_WAIT connections to go (for a server that does not set
    /// SO_REUSEADDR; up to 60 s on Linux).
    #[arg(long, requires = "free")]
    pub strict: bool,
    /// Wait until this process has exited.
    #[arg(long, value_name = "PID", value_parser = parse_pid, conflicts_with = "port")]
    pub pid: Option<u32>,
    /// Give up after DUR (exit 1); 0 waits forever.
    #[arg(long, value_name = "DUR", value_parser = parse_duration, allow_hyphen_values = true, default_value = "30s")]
    pub timeout: Duration,
}

/// `reaper pick`.
#[derive(Debug, Args)]
#[command(after_help = pick_help())]
pub struct PickArgs {
    #[command(flatten)]
    pub sequence: SequenceArgs,
}

/// The picker's keys: the one source of `pick --help`, the man page and the table in docs/src/by-hand.md.
pub const PICK_KEYS: [(&str, &str); 9] = [
    (
        "typing",
        "filters, q, j and k included: :3000 a port (3000-3010, udp:53, http), 4242 a pid, anything else fuzzily over the command line",
    ),
    ("up, down, ^P/^N, ^K/^J", "move"),
    ("PgUp/PgDn, Home/End", "move by a page, to either end"),
    ("space, tab", "mark (several); the count of marks is always shown, also of marks the filter hides"),
    ("enter", "show the plan for the marked processes (or the highlighted one); y runs it, any other key goes back"),
    ("k (or 9, !)", "while it runs: SIGKILL now"),
    ("^A", "everyone's processes or yours (root sees everyone's)"),
    ("^U, backspace", "clear the filter, delete a character"),
    ("esc, ^C", "leave, signalling nothing"),
];

/// `rows` as an indented two-column list, the second column wrapped to `width` and its
/// continuation lines indented under it (clap does not re-wrap lines that fit).
pub fn two_columns(rows: &[(&str, &str)], width: usize) -> String {
    let key_width = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0) + 2;
    let room = width.saturating_sub(key_width + 2).max(20);
    let mut out = String::new();
    for (key, text) in rows {
        let mut line = String::new();
        let mut first = true;
        for word in text.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
                let lead = if first { format!("  {key:<key_width$}") } else { " ".repeat(key_width + 2) };
                out.push_str(&format!("{lead}{line}\n"));
                first = false;
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        let lead = if first { format!("  {key:<key_width$}") } else { " ".repeat(key_width + 2) };
        out.push_str(&format!("{lead}{line}\n"));
    }
    out
}

fn pick_help() -> String {
    format!(
        "Keys:\n{}\n{}",
        two_columns(&PICK_KEYS, 78),
        after_help("pick", &["reaper pick", "reaper pick --timeout 2s"])
    )
}

/// A subcommand's help after its options: its exit statuses (from [`exit::STATUSES`]), then
/// its examples.
fn after_help(cmd: &str, examples: &[&str]) -> String {
    let examples: Vec<String> = examples.iter().map(|e| format!("  {e}")).collect();
    format!("Exit status:\n{}\nExamples:\n{}", two_columns(exit::statuses(cmd), 78), examples.join("\n"))
}

/// What `complete` prints: one value a line, then a tab and what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompleteTarget {
    /// Listening ports, with the names of the processes holding them.
    Port,
    /// Process ids, with their command lines.
    Pid,
    /// User names, with their uids.
    User,
}

/// `reaper complete`.
#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// What to print.
    #[arg(value_enum)]
    pub target: CompleteTarget,
}

/// What `generate` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GenerateTarget {
    /// Bash completions.
    Bash,
    /// Zsh completions.
    Zsh,
    /// Fish completions.
    Fish,
    /// PowerShell completions.
    Powershell,
    /// Elvish completions.
    Elvish,
    /// The man page (roff).
    Man,
    /// The table of the picker's keys in docs/src/by-hand.md (Markdown).
    #[value(hide = true)]
    MarkdownKeys,
    /// The table of exit codes in docs/src/exit-codes-json.md (Markdown).
    #[value(hide = true)]
    MarkdownExit,
}

/// `reaper generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to print.
    #[arg(value_enum)]
    pub target: GenerateTarget,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    #[cfg(unix)]
    fn signal_names_parse() {
        for name in SIGNAL_NAMES {
            assert!(name.parse::<Signal>().is_ok(), "{name}");
        }
    }

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    /// `list` previews `kill`: both take the same selectors and rails. Every option of one is
    /// an option of the other, but for the few that are about acting (kill) or showing (list).
    #[test]
    fn list_and_kill_take_the_same_selectors_and_rails() {
        let cmd = Cli::command();
        let ids = |name: &str| -> std::collections::BTreeSet<String> {
            let sub = cmd.find_subcommand(name).unwrap_or_else(|| panic!("no {name}"));
            sub.get_arguments().map(|a| a.get_id().to_string()).collect()
        };
        let (list, kill) = (ids("list"), ids("kill"));
        let kill_only = ["no_tree", "dry_run", "yes", "strict", "settle", "timeout", "signal", "sequence", "force"];
        let list_only = ["tree"];
        let extra_in_kill: Vec<&String> =
            kill.difference(&list).filter(|id| !kill_only.contains(&id.as_str())).collect();
        let extra_in_list: Vec<&String> =
            list.difference(&kill).filter(|id| !list_only.contains(&id.as_str())).collect();
        assert!(extra_in_kill.is_empty(), "kill takes selectors or rails that list does not: {extra_in_kill:?}");
        assert!(extra_in_list.is_empty(), "list takes selectors or rails that kill does not: {extra_in_list:?}");
        for id in ["all_users", "ports", "port", "pid", "signature", "env"] {
            assert!(list.contains(id) && kill.contains(id), "{id}");
        }
    }
}
