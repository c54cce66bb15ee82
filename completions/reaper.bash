_reaper() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="reaper"
                ;;
            reaper,complete)
                cmd="reaper__subcmd__complete"
                ;;
            reaper,generate)
                cmd="reaper__subcmd__generate"
                ;;
            reaper,help)
                cmd="reaper__subcmd__help"
                ;;
            reaper,kill)
                cmd="reaper__subcmd__kill"
                ;;
            reaper,list)
                cmd="reaper__subcmd__list"
                ;;
            reaper,pick)
                cmd="reaper__subcmd__pick"
                ;;
            reaper,run)
                cmd="reaper__subcmd__run"
                ;;
            reaper,tree)
                cmd="reaper__subcmd__tree"
                ;;
            reaper,wait)
                cmd="reaper__subcmd__wait"
                ;;
            reaper,why)
                cmd="reaper__subcmd__why"
                ;;
            reaper__subcmd__help,complete)
                cmd="reaper__subcmd__help__subcmd__complete"
                ;;
            reaper__subcmd__help,generate)
                cmd="reaper__subcmd__help__subcmd__generate"
                ;;
            reaper__subcmd__help,help)
                cmd="reaper__subcmd__help__subcmd__help"
                ;;
            reaper__subcmd__help,kill)
                cmd="reaper__subcmd__help__subcmd__kill"
                ;;
            reaper__subcmd__help,list)
                cmd="reaper__subcmd__help__subcmd__list"
                ;;
            reaper__subcmd__help,pick)
                cmd="reaper__subcmd__help__subcmd__pick"
                ;;
            reaper__subcmd__help,run)
                cmd="reaper__subcmd__help__subcmd__run"
                ;;
            reaper__subcmd__help,tree)
                cmd="reaper__subcmd__help__subcmd__tree"
                ;;
            reaper__subcmd__help,wait)
                cmd="reaper__subcmd__help__subcmd__wait"
                ;;
            reaper__subcmd__help,why)
                cmd="reaper__subcmd__help__subcmd__why"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        reaper)
            opts="-q -h -V --color --quiet --help --version list tree why kill run wait pick generate complete help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__complete)
            opts="-q -h -V --color --quiet --help --version port pid user"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__generate)
            opts="-q -h -V --color --quiet --help --version bash zsh fish powershell elvish man markdown-keys markdown-exit"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__help)
            opts="list tree why kill run wait pick generate complete help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__help__subcmd__complete)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__help__subcmd__generate)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__help__subcmd__kill)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__help__subcmd__list)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__help__subcmd__pick)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__help__subcmd__run)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__help__subcmd__tree)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__help__subcmd__wait)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__help__subcmd__why)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__kill)
            opts="-y -p -n -x -u -s -9 -q -h -V --no-tree --dry-run --yes --strict --settle --format --port --proto --state --signature --name --exe --exclude --pid --descendants-of --children-of --pgid --sid --orphans --user --older-than --younger-than --env --cgroup --started-after --started-before --container --all-netns --all-users --timeout --signal --sequence --force --color --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --settle)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "table json pid" -- "${cur}"))
                    return 0
                    ;;
                --port)
                    COMPREPLY=($(compgen -W "$(reaper complete port 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -W "$(reaper complete port 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --proto)
                    COMPREPLY=($(compgen -W "tcp udp" -- "${cur}"))
                    return 0
                    ;;
                --state)
                    COMPREPLY=($(compgen -W "listen any" -- "${cur}"))
                    return 0
                    ;;
                --signature)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -n)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --exe)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --exclude)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -x)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pid)
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --descendants-of)
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --children-of)
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --pgid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --user)
                    COMPREPLY=($(compgen -W "$(reaper complete user 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                -u)
                    COMPREPLY=($(compgen -W "$(reaper complete user 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --older-than)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --younger-than)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --env)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cgroup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --started-after)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --started-before)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --container)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --signal)
                    COMPREPLY=($(compgen -W "TERM INT HUP KILL QUIT USR1 USR2 ABRT ALRM BUS CHLD CONT FPE ILL IO PIPE PROF SEGV STOP SYS TRAP TSTP TTIN TTOU URG VTALRM WINCH XCPU" -- "${cur}"))
                    return 0
                    ;;
                -s)
                    COMPREPLY=($(compgen -W "TERM INT HUP KILL QUIT USR1 USR2 ABRT ALRM BUS CHLD CONT FPE ILL IO PIPE PROF SEGV STOP SYS TRAP TSTP TTIN TTOU URG VTALRM WINCH XCPU" -- "${cur}"))
                    return 0
                    ;;
                --sequence)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__list)
            opts="-p -n -x -u -q -h -V --tree --format --port --proto --state --signature --name --exe --exclude --pid --descendants-of --children-of --pgid --sid --orphans --user --older-than --younger-than --env --cgroup --started-after --started-before --container --all-netns --all-users --color --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --format)
                    COMPREPLY=($(compgen -W "table json pid" -- "${cur}"))
                    return 0
                    ;;
                --port)
                    COMPREPLY=($(compgen -W "$(reaper complete port 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -W "$(reaper complete port 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --proto)
                    COMPREPLY=($(compgen -W "tcp udp" -- "${cur}"))
                    return 0
                    ;;
                --state)
                    COMPREPLY=($(compgen -W "listen any" -- "${cur}"))
                    return 0
                    ;;
                --signature)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -n)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --exe)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --exclude)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -x)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pid)
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --descendants-of)
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --children-of)
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --pgid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --user)
                    COMPREPLY=($(compgen -W "$(reaper complete user 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                -u)
                    COMPREPLY=($(compgen -W "$(reaper complete user 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --older-than)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --younger-than)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --env)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cgroup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --started-after)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --started-before)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --container)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__pick)
            opts="-s -9 -q -h -V --timeout --signal --sequence --force --color --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --signal)
                    COMPREPLY=($(compgen -W "TERM INT HUP KILL QUIT USR1 USR2 ABRT ALRM BUS CHLD CONT FPE ILL IO PIPE PROF SEGV STOP SYS TRAP TSTP TTIN TTOU URG VTALRM WINCH XCPU" -- "${cur}"))
                    return 0
                    ;;
                -s)
                    COMPREPLY=($(compgen -W "TERM INT HUP KILL QUIT USR1 USR2 ABRT ALRM BUS CHLD CONT FPE ILL IO PIPE PROF SEGV STOP SYS TRAP TSTP TTIN TTOU URG VTALRM WINCH XCPU" -- "${cur}"))
                    return 0
                    ;;
                --sequence)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__run)
            opts="-s -9 -q -h -V --watch-pid --no-pid-namespace --restart --max-restarts --ready-port --ready-timeout --timeout --signal --sequence --force --color --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --watch-pid)
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --restart)
                    COMPREPLY=($(compgen -W "no on-failure always" -- "${cur}"))
                    return 0
                    ;;
                --max-restarts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ready-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ready-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --signal)
                    COMPREPLY=($(compgen -W "TERM INT HUP KILL QUIT USR1 USR2 ABRT ALRM BUS CHLD CONT FPE ILL IO PIPE PROF SEGV STOP SYS TRAP TSTP TTIN TTOU URG VTALRM WINCH XCPU" -- "${cur}"))
                    return 0
                    ;;
                -s)
                    COMPREPLY=($(compgen -W "TERM INT HUP KILL QUIT USR1 USR2 ABRT ALRM BUS CHLD CONT FPE ILL IO PIPE PROF SEGV STOP SYS TRAP TSTP TTIN TTOU URG VTALRM WINCH XCPU" -- "${cur}"))
                    return 0
                    ;;
                --sequence)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__tree)
            opts="-q -h -V --format --color --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --format)
                    COMPREPLY=($(compgen -W "table json pid" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__wait)
            opts="-p -q -h -V --port --free --listening --strict --pid --timeout --color --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --port)
                    COMPREPLY=($(compgen -W "$(reaper complete port 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -W "$(reaper complete port 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --pid)
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        reaper__subcmd__why)
            opts="-p -n -x -u -q -h -V --format --port --proto --state --signature --name --exe --exclude --pid --descendants-of --children-of --pgid --sid --orphans --user --older-than --younger-than --env --cgroup --started-after --started-before --container --all-netns --all-users --color --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --format)
                    COMPREPLY=($(compgen -W "table json pid" -- "${cur}"))
                    return 0
                    ;;
                --port)
                    COMPREPLY=($(compgen -W "$(reaper complete port 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -W "$(reaper complete port 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --proto)
                    COMPREPLY=($(compgen -W "tcp udp" -- "${cur}"))
                    return 0
                    ;;
                --state)
                    COMPREPLY=($(compgen -W "listen any" -- "${cur}"))
                    return 0
                    ;;
                --signature)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -n)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --exe)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --exclude)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -x)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pid)
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --descendants-of)
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --children-of)
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --pgid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --user)
                    COMPREPLY=($(compgen -W "$(reaper complete user 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                -u)
                    COMPREPLY=($(compgen -W "$(reaper complete user 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                    ;;
                --older-than)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --younger-than)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --env)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cgroup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --started-after)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --started-before)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --container)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _reaper_live -o nosort -o bashdefault -o default reaper
else
    complete -F _reaper_live -o bashdefault -o default reaper
fi

# Live values (reaper's own, not clap's): `tree PID`, and the plain ports of list|kill|why|wait.
_reaper_live() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" sub="${COMP_WORDS[1]}"
    if [[ ${cur} != -* && ${prev} != -* ]]; then
        case "${sub}" in
            tree)
                if [[ ${COMP_CWORD} -eq 2 ]]; then
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                fi
                ;;
            list|kill|why|wait)
                if [[ ${COMP_CWORD} -ge 2 && ${cur} =~ ^[0-9]*$ ]]; then
                    COMPREPLY=($(compgen -W "$(reaper complete port 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                fi
                ;;
        esac
    fi
    _reaper "$@"
}
