# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_stackgen_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_stackgen_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_stackgen_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_stackgen_using_subcommand
    set -l cmd (__fish_stackgen_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c stackgen -n "__fish_stackgen_needs_command" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_needs_command" -s V -l version -d 'Print version'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "new" -d 'Generate a stack: Docker files, .env, and (fresh) the framework\'s project'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "add-service" -d 'Add catalog services to a generated project'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "remove-service" -d 'Remove catalog services from a generated project'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "services" -d 'List the service catalog (and which services a project uses)'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "stacks" -d 'List the available stacks with their runtime and services'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "update-templates" -d 'Refresh the template cache from a folder or a git repository'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "config" -d 'Show the effective config of the project\'s instances and their wiring'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "generate" -d 'Regenerate the project\'s files from its berth.yaml as it is'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "set" -d 'Set overrides of instances in berth.yaml'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "unset" -d 'Remove overrides of instances from berth.yaml (back to the template\'s)'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "wire" -d 'Wire a consumer\'s import to a provider instance, explicitly'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "export" -d 'Write the project\'s declared stack as a portable file for sharing'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "import" -d 'Create or update a project from a shared stack file'
complete -c stackgen -n "__fish_stackgen_needs_command" -f -a "migrate" -d 'Move a project\'s database to the shared server, or back to its own'
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -s d -l dir -d 'The project folder (default: ./NAME)' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -l services -d 'Catalog services, comma-separated (default: the stack\'s defaults; `none` for none)' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -l publish -d 'Services whose ports are published on 127.0.0.1, comma-separated' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -l shared -d 'Services taken from the shared servers (`shared`) instead of containers of the project, comma-separated (postgres, mariadb, mysql, redis, valkey): the app reaches `berth-shared-<service>` with a database and user of its own (on Redis: an ACL user owning the keys `p_NAME:*`), which `stackctl start` creates' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -l mode -d 'Fresh or existing project (default: fresh for a missing or empty folder)' -r -f -a "fresh\t'A new project: the folder must be missing or empty; the framework\'s generator runs'
existing\t'Add the Docker setup to the framework project already in the folder'"
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -s p -l port -d 'Use this host port for the app instead of allocating one (refused when another project claims it, unless --force)' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -l base-image -d 'The app\'s base image (default: the stack\'s, see `stackgen stacks`), written into the Dockerfile, compose.yaml and .env; `images:` in config.yaml maps it like any other image' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -l no-generator -d 'Do not run the framework\'s generator in fresh mode: write the Docker setup and the stack\'s starter files only'
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -l force -d 'Take the --port another project claims anyway (the two cannot run at once)'
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -l dry-run -d 'Show what would be written (a unified diff) and write nothing'
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -l diff -d 'Show the unified diff of every file before writing'
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -l json -d 'Print JSON instead of text'
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand new" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_using_subcommand add-service" -l as -d 'The instance\'s name, for a second instance of a service (`add-service postgres --as analytics-db`); one SERVICE only' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand add-service" -s d -l dir -d 'The project folder (default: the current folder)' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand add-service" -l project -d 'The registered project, instead of --dir' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand add-service" -l publish -d 'Publish these services\' ports on 127.0.0.1 (allocated ports)' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand add-service" -l dry-run -d 'Show the diff and change nothing'
complete -c stackgen -n "__fish_stackgen_using_subcommand add-service" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c stackgen -n "__fish_stackgen_using_subcommand add-service" -l shared -d 'Take the services from the shared servers (`shared`) instead of containers of the project (postgres, mariadb, mysql, redis, valkey): the app reaches `berth-shared-SERVICE` with an account of its own, which `stackctl start` creates'
complete -c stackgen -n "__fish_stackgen_using_subcommand add-service" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand add-service" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_using_subcommand remove-service" -s d -l dir -d 'The project folder (default: the current folder)' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand remove-service" -l project -d 'The registered project, instead of --dir' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand remove-service" -l with-data -d 'Also delete the services\' containers and data volumes'
complete -c stackgen -n "__fish_stackgen_using_subcommand remove-service" -l dry-run -d 'Show the diff and change nothing'
complete -c stackgen -n "__fish_stackgen_using_subcommand remove-service" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c stackgen -n "__fish_stackgen_using_subcommand remove-service" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand remove-service" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_using_subcommand services" -s d -l dir -d 'The project folder of a generated project: mark the services it uses' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand services" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c stackgen -n "__fish_stackgen_using_subcommand services" -l json -d 'Print JSON (same as --format json)'
complete -c stackgen -n "__fish_stackgen_using_subcommand services" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand services" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_using_subcommand stacks" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c stackgen -n "__fish_stackgen_using_subcommand stacks" -l json -d 'Print JSON (same as --format json)'
complete -c stackgen -n "__fish_stackgen_using_subcommand stacks" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand stacks" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_using_subcommand update-templates" -l from -d 'A template folder or a git URL' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand update-templates" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c stackgen -n "__fish_stackgen_using_subcommand update-templates" -l dry-run -d 'Show what would change and keep the cache as it is'
complete -c stackgen -n "__fish_stackgen_using_subcommand update-templates" -l json -d 'Print JSON (same as --format json)'
complete -c stackgen -n "__fish_stackgen_using_subcommand update-templates" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand update-templates" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_using_subcommand config" -s d -l dir -d 'The project folder (default: the current folder)' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand config" -l project -d 'The registered project, instead of --dir' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand config" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c stackgen -n "__fish_stackgen_using_subcommand config" -l json -d 'Print JSON instead of text'
complete -c stackgen -n "__fish_stackgen_using_subcommand config" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand config" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_using_subcommand generate" -s d -l dir -d 'The project folder (default: the current folder)' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand generate" -l project -d 'The registered project, instead of --dir' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand generate" -l dry-run -d 'Show the diff and change nothing'
complete -c stackgen -n "__fish_stackgen_using_subcommand generate" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c stackgen -n "__fish_stackgen_using_subcommand generate" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_using_subcommand set" -s d -l dir -d 'The project folder (default: the current folder)' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand set" -l project -d 'The registered project, instead of --dir' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand set" -l dry-run -d 'Show the diff and change nothing'
complete -c stackgen -n "__fish_stackgen_using_subcommand set" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c stackgen -n "__fish_stackgen_using_subcommand set" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_using_subcommand unset" -s d -l dir -d 'The project folder (default: the current folder)' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand unset" -l project -d 'The registered project, instead of --dir' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand unset" -l dry-run -d 'Show the diff and change nothing'
complete -c stackgen -n "__fish_stackgen_using_subcommand unset" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c stackgen -n "__fish_stackgen_using_subcommand unset" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand unset" -s h -l help -d 'Print help'
complete -c stackgen -n "__fish_stackgen_using_subcommand wire" -s d -l dir -d 'The project folder (default: the current folder)' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand wire" -l project -d 'The registered project, instead of --dir' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand wire" -l dry-run -d 'Show the diff and change nothing'
complete -c stackgen -n "__fish_stackgen_using_subcommand wire" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c stackgen -n "__fish_stackgen_using_subcommand wire" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand wire" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_using_subcommand export" -s d -l dir -d 'The project folder (default: the current folder)' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand export" -l project -d 'The registered project, instead of --dir' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand export" -s o -l output -d 'Write to FILE (atomically) instead of stdout' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand export" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_using_subcommand import" -s d -l dir -d 'The project folder (default: ./NAME)' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand import" -l name -d 'The project\'s name (default: the file\'s)' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand import" -l dry-run -d 'Show the diff and change nothing (an existing project only)'
complete -c stackgen -n "__fish_stackgen_using_subcommand import" -s y -l yes -d 'Do not ask (needed when not on a terminal, to update a project)'
complete -c stackgen -n "__fish_stackgen_using_subcommand import" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c stackgen -n "__fish_stackgen_using_subcommand migrate" -s d -l dir -d 'The project folder (default: the current folder)' -r -F
complete -c stackgen -n "__fish_stackgen_using_subcommand migrate" -l to -d 'Where the database goes' -r -f -a "shared\t''
own\t''"
complete -c stackgen -n "__fish_stackgen_using_subcommand migrate" -s s -l service -d 'The database instance to move (default: the project\'s database)' -r
complete -c stackgen -n "__fish_stackgen_using_subcommand migrate" -l with-data -d 'After the switch, delete what the database left: the own server\'s container and data volume (--to shared), the shared database (--to own)'
complete -c stackgen -n "__fish_stackgen_using_subcommand migrate" -l dry-run -d 'Print the steps and change nothing'
complete -c stackgen -n "__fish_stackgen_using_subcommand migrate" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c stackgen -n "__fish_stackgen_using_subcommand migrate" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c stackgen -n "__fish_stackgen_using_subcommand migrate" -s h -l help -d 'Print help (see more with \'--help\')'
