# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_shared_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_shared_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_shared_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_shared_using_subcommand
    set -l cmd (__fish_shared_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c shared -n "__fish_shared_needs_command" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shared -n "__fish_shared_needs_command" -s V -l version -d 'Print version'
complete -c shared -n "__fish_shared_needs_command" -f -a "up" -d 'Start shared servers: the named ones, or every configured one'
complete -c shared -n "__fish_shared_needs_command" -f -a "down" -d 'Stop and remove the shared servers\' containers; their data stays'
complete -c shared -n "__fish_shared_needs_command" -f -a "status" -d 'Each shared server: its image, state, health, host port and the projects using it'
complete -c shared -n "__fish_shared_needs_command" -f -a "logs" -d 'The shared servers\' logs (all, or one server\'s)'
complete -c shared -n "__fish_shared_needs_command" -f -a "db"
complete -c shared -n "__fish_shared_needs_command" -f -a "router" -d 'The shared Caddy router: https://NAME.TLD for every running project'
complete -c shared -n "__fish_shared_using_subcommand up" -l timeout -d 'How long to wait for the servers to run and pass their healthchecks (e.g. 2m, 90s; a bare number is seconds)' -r
complete -c shared -n "__fish_shared_using_subcommand up" -l progress -d 'Show progress on stderr even when it is not a terminal'
complete -c shared -n "__fish_shared_using_subcommand up" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shared -n "__fish_shared_using_subcommand down" -l timeout -d 'How long each container gets to stop before it is killed (e.g. 10s; a bare number is seconds)' -r
complete -c shared -n "__fish_shared_using_subcommand down" -s y -l yes -d 'Stop them even while running projects use them'
complete -c shared -n "__fish_shared_using_subcommand down" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand down" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shared -n "__fish_shared_using_subcommand status" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c shared -n "__fish_shared_using_subcommand status" -l json -d 'Print JSON (same as --format json)'
complete -c shared -n "__fish_shared_using_subcommand status" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shared -n "__fish_shared_using_subcommand logs" -s n -l tail -d 'Only the last N lines of each' -r
complete -c shared -n "__fish_shared_using_subcommand logs" -s f -l follow -d 'Keep printing new lines until interrupted'
complete -c shared -n "__fish_shared_using_subcommand logs" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand logs" -s h -l help -d 'Print help'
complete -c shared -n "__fish_shared_using_subcommand db; and not __fish_seen_subcommand_from create drop list" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand db; and not __fish_seen_subcommand_from create drop list" -s h -l help -d 'Print help'
complete -c shared -n "__fish_shared_using_subcommand db; and not __fish_seen_subcommand_from create drop list" -f -a "create" -d 'Create a project\'s database and user on a shared server (a re-run changes nothing)'
complete -c shared -n "__fish_shared_using_subcommand db; and not __fish_seen_subcommand_from create drop list" -f -a "drop" -d 'Back up a project\'s shared database with dbdump, then drop it and its user'
complete -c shared -n "__fish_shared_using_subcommand db; and not __fish_seen_subcommand_from create drop list" -f -a "list" -d 'The projects\' databases on the running shared servers'
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from create" -l engine -d 'The engine: postgres, mariadb, mysql, redis or valkey (default: the only shared database server known, else postgres)' -r
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from create" -l instance -d 'The shared server by instance name (`pg15`), when several run one engine' -r
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from create" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from create" -l json -d 'Print JSON instead of text'
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from drop" -l engine -d 'The engine: postgres, mariadb, mysql, redis or valkey (default: the only shared database server known, else postgres)' -r
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from drop" -l instance -d 'The shared server by instance name (`pg15`), when several run one engine' -r
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from drop" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from drop" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from drop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from list" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from list" -l json -d 'Print JSON (same as --format json)'
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand db; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shared -n "__fish_shared_using_subcommand router; and not __fish_seen_subcommand_from up down status watch" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand router; and not __fish_seen_subcommand_from up down status watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shared -n "__fish_shared_using_subcommand router; and not __fish_seen_subcommand_from up down status watch" -f -a "up" -d 'Start the router: Caddy\'s container (when not running) and the watcher'
complete -c shared -n "__fish_shared_using_subcommand router; and not __fish_seen_subcommand_from up down status watch" -f -a "down" -d 'Stop the watcher and remove the router\'s container'
complete -c shared -n "__fish_shared_using_subcommand router; and not __fish_seen_subcommand_from up down status watch" -f -a "status" -d 'The routes Caddy serves (domain -> upstream), its container and the watcher'
complete -c shared -n "__fish_shared_using_subcommand router; and not __fish_seen_subcommand_from up down status watch" -f -a "watch" -d 'Follow the engine\'s events and reload Caddy on each change (foreground)'
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from up" -l timeout -d 'How long to wait for Caddy to answer (e.g. 30s; a bare number is seconds)' -r
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from up" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from down" -l timeout -d 'How long Caddy gets to stop before it is killed (e.g. 10s; a bare number is seconds)' -r
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from down" -s y -l yes -d 'Stop it even while it routes running projects'
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from down" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from down" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from status" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from status" -l json -d 'Print JSON instead of text'
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from watch" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c shared -n "__fish_shared_using_subcommand router; and __fish_seen_subcommand_from watch" -s h -l help -d 'Print help (see more with \'--help\')'
