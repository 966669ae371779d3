# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dbdump_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_dbdump_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dbdump_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dbdump_using_subcommand
    set -l cmd (__fish_dbdump_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dbdump -n "__fish_dbdump_needs_command" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dbdump -n "__fish_dbdump_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbdump -n "__fish_dbdump_needs_command" -s V -l version -d 'Print version'
complete -c dbdump -n "__fish_dbdump_needs_command" -f -a "backup" -d 'Take a backup'
complete -c dbdump -n "__fish_dbdump_needs_command" -f -a "list" -d 'List the backups: date, size, engine, label'
complete -c dbdump -n "__fish_dbdump_needs_command" -f -a "restore" -d 'Restore a backup over the database'
complete -c dbdump -n "__fish_dbdump_needs_command" -f -a "reset" -d 'Replace the database with an empty one, then run the framework\'s migrations'
complete -c dbdump -n "__fish_dbdump_needs_command" -f -a "shell" -d 'Open the database\'s interactive client (psql, mariadb, mysql)'
complete -c dbdump -n "__fish_dbdump_needs_command" -f -a "prune" -d 'Delete all but the newest N backups'
complete -c dbdump -n "__fish_dbdump_needs_command" -f -a "verify" -d 'Check a backup: checksum, decompression, completeness. Exit 1 when damaged'
complete -c dbdump -n "__fish_dbdump_using_subcommand backup" -l project -d 'The registered project (default: the project in the current folder)' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand backup" -s d -l dir -d 'The project folder (default: the current folder): its registry entry, else its compose project' -r -F
complete -c dbdump -n "__fish_dbdump_using_subcommand backup" -s s -l service -d 'The database service, when the project has more than one' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand backup" -l url -d 'A server instead of a project: postgres://, mysql:// or mariadb:// URL' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand backup" -l database -d 'The database name, when the environment does not name it' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand backup" -l backup-dir -d 'The backup folder (default: `.berth/backups` in the project, see `backup_dir` in config.yaml)' -r -F
complete -c dbdump -n "__fish_dbdump_using_subcommand backup" -l label -d 'A label for the backup, appended to its file name' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand backup" -s c -l compress -d 'Compression of the backup file' -r -f -a "zstd\t''
gzip\t''
none\t''"
complete -c dbdump -n "__fish_dbdump_using_subcommand backup" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c dbdump -n "__fish_dbdump_using_subcommand backup" -l json -d 'Print JSON instead of text'
complete -c dbdump -n "__fish_dbdump_using_subcommand backup" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dbdump -n "__fish_dbdump_using_subcommand backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbdump -n "__fish_dbdump_using_subcommand list" -l project -d 'The registered project (default: the project in the current folder)' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand list" -s d -l dir -d 'The project folder (default: the current folder)' -r -F
complete -c dbdump -n "__fish_dbdump_using_subcommand list" -l backup-dir -d 'The backup folder (default: `.berth/backups` in the project)' -r -F
complete -c dbdump -n "__fish_dbdump_using_subcommand list" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c dbdump -n "__fish_dbdump_using_subcommand list" -l json -d 'Print JSON (same as --format json)'
complete -c dbdump -n "__fish_dbdump_using_subcommand list" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dbdump -n "__fish_dbdump_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbdump -n "__fish_dbdump_using_subcommand restore" -l project -d 'The registered project (default: the project in the current folder)' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand restore" -s d -l dir -d 'The project folder (default: the current folder): its registry entry, else its compose project' -r -F
complete -c dbdump -n "__fish_dbdump_using_subcommand restore" -s s -l service -d 'The database service, when the project has more than one' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand restore" -l url -d 'A server instead of a project: postgres://, mysql:// or mariadb:// URL' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand restore" -l database -d 'The database name, when the environment does not name it' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand restore" -l backup-dir -d 'The backup folder (default: `.berth/backups` in the project, see `backup_dir` in config.yaml)' -r -F
complete -c dbdump -n "__fish_dbdump_using_subcommand restore" -l latest -d 'Restore the newest backup (safety backups are skipped)'
complete -c dbdump -n "__fish_dbdump_using_subcommand restore" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c dbdump -n "__fish_dbdump_using_subcommand restore" -l no-safety-backup -d 'Do not take a safety backup first'
complete -c dbdump -n "__fish_dbdump_using_subcommand restore" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dbdump -n "__fish_dbdump_using_subcommand restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbdump -n "__fish_dbdump_using_subcommand reset" -l project -d 'The registered project (default: the project in the current folder)' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand reset" -s d -l dir -d 'The project folder (default: the current folder): its registry entry, else its compose project' -r -F
complete -c dbdump -n "__fish_dbdump_using_subcommand reset" -s s -l service -d 'The database service, when the project has more than one' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand reset" -l url -d 'A server instead of a project: postgres://, mysql:// or mariadb:// URL' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand reset" -l database -d 'The database name, when the environment does not name it' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand reset" -l backup-dir -d 'The backup folder (default: `.berth/backups` in the project, see `backup_dir` in config.yaml)' -r -F
complete -c dbdump -n "__fish_dbdump_using_subcommand reset" -l seed -d 'Seed the database after migrating (Laravel)'
complete -c dbdump -n "__fish_dbdump_using_subcommand reset" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c dbdump -n "__fish_dbdump_using_subcommand reset" -l no-safety-backup -d 'Do not take a safety backup first'
complete -c dbdump -n "__fish_dbdump_using_subcommand reset" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dbdump -n "__fish_dbdump_using_subcommand reset" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbdump -n "__fish_dbdump_using_subcommand shell" -l project -d 'The registered project (default: the project in the current folder)' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand shell" -s d -l dir -d 'The project folder (default: the current folder): its registry entry, else its compose project' -r -F
complete -c dbdump -n "__fish_dbdump_using_subcommand shell" -s s -l service -d 'The database service, when the project has more than one' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand shell" -l url -d 'A server instead of a project: postgres://, mysql:// or mariadb:// URL' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand shell" -l database -d 'The database name, when the environment does not name it' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand shell" -l backup-dir -d 'The backup folder (default: `.berth/backups` in the project, see `backup_dir` in config.yaml)' -r -F
complete -c dbdump -n "__fish_dbdump_using_subcommand shell" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dbdump -n "__fish_dbdump_using_subcommand shell" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbdump -n "__fish_dbdump_using_subcommand prune" -l project -d 'The registered project (default: the project in the current folder)' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand prune" -s d -l dir -d 'The project folder (default: the current folder)' -r -F
complete -c dbdump -n "__fish_dbdump_using_subcommand prune" -l backup-dir -d 'The backup folder (default: `.berth/backups` in the project)' -r -F
complete -c dbdump -n "__fish_dbdump_using_subcommand prune" -l keep -d 'How many backups to keep (the newest)' -r
complete -c dbdump -n "__fish_dbdump_using_subcommand prune" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c dbdump -n "__fish_dbdump_using_subcommand prune" -l dry-run -d 'Show what would be deleted without deleting it'
complete -c dbdump -n "__fish_dbdump_using_subcommand prune" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c dbdump -n "__fish_dbdump_using_subcommand prune" -l json -d 'Print JSON (same as --format json)'
complete -c dbdump -n "__fish_dbdump_using_subcommand prune" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dbdump -n "__fish_dbdump_using_subcommand prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbdump -n "__fish_dbdump_using_subcommand verify" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c dbdump -n "__fish_dbdump_using_subcommand verify" -l json -d 'Print JSON instead of text'
complete -c dbdump -n "__fish_dbdump_using_subcommand verify" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dbdump -n "__fish_dbdump_using_subcommand verify" -s h -l help -d 'Print help'
