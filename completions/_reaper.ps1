
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'reaper' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'reaper'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'reaper' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Find processes and show them (exit 0 if something matched, 1 if nothing did)')
            [CompletionResult]::new('tree', 'tree', [CompletionResultType]::ParameterValue, 'Show one process''s ancestry and descendants, with the ports each holds')
            [CompletionResult]::new('why', 'why', [CompletionResultType]::ParameterValue, 'Explain matching processes: who started them, who restarts them, and how to stop them')
            [CompletionResult]::new('kill', 'kill', [CompletionResultType]::ParameterValue, 'End matching processes and their descendants: a graceful signal, then SIGKILL')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command and end its whole tree when an anchor process dies or reaper is signalled')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until a port is free or listening, or a process has exited')
            [CompletionResult]::new('pick', 'pick', [CompletionResultType]::ParameterValue, 'Pick processes from a live list and end them (also plain `reaper` on a terminal)')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Print shell completions or the man page')
            [CompletionResult]::new('complete', 'complete', [CompletionResultType]::ParameterValue, 'Print live values for the shell completions (what the committed scripts call)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'reaper;list' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)')
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Only this protocol''s sockets')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Which TCP sockets a port matches: listeners only, or also connected ones')
            [CompletionResult]::new('--signature', '--signature', [CompletionResultType]::ParameterName, 'Regex over the full command line (arguments joined by single spaces; no short form: -s is the signal, as in kill(1))')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Exact process name (the kernel''s name, argv[0]''s file name or the executable''s)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Exact process name (the kernel''s name, argv[0]''s file name or the executable''s)')
            [CompletionResult]::new('--exe', '--exe', [CompletionResultType]::ParameterName, 'Executable path or glob (matched against the file name when it has no ''/'')')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Regex over the command line of processes never to match (repeatable)')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Regex over the command line of processes never to match (repeatable)')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'Exact pid (repeatable)')
            [CompletionResult]::new('--descendants-of', '--descendants-of', [CompletionResultType]::ParameterName, 'Every descendant of PID')
            [CompletionResult]::new('--children-of', '--children-of', [CompletionResultType]::ParameterName, 'The direct children of PID')
            [CompletionResult]::new('--pgid', '--pgid', [CompletionResultType]::ParameterName, 'Process group id')
            [CompletionResult]::new('--sid', '--sid', [CompletionResultType]::ParameterName, 'Session id')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Owner, by name or uid')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Owner, by name or uid')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Started more than DUR ago (500ms, 5s, 2m, 1h; a bare number is seconds)')
            [CompletionResult]::new('--younger-than', '--younger-than', [CompletionResultType]::ParameterName, 'Started less than DUR ago')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Environment has NAME, or NAME=VALUE exactly (repeatable; other users'' need root). A CI job marker: RUNNER_TRACKING_ID=..., BUILD_ID=...')
            [CompletionResult]::new('--cgroup', '--cgroup', [CompletionResultType]::ParameterName, 'In this cgroup v2 path or below it, as /proc/PID/cgroup shows it (absolute, repeatable)')
            [CompletionResult]::new('--started-after', '--started-after', [CompletionResultType]::ParameterName, 'Started after WHEN: RFC 3339 (2026-01-31T12:00:00.25Z), @UNIX_SECONDS[.frac], or pid:N (when N started)')
            [CompletionResult]::new('--started-before', '--started-before', [CompletionResultType]::ParameterName, 'Started before WHEN (same forms as --started-after)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'In the container whose id begins with ID (4 or more hex digits, as `docker ps` shows it; repeatable)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty')
            [CompletionResult]::new('--tree', '--tree', [CompletionResultType]::ParameterName, 'Show each match within its ancestry and descendants')
            [CompletionResult]::new('--orphans', '--orphans', [CompletionResultType]::ParameterName, 'Processes reparented away from whoever started them (parent is PID 1 or a systemd --user subreaper)')
            [CompletionResult]::new('--all-netns', '--all-netns', [CompletionResultType]::ParameterName, 'Look ports up in every network namespace (containers, `ip netns`), not only reaper''s own')
            [CompletionResult]::new('--all-users', '--all-users', [CompletionResultType]::ParameterName, 'Let signature, name and ancestry selectors match other users'' processes (without it a broad selector matches only yours; `list` shows what `kill` would take)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'reaper;tree' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (`pid` lists the process and its descendants, never its ancestors)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'reaper;why' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)')
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Only this protocol''s sockets')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Which TCP sockets a port matches: listeners only, or also connected ones')
            [CompletionResult]::new('--signature', '--signature', [CompletionResultType]::ParameterName, 'Regex over the full command line (arguments joined by single spaces; no short form: -s is the signal, as in kill(1))')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Exact process name (the kernel''s name, argv[0]''s file name or the executable''s)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Exact process name (the kernel''s name, argv[0]''s file name or the executable''s)')
            [CompletionResult]::new('--exe', '--exe', [CompletionResultType]::ParameterName, 'Executable path or glob (matched against the file name when it has no ''/'')')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Regex over the command line of processes never to match (repeatable)')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Regex over the command line of processes never to match (repeatable)')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'Exact pid (repeatable)')
            [CompletionResult]::new('--descendants-of', '--descendants-of', [CompletionResultType]::ParameterName, 'Every descendant of PID')
            [CompletionResult]::new('--children-of', '--children-of', [CompletionResultType]::ParameterName, 'The direct children of PID')
            [CompletionResult]::new('--pgid', '--pgid', [CompletionResultType]::ParameterName, 'Process group id')
            [CompletionResult]::new('--sid', '--sid', [CompletionResultType]::ParameterName, 'Session id')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Owner, by name or uid')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Owner, by name or uid')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Started more than DUR ago (500ms, 5s, 2m, 1h; a bare number is seconds)')
            [CompletionResult]::new('--younger-than', '--younger-than', [CompletionResultType]::ParameterName, 'Started less than DUR ago')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Environment has NAME, or NAME=VALUE exactly (repeatable; other users'' need root). A CI job marker: RUNNER_TRACKING_ID=..., BUILD_ID=...')
            [CompletionResult]::new('--cgroup', '--cgroup', [CompletionResultType]::ParameterName, 'In this cgroup v2 path or below it, as /proc/PID/cgroup shows it (absolute, repeatable)')
            [CompletionResult]::new('--started-after', '--started-after', [CompletionResultType]::ParameterName, 'Started after WHEN: RFC 3339 (2026-01-31T12:00:00.25Z), @UNIX_SECONDS[.frac], or pid:N (when N started)')
            [CompletionResult]::new('--started-before', '--started-before', [CompletionResultType]::ParameterName, 'Started before WHEN (same forms as --started-after)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'In the container whose id begins with ID (4 or more hex digits, as `docker ps` shows it; repeatable)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty')
            [CompletionResult]::new('--orphans', '--orphans', [CompletionResultType]::ParameterName, 'Processes reparented away from whoever started them (parent is PID 1 or a systemd --user subreaper)')
            [CompletionResult]::new('--all-netns', '--all-netns', [CompletionResultType]::ParameterName, 'Look ports up in every network namespace (containers, `ip netns`), not only reaper''s own')
            [CompletionResult]::new('--all-users', '--all-users', [CompletionResultType]::ParameterName, 'Let signature, name and ancestry selectors match other users'' processes (without it a broad selector matches only yours; `list` shows what `kill` would take)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'reaper;kill' {
            [CompletionResult]::new('--settle', '--settle', [CompletionResultType]::ParameterName, 'After the ports are free, watch them this long for a supervisor that starts the holder again (only when a target''s parent lives on); 0 skips it')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port, range or protocol-qualified port: 3000, 3000-3010, tcp:5432, udp:53, or a service name from /etc/services: http, tcp:postgresql (repeatable, comma lists)')
            [CompletionResult]::new('--proto', '--proto', [CompletionResultType]::ParameterName, 'Only this protocol''s sockets')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Which TCP sockets a port matches: listeners only, or also connected ones')
            [CompletionResult]::new('--signature', '--signature', [CompletionResultType]::ParameterName, 'Regex over the full command line (arguments joined by single spaces; no short form: -s is the signal, as in kill(1))')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Exact process name (the kernel''s name, argv[0]''s file name or the executable''s)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Exact process name (the kernel''s name, argv[0]''s file name or the executable''s)')
            [CompletionResult]::new('--exe', '--exe', [CompletionResultType]::ParameterName, 'Executable path or glob (matched against the file name when it has no ''/'')')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Regex over the command line of processes never to match (repeatable)')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Regex over the command line of processes never to match (repeatable)')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'Exact pid (repeatable)')
            [CompletionResult]::new('--descendants-of', '--descendants-of', [CompletionResultType]::ParameterName, 'Every descendant of PID')
            [CompletionResult]::new('--children-of', '--children-of', [CompletionResultType]::ParameterName, 'The direct children of PID')
            [CompletionResult]::new('--pgid', '--pgid', [CompletionResultType]::ParameterName, 'Process group id')
            [CompletionResult]::new('--sid', '--sid', [CompletionResultType]::ParameterName, 'Session id')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Owner, by name or uid')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Owner, by name or uid')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Started more than DUR ago (500ms, 5s, 2m, 1h; a bare number is seconds)')
            [CompletionResult]::new('--younger-than', '--younger-than', [CompletionResultType]::ParameterName, 'Started less than DUR ago')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Environment has NAME, or NAME=VALUE exactly (repeatable; other users'' need root). A CI job marker: RUNNER_TRACKING_ID=..., BUILD_ID=...')
            [CompletionResult]::new('--cgroup', '--cgroup', [CompletionResultType]::ParameterName, 'In this cgroup v2 path or below it, as /proc/PID/cgroup shows it (absolute, repeatable)')
            [CompletionResult]::new('--started-after', '--started-after', [CompletionResultType]::ParameterName, 'Started after WHEN: RFC 3339 (2026-01-31T12:00:00.25Z), @UNIX_SECONDS[.frac], or pid:N (when N started)')
            [CompletionResult]::new('--started-before', '--started-before', [CompletionResultType]::ParameterName, 'Started before WHEN (same forms as --started-after)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'In the container whose id begins with ID (4 or more hex digits, as `docker ps` shows it; repeatable)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait after the first signal before SIGKILL [default: 5s; when the first signal is KILL, 2s as with -9]')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))')
            [CompletionResult]::new('--signal', '--signal', [CompletionResultType]::ParameterName, 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))')
            [CompletionResult]::new('--sequence', '--sequence', [CompletionResultType]::ParameterName, 'The whole sequence, e.g. ''TERM:5s,INT:2s,KILL'' (overrides --signal and --timeout)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty')
            [CompletionResult]::new('--no-tree', '--no-tree', [CompletionResultType]::ParameterName, 'Only the matched processes, not their descendants')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and signal nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation on a terminal')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation on a terminal')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Count a port with only TIME_WAIT connections left as held (for a server that does not set SO_REUSEADDR); by default such a port is free')
            [CompletionResult]::new('--orphans', '--orphans', [CompletionResultType]::ParameterName, 'Processes reparented away from whoever started them (parent is PID 1 or a systemd --user subreaper)')
            [CompletionResult]::new('--all-netns', '--all-netns', [CompletionResultType]::ParameterName, 'Look ports up in every network namespace (containers, `ip netns`), not only reaper''s own')
            [CompletionResult]::new('--all-users', '--all-users', [CompletionResultType]::ParameterName, 'Let signature, name and ancestry selectors match other users'' processes (without it a broad selector matches only yours; `list` shows what `kill` would take)')
            [CompletionResult]::new('-9', '-9', [CompletionResultType]::ParameterName, 'SIGKILL at once')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'SIGKILL at once')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'reaper;run' {
            [CompletionResult]::new('--watch-pid', '--watch-pid', [CompletionResultType]::ParameterName, 'End the command''s tree when this process exits (repeatable)')
            [CompletionResult]::new('--restart', '--restart', [CompletionResultType]::ParameterName, 'Restart the command when it exits')
            [CompletionResult]::new('--max-restarts', '--max-restarts', [CompletionResultType]::ParameterName, 'At most this many restarts')
            [CompletionResult]::new('--ready-port', '--ready-port', [CompletionResultType]::ParameterName, 'Report on stderr once the tree listens on this TCP port')
            [CompletionResult]::new('--ready-timeout', '--ready-timeout', [CompletionResultType]::ParameterName, 'End the tree and exit 1 if it is not listening on --ready-port by then')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait after the first signal before SIGKILL [default: 5s; when the first signal is KILL, 2s as with -9]')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))')
            [CompletionResult]::new('--signal', '--signal', [CompletionResultType]::ParameterName, 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))')
            [CompletionResult]::new('--sequence', '--sequence', [CompletionResultType]::ParameterName, 'The whole sequence, e.g. ''TERM:5s,INT:2s,KILL'' (overrides --signal and --timeout)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty')
            [CompletionResult]::new('--no-pid-namespace', '--no-pid-namespace', [CompletionResultType]::ParameterName, 'Do not start the command in a PID namespace: it sees its real pid, but if reaper is SIGKILLed only the command itself dies, not what it started. Linux only (no effect on macOS and Windows)')
            [CompletionResult]::new('-9', '-9', [CompletionResultType]::ParameterName, 'SIGKILL at once')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'SIGKILL at once')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'reaper;wait' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'The port to watch')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The port to watch')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'Wait until this process has exited')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after DUR (exit 1); 0 waits forever')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty')
            [CompletionResult]::new('--free', '--free', [CompletionResultType]::ParameterName, 'Wait until nothing holds the port')
            [CompletionResult]::new('--listening', '--listening', [CompletionResultType]::ParameterName, 'Wait until something listens on the port')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'With --free: also wait for TIME_WAIT connections to go (for a server that does not set SO_REUSEADDR; up to 60 s on Linux)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'reaper;pick' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait after the first signal before SIGKILL [default: 5s; when the first signal is KILL, 2s as with -9]')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))')
            [CompletionResult]::new('--signal', '--signal', [CompletionResultType]::ParameterName, 'The first signal: TERM, SIGTERM, 15, INT, HUP, ... (-s as in kill(1))')
            [CompletionResult]::new('--sequence', '--sequence', [CompletionResultType]::ParameterName, 'The whole sequence, e.g. ''TERM:5s,INT:2s,KILL'' (overrides --signal and --timeout)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty')
            [CompletionResult]::new('-9', '-9', [CompletionResultType]::ParameterName, 'SIGKILL at once')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'SIGKILL at once')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'reaper;generate' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'reaper;complete' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour: auto means stdout is a terminal and NO_COLOR is unset or empty')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'reaper;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Find processes and show them (exit 0 if something matched, 1 if nothing did)')
            [CompletionResult]::new('tree', 'tree', [CompletionResultType]::ParameterValue, 'Show one process''s ancestry and descendants, with the ports each holds')
            [CompletionResult]::new('why', 'why', [CompletionResultType]::ParameterValue, 'Explain matching processes: who started them, who restarts them, and how to stop them')
            [CompletionResult]::new('kill', 'kill', [CompletionResultType]::ParameterValue, 'End matching processes and their descendants: a graceful signal, then SIGKILL')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command and end its whole tree when an anchor process dies or reaper is signalled')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until a port is free or listening, or a process has exited')
            [CompletionResult]::new('pick', 'pick', [CompletionResultType]::ParameterValue, 'Pick processes from a live list and end them (also plain `reaper` on a terminal)')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Print shell completions or the man page')
            [CompletionResult]::new('complete', 'complete', [CompletionResultType]::ParameterValue, 'Print live values for the shell completions (what the committed scripts call)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'reaper;help;list' {
            break
        }
        'reaper;help;tree' {
            break
        }
        'reaper;help;why' {
            break
        }
        'reaper;help;kill' {
            break
        }
        'reaper;help;run' {
            break
        }
        'reaper;help;wait' {
            break
        }
        'reaper;help;pick' {
            break
        }
        'reaper;help;generate' {
            break
        }
        'reaper;help;complete' {
            break
        }
        'reaper;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
