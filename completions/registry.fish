# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_registry_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_registry_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_registry_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_registry_using_subcommand
    set -l cmd (__fish_registry_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c registry -n "__fish_registry_needs_command" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c registry -n "__fish_registry_needs_command" -s V -l version -d 'Print version'
complete -c registry -n "__fish_registry_needs_command" -f -a "add" -d 'Register a project folder, or Project JSON with `-`'
complete -c registry -n "__fish_registry_needs_command" -f -a "list" -d 'List registered projects'
complete -c registry -n "__fish_registry_needs_command" -f -a "show" -d 'Show one project: URLs, services with their state, databases, commands'
complete -c registry -n "__fish_registry_needs_command" -f -a "remove" -d 'Remove projects from the registry (their folders are not touched)'
complete -c registry -n "__fish_registry_needs_command" -f -a "update" -d 'Rescan a project\'s folder and apply what changed'
complete -c registry -n "__fish_registry_needs_command" -f -a "set-status" -d 'Record a project\'s state (stackctl calls this)'
complete -c registry -n "__fish_registry_needs_command" -f -a "env" -d 'Manage a project\'s environment variables'
complete -c registry -n "__fish_registry_needs_command" -f -a "export" -d 'Print every project as a JSON array (what `registry import` reads)'
complete -c registry -n "__fish_registry_needs_command" -f -a "import" -d 'Load projects from JSON (what `registry export` writes)'
complete -c registry -n "__fish_registry_using_subcommand add" -l name -d 'The project\'s name (a DNS label: a-z, 0-9, \'-\')' -r
complete -c registry -n "__fish_registry_using_subcommand add" -s p -l port -d 'Use this HTTP port instead of allocating one' -r
complete -c registry -n "__fish_registry_using_subcommand add" -l stack -d 'The stack the project was generated from (django, laravel, ...)' -r
complete -c registry -n "__fish_registry_using_subcommand add" -l web-service -d 'The compose service whose published port is the project\'s HTTP port' -r
complete -c registry -n "__fish_registry_using_subcommand add" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c registry -n "__fish_registry_using_subcommand add" -l allow-empty -d 'Accept an input (or a registry) that holds no project: by default that is an error (exit 2), so that a script whose stdin carries nothing never acts on nothing'
complete -c registry -n "__fish_registry_using_subcommand add" -l json -d 'Print JSON (same as --format json)'
complete -c registry -n "__fish_registry_using_subcommand add" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c registry -n "__fish_registry_using_subcommand list" -l status -d 'Only projects with this status' -r
complete -c registry -n "__fish_registry_using_subcommand list" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c registry -n "__fish_registry_using_subcommand list" -l json -d 'Print JSON (same as --format json)'
complete -c registry -n "__fish_registry_using_subcommand list" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c registry -n "__fish_registry_using_subcommand show" -l tld -d 'The dev TLD of the URLs (default: `tld` from config.yaml, else `test`)' -r
complete -c registry -n "__fish_registry_using_subcommand show" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c registry -n "__fish_registry_using_subcommand show" -l show-secrets -d 'Also print the database passwords (otherwise only where they are set)'
complete -c registry -n "__fish_registry_using_subcommand show" -l json -d 'Print JSON (same as --format json)'
complete -c registry -n "__fish_registry_using_subcommand show" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c registry -n "__fish_registry_using_subcommand remove" -s y -l yes -d 'Do not ask for confirmation (needed when not on a terminal)'
complete -c registry -n "__fish_registry_using_subcommand remove" -l dry-run -d 'Show what would be removed, change nothing'
complete -c registry -n "__fish_registry_using_subcommand remove" -l down -d 'Also take the stacks down: remove their containers and networks (volumes stay; `stackctl down NAME --with-data` removes those). The project\'s stop hooks do not run here; `stackctl down` runs them'
complete -c registry -n "__fish_registry_using_subcommand remove" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand remove" -s h -l help -d 'Print help'
complete -c registry -n "__fish_registry_using_subcommand update" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c registry -n "__fish_registry_using_subcommand update" -l dry-run -d 'Show what changed, apply nothing'
complete -c registry -n "__fish_registry_using_subcommand update" -s y -l yes -d 'Apply without asking (needed when not on a terminal)'
complete -c registry -n "__fish_registry_using_subcommand update" -l json -d 'Print JSON instead of text'
complete -c registry -n "__fish_registry_using_subcommand update" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c registry -n "__fish_registry_using_subcommand set-status" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand set-status" -s h -l help -d 'Print help'
complete -c registry -n "__fish_registry_using_subcommand env; and not __fish_seen_subcommand_from set get unset list" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand env; and not __fish_seen_subcommand_from set get unset list" -s h -l help -d 'Print help'
complete -c registry -n "__fish_registry_using_subcommand env; and not __fish_seen_subcommand_from set get unset list" -f -a "set" -d 'Set variables: `registry env set shop APP_DEBUG=1 MAIL_PORT=1025`'
complete -c registry -n "__fish_registry_using_subcommand env; and not __fish_seen_subcommand_from set get unset list" -f -a "get" -d 'Print one variable\'s value'
complete -c registry -n "__fish_registry_using_subcommand env; and not __fish_seen_subcommand_from set get unset list" -f -a "unset" -d 'Remove variables'
complete -c registry -n "__fish_registry_using_subcommand env; and not __fish_seen_subcommand_from set get unset list" -f -a "list" -d 'List a project\'s variables'
complete -c registry -n "__fish_registry_using_subcommand env; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand env; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c registry -n "__fish_registry_using_subcommand env; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand env; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c registry -n "__fish_registry_using_subcommand env; and __fish_seen_subcommand_from unset" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand env; and __fish_seen_subcommand_from unset" -s h -l help -d 'Print help'
complete -c registry -n "__fish_registry_using_subcommand env; and __fish_seen_subcommand_from list" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c registry -n "__fish_registry_using_subcommand env; and __fish_seen_subcommand_from list" -l json -d 'Print JSON (same as --format json)'
complete -c registry -n "__fish_registry_using_subcommand env; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand env; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c registry -n "__fish_registry_using_subcommand export" -s o -l output -d 'Write to this file instead of stdout (atomically, mode 0644; stderr says when it replaced one)' -r -F
complete -c registry -n "__fish_registry_using_subcommand export" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand export" -s h -l help -d 'Print help'
complete -c registry -n "__fish_registry_using_subcommand import" -l merge -d 'Add the projects, replacing those of the same name (default)'
complete -c registry -n "__fish_registry_using_subcommand import" -l replace -d 'Replace the whole registry with the file\'s projects'
complete -c registry -n "__fish_registry_using_subcommand import" -s y -l yes -d 'Do not ask before --replace (needed when not on a terminal)'
complete -c registry -n "__fish_registry_using_subcommand import" -l dry-run -d 'Check the file and show what would change, write nothing'
complete -c registry -n "__fish_registry_using_subcommand import" -l allow-empty -d 'Accept an input (or a registry) that holds no project: by default that is an error (exit 2), so that a script whose stdin carries nothing never acts on nothing'
complete -c registry -n "__fish_registry_using_subcommand import" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c registry -n "__fish_registry_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
