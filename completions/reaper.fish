# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_reaper_global_optspecs
    string join \n color= q/quiet h/help V/version
end

function __fish_reaper_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_reaper_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_reaper_using_subcommand
    set -l cmd (__fish_reaper_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c reaper -n "__fish_reaper_needs_command" -l color -d 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset or empty'
always\t'Always colour'
never\t'Never colour'"
complete -c reaper -n "__fish_reaper_needs_command" -s q -l quiet -d 'Print nothing but errors'
complete -c reaper -n "__fish_reaper_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reaper -n "__fish_reaper_needs_command" -s V -l version -d 'Print version'
complete -c reaper -n "__fish_reaper_needs_command" -f -a "list" -d 'Find processes and show them (exit 0 if something matched, 1 if nothing did)'
complete -c reaper -n "__fish_reaper_needs_command" -f -a "tree" -d 'Show one process\'s ancestry and descendants, with the ports each holds'
complete -c reaper -n "__fish_reaper_needs_command" -f -a "why" -d 'Explain matching processes: who started them, who restarts them, and how to stop them'
complete -c reaper -n "__fish_reaper_needs_command" -f -a "kill" -d 'End matching processes and their descendants: a graceful signal, then SIGKILL'
complete -c reaper -n "__fish_reaper_needs_command" -f -a "run" -d 'Run a command and end its whole tree when an anchor process dies or reaper is signalled'
complete -c reaper -n "__fish_reaper_needs_command" -f -a "wait" -d 'Wait until a port is free or listening, or a process has exited'
complete -c reaper -n "__fish_reaper_needs_command" -f -a "pick" -d 'Pick processes from a live list and end them (also plain `reaper` on a terminal)'
complete -c reaper -n "__fish_reaper_needs_command" -f -a "generate" -d 'Print shell completions or the man page'
complete -c reaper -n "__fish_reaper_needs_command" -f -a "complete" -d 'Print live values for the shell completions (what the committed scripts call)'
complete -c reaper -n "__fish_reaper_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c reaper -n "__fish_reaper_using_subcommand list" -l format -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for programs'
pid\t'One pid per line, nothing else'"
complete -c reaper -n "__fish_reaper_using_subcommand list" -s p -l port -d 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)' -r -f -a "(reaper complete port 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand list" -l proto -d 'Only this protocol\'s sockets' -r -f -a "tcp\t'TCP only'
udp\t'UDP only'"
complete -c reaper -n "__fish_reaper_using_subcommand list" -l state -d 'Which TCP sockets a port matches: listeners only, or also connected ones' -r -f -a "listen\t'TCP sockets in LISTEN (and bound UDP sockets)'
any\t'Also connected sockets whose local port matches (accepted connections)'"
complete -c reaper -n "__fish_reaper_using_subcommand list" -l signature -d 'Regex over the full command line (arguments joined by single spaces; no short form: -s is the signal, as in kill(1))' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -s n -l name -d 'Exact process name (the kernel\'s name, argv[0]\'s file name or the executable\'s)' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -l exe -d 'Executable path or glob (matched against the file name when it has no \'/\')' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -s x -l exclude -d 'Regex over the command line of processes never to match (repeatable)' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -l pid -d 'Exact pid (repeatable)' -r -f -a "(reaper complete pid 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand list" -l descendants-of -d 'Every descendant of PID' -r -f -a "(reaper complete pid 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand list" -l children-of -d 'The direct children of PID' -r -f -a "(reaper complete pid 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand list" -l pgid -d 'Process group id' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -l sid -d 'Session id' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -s u -l user -d 'Owner, by name or uid' -r -f -a "(reaper complete user 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand list" -l older-than -d 'Started more than DUR ago (500ms, 5s, 2m, 1h; a bare number is seconds)' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -l younger-than -d 'Started less than DUR ago' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -l env -d 'Environment has NAME, or NAME=VALUE exactly (repeatable; other users\' need root). A CI job marker: RUNNER_TRACKING_ID=..., BUILD_ID=...' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -l cgroup -d 'In this cgroup v2 path or below it, as /proc/PID/cgroup shows it (absolute, repeatable)' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -l started-after -d 'Started after WHEN: RFC 3339 (2026-01-31T12:00:00.25Z), @UNIX_SECONDS[.frac], or pid:N (when N started)' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -l started-before -d 'Started before WHEN (same forms as --started-after)' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -l container -d 'In the container whose id begins with ID (4 or more hex digits, as `docker ps` shows it; repeatable)' -r
complete -c reaper -n "__fish_reaper_using_subcommand list" -l color -d 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset or empty'
always\t'Always colour'
never\t'Never colour'"
complete -c reaper -n "__fish_reaper_using_subcommand list" -l tree -d 'Show each match within its ancestry and descendants'
complete -c reaper -n "__fish_reaper_using_subcommand list" -l orphans -d 'Processes reparented away from whoever started them (parent is PID 1 or a systemd --user subreaper)'
complete -c reaper -n "__fish_reaper_using_subcommand list" -l all-netns -d 'Look ports up in every network namespace (containers, `ip netns`), not only reaper\'s own'
complete -c reaper -n "__fish_reaper_using_subcommand list" -l all-users -d 'Let signature, name and ancestry selectors match other users\' processes (without it a broad selector matches only yours; `list` shows what `kill` would take)'
complete -c reaper -n "__fish_reaper_using_subcommand list" -s q -l quiet -d 'Print nothing but errors'
complete -c reaper -n "__fish_reaper_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reaper -n "__fish_reaper_using_subcommand list" -s V -l version -d 'Print version'
complete -c reaper -n "__fish_reaper_using_subcommand tree" -l format -d 'Output format (`pid` lists the process and its descendants, never its ancestors)' -r -f -a "table\t'A table for people'
json\t'JSON for programs'
pid\t'One pid per line, nothing else'"
complete -c reaper -n "__fish_reaper_using_subcommand tree" -l color -d 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset or empty'
always\t'Always colour'
never\t'Never colour'"
complete -c reaper -n "__fish_reaper_using_subcommand tree" -s q -l quiet -d 'Print nothing but errors'
complete -c reaper -n "__fish_reaper_using_subcommand tree" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reaper -n "__fish_reaper_using_subcommand tree" -s V -l version -d 'Print version'
complete -c reaper -n "__fish_reaper_using_subcommand why" -l format -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for programs'
pid\t'One pid per line, nothing else'"
complete -c reaper -n "__fish_reaper_using_subcommand why" -s p -l port -d 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)' -r -f -a "(reaper complete port 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand why" -l proto -d 'Only this protocol\'s sockets' -r -f -a "tcp\t'TCP only'
udp\t'UDP only'"
complete -c reaper -n "__fish_reaper_using_subcommand why" -l state -d 'Which TCP sockets a port matches: listeners only, or also connected ones' -r -f -a "listen\t'TCP sockets in LISTEN (and bound UDP sockets)'
any\t'Also connected sockets whose local port matches (accepted connections)'"
complete -c reaper -n "__fish_reaper_using_subcommand why" -l signature -d 'Regex over the full command line (arguments joined by single spaces; no short form: -s is the signal, as in kill(1))' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -s n -l name -d 'Exact process name (the kernel\'s name, argv[0]\'s file name or the executable\'s)' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -l exe -d 'Executable path or glob (matched against the file name when it has no \'/\')' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -s x -l exclude -d 'Regex over the command line of processes never to match (repeatable)' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -l pid -d 'Exact pid (repeatable)' -r -f -a "(reaper complete pid 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand why" -l descendants-of -d 'Every descendant of PID' -r -f -a "(reaper complete pid 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand why" -l children-of -d 'The direct children of PID' -r -f -a "(reaper complete pid 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand why" -l pgid -d 'Process group id' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -l sid -d 'Session id' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -s u -l user -d 'Owner, by name or uid' -r -f -a "(reaper complete user 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand why" -l older-than -d 'Started more than DUR ago (500ms, 5s, 2m, 1h; a bare number is seconds)' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -l younger-than -d 'Started less than DUR ago' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -l env -d 'Environment has NAME, or NAME=VALUE exactly (repeatable; other users\' need root). A CI job marker: RUNNER_TRACKING_ID=..., BUILD_ID=...' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -l cgroup -d 'In this cgroup v2 path or below it, as /proc/PID/cgroup shows it (absolute, repeatable)' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -l started-after -d 'Started after WHEN: RFC 3339 (2026-01-31T12:00:00.25Z), @UNIX_SECONDS[.frac], or pid:N (when N started)' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -l started-before -d 'Started before WHEN (same forms as --started-after)' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -l container -d 'In the container whose id begins with ID (4 or more hex digits, as `docker ps` shows it; repeatable)' -r
complete -c reaper -n "__fish_reaper_using_subcommand why" -l color -d 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset or empty'
always\t'Always colour'
never\t'Never colour'"
complete -c reaper -n "__fish_reaper_using_subcommand why" -l orphans -d 'Processes reparented away from whoever started them (parent is PID 1 or a systemd --user subreaper)'
complete -c reaper -n "__fish_reaper_using_subcommand why" -l all-netns -d 'Look ports up in every network namespace (containers, `ip netns`), not only reaper\'s own'
complete -c reaper -n "__fish_reaper_using_subcommand why" -l all-users -d 'Let signature, name and ancestry selectors match other users\' processes (without it a broad selector matches only yours; `list` shows what `kill` would take)'
complete -c reaper -n "__fish_reaper_using_subcommand why" -s q -l quiet -d 'Print nothing but errors'
complete -c reaper -n "__fish_reaper_using_subcommand why" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reaper -n "__fish_reaper_using_subcommand why" -s V -l version -d 'Print version'
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l settle -d 'After the ports are free, watch them this long for a supervisor that starts the holder again (only when a target\'s parent lives on); 0 skips it' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l format -d 'Output format' -r -f -a "table\t'A table for people'
json\t'JSON for programs'
pid\t'One pid per line, nothing else'"
complete -c reaper -n "__fish_reaper_using_subcommand kill" -s p -l port -d 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)' -r -f -a "(reaper complete port 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l proto -d 'Only this protocol\'s sockets' -r -f -a "tcp\t'TCP only'
udp\t'UDP only'"
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l state -d 'Which TCP sockets a port matches: listeners only, or also connected ones' -r -f -a "listen\t'TCP sockets in LISTEN (and bound UDP sockets)'
any\t'Also connected sockets whose local port matches (accepted connections)'"
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l signature -d 'Regex over the full command line (arguments joined by single spaces; no short form: -s is the signal, as in kill(1))' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -s n -l name -d 'Exact process name (the kernel\'s name, argv[0]\'s file name or the executable\'s)' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l exe -d 'Executable path or glob (matched against the file name when it has no \'/\')' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -s x -l exclude -d 'Regex over the command line of processes never to match (repeatable)' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l pid -d 'Exact pid (repeatable)' -r -f -a "(reaper complete pid 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l descendants-of -d 'Every descendant of PID' -r -f -a "(reaper complete pid 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l children-of -d 'The direct children of PID' -r -f -a "(reaper complete pid 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l pgid -d 'Process group id' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l sid -d 'Session id' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -s u -l user -d 'Owner, by name or uid' -r -f -a "(reaper complete user 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l older-than -d 'Started more than DUR ago (500ms, 5s, 2m, 1h; a bare number is seconds)' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l younger-than -d 'Started less than DUR ago' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l env -d 'Environment has NAME, or NAME=VALUE exactly (repeatable; other users\' need root). A CI job marker: RUNNER_TRACKING_ID=..., BUILD_ID=...' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l cgroup -d 'In this cgroup v2 path or below it, as /proc/PID/cgroup shows it (absolute, repeatable)' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l started-after -d 'Started after WHEN: RFC 3339 (2026-01-31T12:00:00.25Z), @UNIX_SECONDS[.frac], or pid:N (when N started)' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l started-before -d 'Started before WHEN (same forms as --started-after)' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l container -d 'In the container whose id begins with ID (4 or more hex digits, as `docker ps` shows it; repeatable)' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l timeout -d 'How long to wait after the first signal before SIGKILL [default: 5s; when the first signal is KILL, 2s as with -9]' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -s s -l signal -d 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))' -r -f -a "TERM\t''
INT\t''
HUP\t''
KILL\t''
QUIT\t''
USR1\t''
USR2\t''
ABRT\t''
ALRM\t''
BUS\t''
CHLD\t''
CONT\t''
FPE\t''
ILL\t''
IO\t''
PIPE\t''
PROF\t''
SEGV\t''
STOP\t''
SYS\t''
TRAP\t''
TSTP\t''
TTIN\t''
TTOU\t''
URG\t''
VTALRM\t''
WINCH\t''
XCPU\t''"
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l sequence -d 'The whole sequence, e.g. \'TERM:5s,INT:2s,KILL\' (overrides --signal and --timeout)' -r
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l color -d 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset or empty'
always\t'Always colour'
never\t'Never colour'"
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l no-tree -d 'Only the matched processes, not their descendants'
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l dry-run -d 'Print the plan and signal nothing'
complete -c reaper -n "__fish_reaper_using_subcommand kill" -s y -l yes -d 'Do not ask for confirmation on a terminal'
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l strict -d 'Count a port with only TIME_WAIT connections left as held (for a server that does not set SO_REUSEADDR); by default such a port is free'
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l orphans -d 'Processes reparented away from whoever started them (parent is PID 1 or a systemd --user subreaper)'
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l all-netns -d 'Look ports up in every network namespace (containers, `ip netns`), not only reaper\'s own'
complete -c reaper -n "__fish_reaper_using_subcommand kill" -l all-users -d 'Let signature, name and ancestry selectors match other users\' processes (without it a broad selector matches only yours; `list` shows what `kill` would take)'
complete -c reaper -n "__fish_reaper_using_subcommand kill" -s 9 -l force -d 'SIGKILL at once'
complete -c reaper -n "__fish_reaper_using_subcommand kill" -s q -l quiet -d 'Print nothing but errors'
complete -c reaper -n "__fish_reaper_using_subcommand kill" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reaper -n "__fish_reaper_using_subcommand kill" -s V -l version -d 'Print version'
complete -c reaper -n "__fish_reaper_using_subcommand run" -l watch-pid -d 'End the command\'s tree when this process exits (repeatable)' -r -f -a "(reaper complete pid 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand run" -l restart -d 'Restart the command when it exits' -r -f -a "no\t'Never restart'
on-failure\t'Restart when the command exits non-zero or dies of a signal'
always\t'Restart whenever the command exits'"
complete -c reaper -n "__fish_reaper_using_subcommand run" -l max-restarts -d 'At most this many restarts' -r
complete -c reaper -n "__fish_reaper_using_subcommand run" -l ready-port -d 'Report on stderr once the tree listens on this TCP port' -r
complete -c reaper -n "__fish_reaper_using_subcommand run" -l ready-timeout -d 'End the tree and exit 1 if it is not listening on --ready-port by then' -r
complete -c reaper -n "__fish_reaper_using_subcommand run" -l timeout -d 'How long to wait after the first signal before SIGKILL [default: 5s; when the first signal is KILL, 2s as with -9]' -r
complete -c reaper -n "__fish_reaper_using_subcommand run" -s s -l signal -d 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))' -r -f -a "TERM\t''
INT\t''
HUP\t''
KILL\t''
QUIT\t''
USR1\t''
USR2\t''
ABRT\t''
ALRM\t''
BUS\t''
CHLD\t''
CONT\t''
FPE\t''
ILL\t''
IO\t''
PIPE\t''
PROF\t''
SEGV\t''
STOP\t''
SYS\t''
TRAP\t''
TSTP\t''
TTIN\t''
TTOU\t''
URG\t''
VTALRM\t''
WINCH\t''
XCPU\t''"
complete -c reaper -n "__fish_reaper_using_subcommand run" -l sequence -d 'The whole sequence, e.g. \'TERM:5s,INT:2s,KILL\' (overrides --signal and --timeout)' -r
complete -c reaper -n "__fish_reaper_using_subcommand run" -l color -d 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset or empty'
always\t'Always colour'
never\t'Never colour'"
complete -c reaper -n "__fish_reaper_using_subcommand run" -l no-pid-namespace -d 'Do not start the command in a PID namespace: it sees its real pid, but if reaper is SIGKILLed only the command itself dies, not what it started. Linux only (no effect on macOS and Windows)'
complete -c reaper -n "__fish_reaper_using_subcommand run" -s 9 -l force -d 'SIGKILL at once'
complete -c reaper -n "__fish_reaper_using_subcommand run" -s q -l quiet -d 'Print nothing but errors'
complete -c reaper -n "__fish_reaper_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reaper -n "__fish_reaper_using_subcommand run" -s V -l version -d 'Print version'
complete -c reaper -n "__fish_reaper_using_subcommand wait" -s p -l port -d 'The port to watch' -r -f -a "(reaper complete port 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand wait" -l pid -d 'Wait until this process has exited' -r -f -a "(reaper complete pid 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand wait" -l timeout -d 'Give up after DUR (exit 1); 0 waits forever' -r
complete -c reaper -n "__fish_reaper_using_subcommand wait" -l color -d 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset or empty'
always\t'Always colour'
never\t'Never colour'"
complete -c reaper -n "__fish_reaper_using_subcommand wait" -l free -d 'Wait until nothing holds the port'
complete -c reaper -n "__fish_reaper_using_subcommand wait" -l listening -d 'Wait until something listens on the port'
complete -c reaper -n "__fish_reaper_using_subcommand wait" -l strict -d 'With --free: also wait for TIME_WAIT connections to go (for a server that does not set SO_REUSEADDR; up to 60 s on Linux)'
complete -c reaper -n "__fish_reaper_using_subcommand wait" -s q -l quiet -d 'Print nothing but errors'
complete -c reaper -n "__fish_reaper_using_subcommand wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reaper -n "__fish_reaper_using_subcommand wait" -s V -l version -d 'Print version'
complete -c reaper -n "__fish_reaper_using_subcommand pick" -l timeout -d 'How long to wait after the first signal before SIGKILL [default: 5s; when the first signal is KILL, 2s as with -9]' -r
complete -c reaper -n "__fish_reaper_using_subcommand pick" -s s -l signal -d 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))' -r -f -a "TERM\t''
INT\t''
HUP\t''
KILL\t''
QUIT\t''
USR1\t''
USR2\t''
ABRT\t''
ALRM\t''
BUS\t''
CHLD\t''
CONT\t''
FPE\t''
ILL\t''
IO\t''
PIPE\t''
PROF\t''
SEGV\t''
STOP\t''
SYS\t''
TRAP\t''
TSTP\t''
TTIN\t''
TTOU\t''
URG\t''
VTALRM\t''
WINCH\t''
XCPU\t''"
complete -c reaper -n "__fish_reaper_using_subcommand pick" -l sequence -d 'The whole sequence, e.g. \'TERM:5s,INT:2s,KILL\' (overrides --signal and --timeout)' -r
complete -c reaper -n "__fish_reaper_using_subcommand pick" -l color -d 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset or empty'
always\t'Always colour'
never\t'Never colour'"
complete -c reaper -n "__fish_reaper_using_subcommand pick" -s 9 -l force -d 'SIGKILL at once'
complete -c reaper -n "__fish_reaper_using_subcommand pick" -s q -l quiet -d 'Print nothing but errors'
complete -c reaper -n "__fish_reaper_using_subcommand pick" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reaper -n "__fish_reaper_using_subcommand pick" -s V -l version -d 'Print version'
complete -c reaper -n "__fish_reaper_using_subcommand generate" -l color -d 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset or empty'
always\t'Always colour'
never\t'Never colour'"
complete -c reaper -n "__fish_reaper_using_subcommand generate" -s q -l quiet -d 'Print nothing but errors'
complete -c reaper -n "__fish_reaper_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reaper -n "__fish_reaper_using_subcommand generate" -s V -l version -d 'Print version'
complete -c reaper -n "__fish_reaper_using_subcommand complete" -l color -d 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset or empty'
always\t'Always colour'
never\t'Never colour'"
complete -c reaper -n "__fish_reaper_using_subcommand complete" -s q -l quiet -d 'Print nothing but errors'
complete -c reaper -n "__fish_reaper_using_subcommand complete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reaper -n "__fish_reaper_using_subcommand complete" -s V -l version -d 'Print version'
complete -c reaper -n "__fish_reaper_using_subcommand help; and not __fish_seen_subcommand_from list tree why kill run wait pick generate complete help" -f -a "list" -d 'Find processes and show them (exit 0 if something matched, 1 if nothing did)'
complete -c reaper -n "__fish_reaper_using_subcommand help; and not __fish_seen_subcommand_from list tree why kill run wait pick generate complete help" -f -a "tree" -d 'Show one process\'s ancestry and descendants, with the ports each holds'
complete -c reaper -n "__fish_reaper_using_subcommand help; and not __fish_seen_subcommand_from list tree why kill run wait pick generate complete help" -f -a "why" -d 'Explain matching processes: who started them, who restarts them, and how to stop them'
complete -c reaper -n "__fish_reaper_using_subcommand help; and not __fish_seen_subcommand_from list tree why kill run wait pick generate complete help" -f -a "kill" -d 'End matching processes and their descendants: a graceful signal, then SIGKILL'
complete -c reaper -n "__fish_reaper_using_subcommand help; and not __fish_seen_subcommand_from list tree why kill run wait pick generate complete help" -f -a "run" -d 'Run a command and end its whole tree when an anchor process dies or reaper is signalled'
complete -c reaper -n "__fish_reaper_using_subcommand help; and not __fish_seen_subcommand_from list tree why kill run wait pick generate complete help" -f -a "wait" -d 'Wait until a port is free or listening, or a process has exited'
complete -c reaper -n "__fish_reaper_using_subcommand help; and not __fish_seen_subcommand_from list tree why kill run wait pick generate complete help" -f -a "pick" -d 'Pick processes from a live list and end them (also plain `reaper` on a terminal)'
complete -c reaper -n "__fish_reaper_using_subcommand help; and not __fish_seen_subcommand_from list tree why kill run wait pick generate complete help" -f -a "generate" -d 'Print shell completions or the man page'
complete -c reaper -n "__fish_reaper_using_subcommand help; and not __fish_seen_subcommand_from list tree why kill run wait pick generate complete help" -f -a "complete" -d 'Print live values for the shell completions (what the committed scripts call)'
complete -c reaper -n "__fish_reaper_using_subcommand help; and not __fish_seen_subcommand_from list tree why kill run wait pick generate complete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
# Live values (reaper's own, not clap's): `tree PID`, and the plain ports of list, kill, why, wait.
complete -c reaper -n "__fish_reaper_using_subcommand tree" -f -a "(reaper complete pid 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand list" -f -a "(reaper complete port 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand kill" -f -a "(reaper complete port 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand why" -f -a "(reaper complete port 2>/dev/null)"
complete -c reaper -n "__fish_reaper_using_subcommand wait" -f -a "(reaper complete port 2>/dev/null)"
