# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cigen_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_cigen_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cigen_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cigen_using_subcommand
    set -l cmd (__fish_cigen_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cigen -n "__fish_cigen_needs_command" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c cigen -n "__fish_cigen_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cigen -n "__fish_cigen_needs_command" -s V -l version -d 'Print version'
complete -c cigen -n "__fish_cigen_needs_command" -f -a "generate" -d 'Write the CI pipeline of a project'
complete -c cigen -n "__fish_cigen_needs_command" -f -a "detect" -d 'Show what cigen reads from a project: stack, versions, package managers, services'
complete -c cigen -n "__fish_cigen_needs_command" -f -a "secrets" -d 'List the secrets and variables the generated pipelines need'
complete -c cigen -n "__fish_cigen_using_subcommand generate" -s d -l dir -d 'The project folder (default: the current folder, or Project JSON piped on stdin)' -r -F
complete -c cigen -n "__fish_cigen_using_subcommand generate" -l project -d 'A registered project, by name (its folder, stack and compose files from the registry)' -r
complete -c cigen -n "__fish_cigen_using_subcommand generate" -l platform -d 'The CI platform' -r -f -a "github\t''
gitlab\t''"
complete -c cigen -n "__fish_cigen_using_subcommand generate" -l stack -d 'Use this stack instead of detecting one (`generic`: checkout and `make test`)' -r -f -a "laravel\t'Laravel: artisan and laravel/framework in composer.json'
wordpress-theme\t'A WordPress theme: style.css with a Theme Name header'
wordpress-plugin\t'A WordPress plugin: a PHP file with a Plugin Name header'
django\t'Django: manage.py'
nextjs\t'Next.js: next in package.json'
fastapi\t'FastAPI: fastapi in pyproject.toml or requirements*.txt'
node\t'A Node project without a known framework'
python\t'A Python project without a known framework'
php\t'A PHP project without a known framework'
generic\t'No language: checkout and `make test`'"
complete -c cigen -n "__fish_cigen_using_subcommand generate" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c cigen -n "__fish_cigen_using_subcommand generate" -l deploy -d 'Also write the deploy pipeline (needs a Dockerfile)'
complete -c cigen -n "__fish_cigen_using_subcommand generate" -l dry-run -d 'Print what would be written; write nothing'
complete -c cigen -n "__fish_cigen_using_subcommand generate" -s y -l yes -d 'Replace existing pipeline files without asking (needed when not on a terminal)'
complete -c cigen -n "__fish_cigen_using_subcommand generate" -l json -d 'Print JSON (same as --format json)'
complete -c cigen -n "__fish_cigen_using_subcommand generate" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c cigen -n "__fish_cigen_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cigen -n "__fish_cigen_using_subcommand detect" -s d -l dir -d 'The project folder (default: the current folder, or Project JSON piped on stdin)' -r -F
complete -c cigen -n "__fish_cigen_using_subcommand detect" -l project -d 'A registered project, by name (its folder, stack and compose files from the registry)' -r
complete -c cigen -n "__fish_cigen_using_subcommand detect" -l stack -d 'Use this stack instead of detecting one' -r -f -a "laravel\t'Laravel: artisan and laravel/framework in composer.json'
wordpress-theme\t'A WordPress theme: style.css with a Theme Name header'
wordpress-plugin\t'A WordPress plugin: a PHP file with a Plugin Name header'
django\t'Django: manage.py'
nextjs\t'Next.js: next in package.json'
fastapi\t'FastAPI: fastapi in pyproject.toml or requirements*.txt'
node\t'A Node project without a known framework'
python\t'A Python project without a known framework'
php\t'A PHP project without a known framework'
generic\t'No language: checkout and `make test`'"
complete -c cigen -n "__fish_cigen_using_subcommand detect" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c cigen -n "__fish_cigen_using_subcommand detect" -l json -d 'Print JSON (same as --format json)'
complete -c cigen -n "__fish_cigen_using_subcommand detect" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c cigen -n "__fish_cigen_using_subcommand detect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cigen -n "__fish_cigen_using_subcommand secrets" -l platform -d 'The CI platform' -r -f -a "github\t''
gitlab\t''"
complete -c cigen -n "__fish_cigen_using_subcommand secrets" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c cigen -n "__fish_cigen_using_subcommand secrets" -l json -d 'Print JSON (same as --format json)'
complete -c cigen -n "__fish_cigen_using_subcommand secrets" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c cigen -n "__fish_cigen_using_subcommand secrets" -s h -l help -d 'Print help (see more with \'--help\')'
