# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ports_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_ports_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ports_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ports_using_subcommand
    set -l cmd (__fish_ports_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ports -n "__fish_ports_needs_command" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c ports -n "__fish_ports_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ports -n "__fish_ports_needs_command" -s V -l version -d 'Print version'
complete -c ports -n "__fish_ports_needs_command" -f -a "scan" -d 'Show the ports compose files or project folders publish'
complete -c ports -n "__fish_ports_needs_command" -f -a "check" -d 'Report every host port claimed more than once'
complete -c ports -n "__fish_ports_needs_command" -f -a "alloc" -d 'Print free ports from a range: claimed by no project, unused on this machine'
complete -c ports -n "__fish_ports_needs_command" -f -a "free" -d 'Exit 0 when PORT is free, 1 when a project claims it or something listens on it'
complete -c ports -n "__fish_ports_needs_command" -f -a "usage" -d 'List every claimed host port with its projects'
complete -c ports -n "__fish_ports_needs_command" -f -a "who" -d 'Show which projects, services and processes claim PORT'
complete -c ports -n "__fish_ports_using_subcommand scan" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c ports -n "__fish_ports_using_subcommand scan" -l json -d 'Print JSON (same as --format json)'
complete -c ports -n "__fish_ports_using_subcommand scan" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c ports -n "__fish_ports_using_subcommand scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ports -n "__fish_ports_using_subcommand check" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c ports -n "__fish_ports_using_subcommand check" -l registry -d 'Check the registered projects'
complete -c ports -n "__fish_ports_using_subcommand check" -l running -d 'Only projects whose status is running (the rule for startup)'
complete -c ports -n "__fish_ports_using_subcommand check" -l probe -d 'Also report ports something on this machine listens on now'
complete -c ports -n "__fish_ports_using_subcommand check" -l allow-empty -d 'Accept an input (or a registry) that holds no project: by default that is an error (exit 2), so that a script whose stdin carries nothing never acts on nothing'
complete -c ports -n "__fish_ports_using_subcommand check" -l json -d 'Print JSON (same as --format json)'
complete -c ports -n "__fish_ports_using_subcommand check" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c ports -n "__fish_ports_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ports -n "__fish_ports_using_subcommand alloc" -l range -d 'The range, A-B (default: `port_range` from config.yaml, else 5000-5999)' -r
complete -c ports -n "__fish_ports_using_subcommand alloc" -l count -d 'How many ports' -r
complete -c ports -n "__fish_ports_using_subcommand alloc" -l claim -d 'Reserve the ports for project NAME (not registered yet) in the same step, under the registry\'s lock: no other allocation hands them out until `registry add` registers NAME, or for 10 minutes' -r
complete -c ports -n "__fish_ports_using_subcommand alloc" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c ports -n "__fish_ports_using_subcommand alloc" -l json -d 'Print JSON instead of text'
complete -c ports -n "__fish_ports_using_subcommand alloc" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c ports -n "__fish_ports_using_subcommand alloc" -s h -l help -d 'Print help'
complete -c ports -n "__fish_ports_using_subcommand free" -l protocol -r
complete -c ports -n "__fish_ports_using_subcommand free" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c ports -n "__fish_ports_using_subcommand free" -l json -d 'Print JSON instead of text'
complete -c ports -n "__fish_ports_using_subcommand free" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c ports -n "__fish_ports_using_subcommand free" -s h -l help -d 'Print help'
complete -c ports -n "__fish_ports_using_subcommand usage" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c ports -n "__fish_ports_using_subcommand usage" -l json -d 'Print JSON (same as --format json)'
complete -c ports -n "__fish_ports_using_subcommand usage" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c ports -n "__fish_ports_using_subcommand usage" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ports -n "__fish_ports_using_subcommand who" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c ports -n "__fish_ports_using_subcommand who" -l json -d 'Print JSON (same as --format json)'
complete -c ports -n "__fish_ports_using_subcommand who" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c ports -n "__fish_ports_using_subcommand who" -s h -l help -d 'Print help (see more with \'--help\')'
