# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_stackctl_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_stackctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_stackctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_stackctl_using_subcommand
    set -l cmd (__fish_stackctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c stackctl -n "__fish_stackctl_needs_command" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackctl -n "__fish_stackctl_needs_command" -s V -l version -d 'Print version'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "start" -d 'Start projects: check ports, run the stack detached, wait until the app answers'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "stop" -d 'Stop projects gracefully (SIGTERM or the image\'s stop signal, then SIGKILL after --timeout)'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "restart" -d 'Stop, then start projects (hooks and the port check included)'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "stop-all" -d 'Stop every project that runs (or is recorded as running); asks first'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "status" -d 'Show what runs: per project its status, per service state, health, ports'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "exec" -d 'Run a command in a running service (the app by default)'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "down" -d 'Remove a project\'s containers and network (and with --with-data its data)'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "logs" -d 'Print the logs of a project\'s containers, prefixed `service | `'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "health" -d 'Check that the project\'s app answers HTTP: exit 0 healthy, 1 not'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "watch" -d 'Report state changes; with --restart, restart failed services'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "doctor" -d 'Check the engine, socket permissions, the compose driver and the registry'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "plan" -d 'Show what `stackctl apply` would change, like `terraform plan`'
complete -c stackctl -n "__fish_stackctl_needs_command" -f -a "apply" -d 'Apply a plan: create, recreate and remove exactly the services that changed'
complete -c stackctl -n "__fish_stackctl_using_subcommand start" -l timeout -d 'How long to wait for the services to run and the app to answer (e.g. 2m, 90s; a bare number is seconds)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand start" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c stackctl -n "__fish_stackctl_using_subcommand start" -l force -d 'Start even when a port is taken (a warning instead of a refusal)'
complete -c stackctl -n "__fish_stackctl_using_subcommand start" -l progress -d 'Show progress (pulls, build steps, what is waited for) on stderr even when it is not a terminal'
complete -c stackctl -n "__fish_stackctl_using_subcommand start" -l json -d 'Print JSON instead of text'
complete -c stackctl -n "__fish_stackctl_using_subcommand start" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackctl -n "__fish_stackctl_using_subcommand stop" -l timeout -d 'How long each container gets to stop before it is killed (e.g. 10s; a bare number is seconds)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand stop" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand stop" -s h -l help -d 'Print help'
complete -c stackctl -n "__fish_stackctl_using_subcommand restart" -l stop-timeout -d 'How long each container gets to stop before it is killed (e.g. 10s; a bare number is seconds)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand restart" -l timeout -d 'How long to wait for the services to run and the app to answer (e.g. 2m, 90s; a bare number is seconds)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand restart" -l force -d 'Start even when a port is taken'
complete -c stackctl -n "__fish_stackctl_using_subcommand restart" -l progress -d 'Show progress on stderr even when it is not a terminal'
complete -c stackctl -n "__fish_stackctl_using_subcommand restart" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand restart" -s h -l help -d 'Print help'
complete -c stackctl -n "__fish_stackctl_using_subcommand stop-all" -l timeout -d 'How long each container gets to stop before it is killed (e.g. 10s; a bare number is seconds)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand stop-all" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c stackctl -n "__fish_stackctl_using_subcommand stop-all" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand stop-all" -s h -l help -d 'Print help'
complete -c stackctl -n "__fish_stackctl_using_subcommand status" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c stackctl -n "__fish_stackctl_using_subcommand status" -l no-update -d 'Do not correct the registry'
complete -c stackctl -n "__fish_stackctl_using_subcommand status" -l json -d 'Print JSON (same as --format json)'
complete -c stackctl -n "__fish_stackctl_using_subcommand status" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackctl -n "__fish_stackctl_using_subcommand exec" -s s -l service -d 'The service to run in (default: the app)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand exec" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackctl -n "__fish_stackctl_using_subcommand down" -l timeout -d 'How long each container gets to stop before it is killed (e.g. 10s; a bare number is seconds)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand down" -l with-data -d 'Also remove the volumes and the locally built images'
complete -c stackctl -n "__fish_stackctl_using_subcommand down" -s y -l yes -d 'Do not ask'
complete -c stackctl -n "__fish_stackctl_using_subcommand down" -l dry-run -d 'Show what would be removed, change nothing'
complete -c stackctl -n "__fish_stackctl_using_subcommand down" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand down" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackctl -n "__fish_stackctl_using_subcommand logs" -s s -l service -d 'Only this service' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand logs" -s n -l tail -d 'Only the last N lines of each container' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand logs" -s f -l follow -d 'Keep printing new lines until interrupted'
complete -c stackctl -n "__fish_stackctl_using_subcommand logs" -s t -l timestamps -d 'Show each line\'s time (RFC 3339, from the engine)'
complete -c stackctl -n "__fish_stackctl_using_subcommand logs" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackctl -n "__fish_stackctl_using_subcommand health" -l path -d 'The path to GET' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand health" -l retries -d 'Further tries after the first' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand health" -l interval -d 'How long between tries (e.g. 1s, 200ms; a bare number is seconds)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand health" -l timeout -d 'How long one try may take (e.g. 5s; a bare number is seconds)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand health" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c stackctl -n "__fish_stackctl_using_subcommand health" -l json -d 'Print JSON instead of text'
complete -c stackctl -n "__fish_stackctl_using_subcommand health" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand health" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackctl -n "__fish_stackctl_using_subcommand watch" -l interval -d 'How long between looks (e.g. 5s, 1m; a bare number is seconds)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand watch" -l iterations -d 'Stop after N looks (default: run until interrupted)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand watch" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c stackctl -n "__fish_stackctl_using_subcommand watch" -l restart -d 'Restart failed services of projects meant to run'
complete -c stackctl -n "__fish_stackctl_using_subcommand watch" -l once -d 'One look, then exit (same as --iterations 1)'
complete -c stackctl -n "__fish_stackctl_using_subcommand watch" -l json -d 'Print JSON instead of text'
complete -c stackctl -n "__fish_stackctl_using_subcommand watch" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackctl -n "__fish_stackctl_using_subcommand doctor" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c stackctl -n "__fish_stackctl_using_subcommand doctor" -l json -d 'Print JSON (same as --format json)'
complete -c stackctl -n "__fish_stackctl_using_subcommand doctor" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackctl -n "__fish_stackctl_using_subcommand plan" -l out -d 'Also write the plan as JSON to FILE (atomically), for `apply --plan`' -r -F
complete -c stackctl -n "__fish_stackctl_using_subcommand plan" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c stackctl -n "__fish_stackctl_using_subcommand plan" -l json -d 'Print JSON instead of text'
complete -c stackctl -n "__fish_stackctl_using_subcommand plan" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackctl -n "__fish_stackctl_using_subcommand apply" -l plan -d 'The plan to apply (JSON from `stackctl plan --out FILE`); refused when stale' -r -F
complete -c stackctl -n "__fish_stackctl_using_subcommand apply" -l lock-timeout -d 'How long to wait for another apply of the project to finish (e.g. 30s, 2m)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand apply" -l timeout -d 'How long to wait for the services to run and the app to answer (e.g. 2m, 90s)' -r
complete -c stackctl -n "__fish_stackctl_using_subcommand apply" -s y -l yes -d 'Do not ask (needed when not on a terminal and without --plan)'
complete -c stackctl -n "__fish_stackctl_using_subcommand apply" -l with-data -d 'Also remove the volumes of removed services: their containers\' anonymous volumes and the project\'s named volumes no other container mounts'
complete -c stackctl -n "__fish_stackctl_using_subcommand apply" -l progress -d 'Show progress on stderr even when it is not a terminal'
complete -c stackctl -n "__fish_stackctl_using_subcommand apply" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackctl -n "__fish_stackctl_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
