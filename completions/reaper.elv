
use builtin;
use str;

set edit:completion:arg-completer[reaper] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'reaper'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'reaper'= {
            cand --color 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'Find processes and show them (exit 0 if something matched, 1 if nothing did)'
            cand tree 'Show one process''s ancestry and descendants, with the ports each holds'
            cand why 'Explain matching processes: who started them, who restarts them, and how to stop them'
            cand kill 'End matching processes and their descendants: a graceful signal, then SIGKILL'
            cand run 'Run a command and end its whole tree when an anchor process dies or reaper is signalled'
            cand wait 'Wait until a port is free or listening, or a process has exited'
            cand pick 'Pick processes from a live list and end them (also plain `reaper` on a terminal)'
            cand generate 'Print shell completions or the man page'
            cand complete 'Print live values for the shell completions (what the committed scripts call)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'reaper;list'= {
            cand --format 'Output format'
            cand -p 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)'
            cand --port 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)'
            cand --proto 'Only this protocol''s sockets'
            cand --state 'Which TCP sockets a port matches: listeners only, or also connected ones'
            cand --signature 'Regex over the full command line (arguments joined by single spaces; no short form: -s is the signal, as in kill(1))'
            cand -n 'Exact process name (the kernel''s name, argv[0]''s file name or the executable''s)'
            cand --name 'Exact process name (the kernel''s name, argv[0]''s file name or the executable''s)'
            cand --exe 'Executable path or glob (matched against the file name when it has no ''/'')'
            cand -x 'Regex over the command line of processes never to match (repeatable)'
            cand --exclude 'Regex over the command line of processes never to match (repeatable)'
            cand --pid 'Exact pid (repeatable)'
            cand --descendants-of 'Every descendant of PID'
            cand --children-of 'The direct children of PID'
            cand --pgid 'Process group id'
            cand --sid 'Session id'
            cand -u 'Owner, by name or uid'
            cand --user 'Owner, by name or uid'
            cand --older-than 'Started more than DUR ago (500ms, 5s, 2m, 1h; a bare number is seconds)'
            cand --younger-than 'Started less than DUR ago'
            cand --env 'Environment has NAME, or NAME=VALUE exactly (repeatable; other users'' need root). A CI job marker: RUNNER_TRACKING_ID=..., BUILD_ID=...'
            cand --cgroup 'In this cgroup v2 path or below it, as /proc/PID/cgroup shows it (absolute, repeatable)'
            cand --started-after 'Started after WHEN: RFC 3339 (2026-01-31T12:00:00.25Z), @UNIX_SECONDS[.frac], or pid:N (when N started)'
            cand --started-before 'Started before WHEN (same forms as --started-after)'
            cand --container 'In the container whose id begins with ID (4 or more hex digits, as `docker ps` shows it; repeatable)'
            cand --color 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty'
            cand --tree 'Show each match within its ancestry and descendants'
            cand --orphans 'Processes reparented away from whoever started them (parent is PID 1 or a systemd --user subreaper)'
            cand --all-netns 'Look ports up in every network namespace (containers, `ip netns`), not only reaper''s own'
            cand --all-users 'Let signature, name and ancestry selectors match other users'' processes (without it a broad selector matches only yours; `list` shows what `kill` would take)'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'reaper;tree'= {
            cand --format 'Output format (`pid` lists the process and its descendants, never its ancestors)'
            cand --color 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'reaper;why'= {
            cand --format 'Output format'
            cand -p 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)'
            cand --port 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)'
            cand --proto 'Only this protocol''s sockets'
            cand --state 'Which TCP sockets a port matches: listeners only, or also connected ones'
            cand --signature 'Regex over the full command line (arguments joined by single spaces; no short form: -s is the signal, as in kill(1))'
            cand -n 'Exact process name (the kernel''s name, argv[0]''s file name or the executable''s)'
            cand --name 'Exact process name (the kernel''s name, argv[0]''s file name or the executable''s)'
            cand --exe 'Executable path or glob (matched against the file name when it has no ''/'')'
            cand -x 'Regex over the command line of processes never to match (repeatable)'
            cand --exclude 'Regex over the command line of processes never to match (repeatable)'
            cand --pid 'Exact pid (repeatable)'
            cand --descendants-of 'Every descendant of PID'
            cand --children-of 'The direct children of PID'
            cand --pgid 'Process group id'
            cand --sid 'Session id'
            cand -u 'Owner, by name or uid'
            cand --user 'Owner, by name or uid'
            cand --older-than 'Started more than DUR ago (500ms, 5s, 2m, 1h; a bare number is seconds)'
            cand --younger-than 'Started less than DUR ago'
            cand --env 'Environment has NAME, or NAME=VALUE exactly (repeatable; other users'' need root). A CI job marker: RUNNER_TRACKING_ID=..., BUILD_ID=...'
            cand --cgroup 'In this cgroup v2 path or below it, as /proc/PID/cgroup shows it (absolute, repeatable)'
            cand --started-after 'Started after WHEN: RFC 3339 (2026-01-31T12:00:00.25Z), @UNIX_SECONDS[.frac], or pid:N (when N started)'
            cand --started-before 'Started before WHEN (same forms as --started-after)'
            cand --container 'In the container whose id begins with ID (4 or more hex digits, as `docker ps` shows it; repeatable)'
            cand --color 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty'
            cand --orphans 'Processes reparented away from whoever started them (parent is PID 1 or a systemd --user subreaper)'
            cand --all-netns 'Look ports up in every network namespace (containers, `ip netns`), not only reaper''s own'
            cand --all-users 'Let signature, name and ancestry selectors match other users'' processes (without it a broad selector matches only yours; `list` shows what `kill` would take)'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'reaper;kill'= {
            cand --settle 'After the ports are free, watch them this long for a supervisor that starts the holder again (only when a target''s parent lives on); 0 skips it'
            cand --format 'Output format'
            cand -p 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)'
            cand --port 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)'
            cand --proto 'Only this protocol''s sockets'
            cand --state 'Which TCP sockets a port matches: listeners only, or also connected ones'
            cand --signature 'Regex over the full command line (arguments joined by single spaces; no short form: -s is the signal, as in kill(1))'
            cand -n 'Exact process name (the kernel''s name, argv[0]''s file name or the executable''s)'
            cand --name 'Exact process name (the kernel''s name, argv[0]''s file name or the executable''s)'
            cand --exe 'Executable path or glob (matched against the file name when it has no ''/'')'
            cand -x 'Regex over the command line of processes never to match (repeatable)'
            cand --exclude 'Regex over the command line of processes never to match (repeatable)'
            cand --pid 'Exact pid (repeatable)'
            cand --descendants-of 'Every descendant of PID'
            cand --children-of 'The direct children of PID'
            cand --pgid 'Process group id'
            cand --sid 'Session id'
            cand -u 'Owner, by name or uid'
            cand --user 'Owner, by name or uid'
            cand --older-than 'Started more than DUR ago (500ms, 5s, 2m, 1h; a bare number is seconds)'
            cand --younger-than 'Started less than DUR ago'
            cand --env 'Environment has NAME, or NAME=VALUE exactly (repeatable; other users'' need root). A CI job marker: RUNNER_TRACKING_ID=..., BUILD_ID=...'
            cand --cgroup 'In this cgroup v2 path or below it, as /proc/PID/cgroup shows it (absolute, repeatable)'
            cand --started-after 'Started after WHEN: RFC 3339 (2026-01-31T12:00:00.25Z), @UNIX_SECONDS[.frac], or pid:N (when N started)'
            cand --started-before 'Started before WHEN (same forms as --started-after)'
            cand --container 'In the container whose id begins with ID (4 or more hex digits, as `docker ps` shows it; repeatable)'
            cand --timeout 'How long to wait after the first signal before SIGKILL [default: 5s; when the first signal is KILL, 2s as with -9]'
            cand -s 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))'
            cand --signal 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))'
            cand --sequence 'The whole sequence, e.g. ''TERM:5s,INT:2s,KILL'' (overrides --signal and --timeout)'
            cand --color 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty'
            cand --no-tree 'Only the matched processes, not their descendants'
            cand --dry-run 'Print the plan and signal nothing'
            cand -y 'Do not ask for confirmation on a terminal'
            cand --yes 'Do not ask for confirmation on a terminal'
            cand --strict 'Count a port with only TIME_WAIT connections left as held (for a server that does not set SO_REUSEADDR); by default such a port is free'
            cand --orphans 'Processes reparented away from whoever started them (parent is PID 1 or a systemd --user subreaper)'
            cand --all-netns 'Look ports up in every network namespace (containers, `ip netns`), not only reaper''s own'
            cand --all-users 'Let signature, name and ancestry selectors match other users'' processes (without it a broad selector matches only yours; `list` shows what `kill` would take)'
            cand -9 'SIGKILL at once'
            cand --force 'SIGKILL at once'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'reaper;run'= {
            cand --watch-pid 'End the command''s tree when this process exits (repeatable)'
            cand --restart 'Restart the command when it exits'
            cand --max-restarts 'At most this many restarts'
            cand --ready-port 'Report on stderr once the tree listens on this TCP port'
            cand --ready-timeout 'End the tree and exit 1 if it is not listening on --ready-port by then'
            cand --timeout 'How long to wait after the first signal before SIGKILL [default: 5s; when the first signal is KILL, 2s as with -9]'
            cand -s 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))'
            cand --signal 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))'
            cand --sequence 'The whole sequence, e.g. ''TERM:5s,INT:2s,KILL'' (overrides --signal and --timeout)'
            cand --color 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty'
            cand --no-pid-namespace 'Do not start the command in a PID namespace: it sees its real pid, but if reaper is SIGKILLed only the command itself dies, not what it started. Linux only (no effect on macOS and Windows)'
            cand -9 'SIGKILL at once'
            cand --force 'SIGKILL at once'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'reaper;wait'= {
            cand -p 'The port to watch'
            cand --port 'The port to watch'
            cand --pid 'Wait until this process has exited'
            cand --timeout 'Give up after DUR (exit 1); 0 waits forever'
            cand --color 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty'
            cand --free 'Wait until nothing holds the port'
            cand --listening 'Wait until something listens on the port'
            cand --strict 'With --free: also wait for TIME_WAIT connections to go (for a server that does not set SO_REUSEADDR; up to 60 s on Linux)'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'reaper;pick'= {
            cand --timeout 'How long to wait after the first signal before SIGKILL [default: 5s; when the first signal is KILL, 2s as with -9]'
            cand -s 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))'
            cand --signal 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))'
            cand --sequence 'The whole sequence, e.g. ''TERM:5s,INT:2s,KILL'' (overrides --signal and --timeout)'
            cand --color 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty'
            cand -9 'SIGKILL at once'
            cand --force 'SIGKILL at once'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'reaper;generate'= {
            cand --color 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'reaper;complete'= {
            cand --color 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'reaper;help'= {
            cand list 'Find processes and show them (exit 0 if something matched, 1 if nothing did)'
            cand tree 'Show one process''s ancestry and descendants, with the ports each holds'
            cand why 'Explain matching processes: who started them, who restarts them, and how to stop them'
            cand kill 'End matching processes and their descendants: a graceful signal, then SIGKILL'
            cand run 'Run a command and end its whole tree when an anchor process dies or reaper is signalled'
            cand wait 'Wait until a port is free or listening, or a process has exited'
            cand pick 'Pick processes from a live list and end them (also plain `reaper` on a terminal)'
            cand generate 'Print shell completions or the man page'
            cand complete 'Print live values for the shell completions (what the committed scripts call)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'reaper;help;list'= {
        }
        &'reaper;help;tree'= {
        }
        &'reaper;help;why'= {
        }
        &'reaper;help;kill'= {
        }
        &'reaper;help;run'= {
        }
        &'reaper;help;wait'= {
        }
        &'reaper;help;pick'= {
        }
        &'reaper;help;generate'= {
        }
        &'reaper;help;complete'= {
        }
        &'reaper;help;help'= {
        }
    ]
    $completions[$command]
}
