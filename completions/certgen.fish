# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_certgen_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_certgen_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_certgen_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_certgen_using_subcommand
    set -l cmd (__fish_certgen_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c certgen -n "__fish_certgen_needs_command" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c certgen -n "__fish_certgen_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c certgen -n "__fish_certgen_needs_command" -s V -l version -d 'Print version'
complete -c certgen -n "__fish_certgen_needs_command" -f -a "init" -d 'Create the local CA, limited to the dev TLDs and loopback'
complete -c certgen -n "__fish_certgen_needs_command" -f -a "issue" -d 'Issue certificates for DOMAINs, or for every project on stdin'
complete -c certgen -n "__fish_certgen_needs_command" -f -a "renew" -d 'Reissue every certificate expiring within --within (or not from the current CA)'
complete -c certgen -n "__fish_certgen_needs_command" -f -a "status" -d 'Show the CA, where it is trusted, and every certificate with its days left'
complete -c certgen -n "__fish_certgen_needs_command" -f -a "trust" -d 'Install the CA in the system store and NSS databases (Firefox, Chromium)'
complete -c certgen -n "__fish_certgen_needs_command" -f -a "untrust" -d 'Remove every berth CA (current and earlier ones) from the stores `trust` uses'
complete -c certgen -n "__fish_certgen_using_subcommand init" -l key -d 'Key type of the CA' -r -f -a "ecdsa\t'ECDSA on P-256 (fast, small; what browsers prefer)'
rsa\t'RSA 3072 for the CA, 2048 for certificates (for old clients)'"
complete -c certgen -n "__fish_certgen_using_subcommand init" -l tld -d 'Another dev TLD (or domain) the CA may issue for; repeatable' -r
complete -c certgen -n "__fish_certgen_using_subcommand init" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c certgen -n "__fish_certgen_using_subcommand init" -l allow-public-tld -d 'Let the CA sign for a public TLD or domain (e.g. com): whoever gets its key can then impersonate every site under it to this machine'
complete -c certgen -n "__fish_certgen_using_subcommand init" -l force -d 'Replace an existing CA'
complete -c certgen -n "__fish_certgen_using_subcommand init" -s y -l yes -d 'Confirm replacing the CA when not on a terminal'
complete -c certgen -n "__fish_certgen_using_subcommand init" -l json -d 'Print JSON instead of text'
complete -c certgen -n "__fish_certgen_using_subcommand init" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c certgen -n "__fish_certgen_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c certgen -n "__fish_certgen_using_subcommand issue" -l within -d 'Reissue a certificate expiring within this time (e.g. 30d, 12h; a bare number is seconds)' -r
complete -c certgen -n "__fish_certgen_using_subcommand issue" -l days -d 'Days a new certificate is valid (1 to 397): a number of days, not a duration' -r
complete -c certgen -n "__fish_certgen_using_subcommand issue" -l key -d 'Key type of the certificates' -r -f -a "ecdsa\t'ECDSA on P-256 (fast, small; what browsers prefer)'
rsa\t'RSA 3072 for the CA, 2048 for certificates (for old clients)'"
complete -c certgen -n "__fish_certgen_using_subcommand issue" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c certgen -n "__fish_certgen_using_subcommand issue" -l allow-empty -d 'Accept an input (or a registry) that holds no project: by default that is an error (exit 2), so that a script whose stdin carries nothing never acts on nothing'
complete -c certgen -n "__fish_certgen_using_subcommand issue" -l force -d 'Reissue even when the certificate is current'
complete -c certgen -n "__fish_certgen_using_subcommand issue" -l no-wildcard -d 'Do not add *.DOMAIN'
complete -c certgen -n "__fish_certgen_using_subcommand issue" -l dry-run -d 'Show what would be issued; write nothing'
complete -c certgen -n "__fish_certgen_using_subcommand issue" -l json -d 'Print JSON (same as --format json)'
complete -c certgen -n "__fish_certgen_using_subcommand issue" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c certgen -n "__fish_certgen_using_subcommand issue" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c certgen -n "__fish_certgen_using_subcommand renew" -l within -d 'Renew what expires within this time (e.g. 30d; a bare number is seconds)' -r
complete -c certgen -n "__fish_certgen_using_subcommand renew" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c certgen -n "__fish_certgen_using_subcommand renew" -l force -d 'Reissue every certificate'
complete -c certgen -n "__fish_certgen_using_subcommand renew" -l dry-run -d 'Show what would be renewed; write nothing'
complete -c certgen -n "__fish_certgen_using_subcommand renew" -l json -d 'Print JSON (same as --format json)'
complete -c certgen -n "__fish_certgen_using_subcommand renew" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c certgen -n "__fish_certgen_using_subcommand renew" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c certgen -n "__fish_certgen_using_subcommand status" -l within -d 'Exit 1 when the CA or a certificate expires within this time (e.g. 30d; a bare number is seconds)' -r
complete -c certgen -n "__fish_certgen_using_subcommand status" -l root -d 'Root of the system store, instead of / (for tests and packaging); needs no root privileges' -r -F
complete -c certgen -n "__fish_certgen_using_subcommand status" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c certgen -n "__fish_certgen_using_subcommand status" -l no-system -d 'Leave the system store alone'
complete -c certgen -n "__fish_certgen_using_subcommand status" -l no-nss -d 'Leave the NSS databases (Firefox, Chromium) alone'
complete -c certgen -n "__fish_certgen_using_subcommand status" -l json -d 'Print JSON instead of text'
complete -c certgen -n "__fish_certgen_using_subcommand status" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c certgen -n "__fish_certgen_using_subcommand status" -s h -l help -d 'Print help'
complete -c certgen -n "__fish_certgen_using_subcommand trust" -l root -d 'Root of the system store, instead of / (for tests and packaging); needs no root privileges' -r -F
complete -c certgen -n "__fish_certgen_using_subcommand trust" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c certgen -n "__fish_certgen_using_subcommand trust" -l no-system -d 'Leave the system store alone'
complete -c certgen -n "__fish_certgen_using_subcommand trust" -l no-nss -d 'Leave the NSS databases (Firefox, Chromium) alone'
complete -c certgen -n "__fish_certgen_using_subcommand trust" -l dry-run -d 'Show what would change; change nothing'
complete -c certgen -n "__fish_certgen_using_subcommand trust" -l json -d 'Print JSON (same as --format json)'
complete -c certgen -n "__fish_certgen_using_subcommand trust" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c certgen -n "__fish_certgen_using_subcommand trust" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c certgen -n "__fish_certgen_using_subcommand untrust" -l root -d 'Root of the system store, instead of / (for tests and packaging); needs no root privileges' -r -F
complete -c certgen -n "__fish_certgen_using_subcommand untrust" -l format -d 'Output format: table, json (an array), ndjson (one object a line) or csv (a header of the JSON field names, then one row a record)' -r -f -a "table\t'A readable table (the default)'
json\t'One JSON document: an array for lists, an object for one thing'
ndjson\t'One JSON object per line'
csv\t'Comma-separated values with a header row'"
complete -c certgen -n "__fish_certgen_using_subcommand untrust" -l no-system -d 'Leave the system store alone'
complete -c certgen -n "__fish_certgen_using_subcommand untrust" -l no-nss -d 'Leave the NSS databases (Firefox, Chromium) alone'
complete -c certgen -n "__fish_certgen_using_subcommand untrust" -l dry-run -d 'Show what would change; change nothing'
complete -c certgen -n "__fish_certgen_using_subcommand untrust" -l json -d 'Print JSON (same as --format json)'
complete -c certgen -n "__fish_certgen_using_subcommand untrust" -s y -l yes -d 'Do not ask (needed when not on a terminal)'
complete -c certgen -n "__fish_certgen_using_subcommand untrust" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c certgen -n "__fish_certgen_using_subcommand untrust" -s h -l help -d 'Print help (see more with \'--help\')'
