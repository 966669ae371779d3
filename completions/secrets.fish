# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_secrets_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_secrets_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_secrets_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_secrets_using_subcommand
    set -l cmd (__fish_secrets_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c secrets -n "__fish_secrets_needs_command" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c secrets -n "__fish_secrets_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secrets -n "__fish_secrets_needs_command" -s V -l version -d 'Print version'
complete -c secrets -n "__fish_secrets_needs_command" -f -a "set" -d 'Store a value under KEY: read from stdin, asked for on a terminal, or generated'
complete -c secrets -n "__fish_secrets_needs_command" -f -a "get" -d 'Print one value and a newline'
complete -c secrets -n "__fish_secrets_needs_command" -f -a "list" -d 'List a project\'s keys: name, kind, when created and rotated; never a value'
complete -c secrets -n "__fish_secrets_needs_command" -f -a "rm" -d 'Remove a key and its value'
complete -c secrets -n "__fish_secrets_needs_command" -f -a "rotate" -d 'Replace a key\'s value with a new random one of the same kind'
complete -c secrets -n "__fish_secrets_needs_command" -f -a "env" -d 'Print `KEY=\'VALUE\'` lines, one a key, for tools that need them'
complete -c secrets -n "__fish_secrets_needs_command" -f -a "run" -d 'Run CMD with the project\'s secrets added to its environment'
complete -c secrets -n "__fish_secrets_needs_command" -f -a "export-key" -d 'Print the store\'s key (to move the secrets to another machine)'
complete -c secrets -n "__fish_secrets_needs_command" -f -a "import-key" -d 'Install a key exported by `export-key` (from FILE, or stdin with `-` or when piped)'
complete -c secrets -n "__fish_secrets_using_subcommand set" -l generate -d 'Generate a random value of this kind (alnum32, hex64, base64_32, laravel)' -r
complete -c secrets -n "__fish_secrets_using_subcommand set" -l from-stdin -d 'Read the value from stdin'
complete -c secrets -n "__fish_secrets_using_subcommand set" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c secrets -n "__fish_secrets_using_subcommand set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secrets -n "__fish_secrets_using_subcommand get" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c secrets -n "__fish_secrets_using_subcommand get" -s h -l help -d 'Print help'
complete -c secrets -n "__fish_secrets_using_subcommand list" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c secrets -n "__fish_secrets_using_subcommand list" -l json -d 'Print JSON (same as --format json)'
complete -c secrets -n "__fish_secrets_using_subcommand list" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c secrets -n "__fish_secrets_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secrets -n "__fish_secrets_using_subcommand rm" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c secrets -n "__fish_secrets_using_subcommand rm" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c secrets -n "__fish_secrets_using_subcommand rm" -s h -l help -d 'Print help'
complete -c secrets -n "__fish_secrets_using_subcommand rotate" -s s -l service -d 'The database service, when several use KEY' -r
complete -c secrets -n "__fish_secrets_using_subcommand rotate" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c secrets -n "__fish_secrets_using_subcommand rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secrets -n "__fish_secrets_using_subcommand env" -l reveal -d 'Print the values on a terminal too'
complete -c secrets -n "__fish_secrets_using_subcommand env" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c secrets -n "__fish_secrets_using_subcommand env" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secrets -n "__fish_secrets_using_subcommand run" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c secrets -n "__fish_secrets_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secrets -n "__fish_secrets_using_subcommand export-key" -s o -l output -d 'Write to FILE atomically instead of stdout (mode 0600)' -r -F
complete -c secrets -n "__fish_secrets_using_subcommand export-key" -l reveal -d 'Print the key on a terminal too'
complete -c secrets -n "__fish_secrets_using_subcommand export-key" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c secrets -n "__fish_secrets_using_subcommand export-key" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c secrets -n "__fish_secrets_using_subcommand import-key" -l force -d 'Replace a different key already installed'
complete -c secrets -n "__fish_secrets_using_subcommand import-key" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c secrets -n "__fish_secrets_using_subcommand import-key" -s h -l help -d 'Print help (see more with \'--help\')'
