# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_proxyconf_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_proxyconf_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_proxyconf_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_proxyconf_using_subcommand
    set -l cmd (__fish_proxyconf_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c proxyconf -n "__fish_proxyconf_needs_command" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c proxyconf -n "__fish_proxyconf_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c proxyconf -n "__fish_proxyconf_needs_command" -s V -l version -d 'Print version'
complete -c proxyconf -n "__fish_proxyconf_needs_command" -f -a "caddy" -d 'Print a Caddyfile for the projects'
complete -c proxyconf -n "__fish_proxyconf_needs_command" -f -a "traefik" -d 'Print a Traefik dynamic configuration (file provider, YAML) for the projects'
complete -c proxyconf -n "__fish_proxyconf_needs_command" -f -a "reload" -d 'Validate a Caddy configuration with Caddy itself, then reload the running Caddy with it'
complete -c proxyconf -n "__fish_proxyconf_using_subcommand caddy" -l tld -d 'The dev TLD (default: `tld` from config.yaml, else `test`)' -r
complete -c proxyconf -n "__fish_proxyconf_using_subcommand caddy" -l https-port -d 'The port HTTPS is served on' -r
complete -c proxyconf -n "__fish_proxyconf_using_subcommand caddy" -l http-port -d 'The port plain HTTP is served (and redirected) on' -r
complete -c proxyconf -n "__fish_proxyconf_using_subcommand caddy" -l certs-dir -d 'Take certificates from DIR/DOMAIN/{fullchain.pem,key.pem} instead of certgen\'s folder (e.g. a copy the proxy\'s user can read)' -r -F
complete -c proxyconf -n "__fish_proxyconf_using_subcommand caddy" -s o -l output -d 'Write to FILE (atomically; stderr says when it replaced one) instead of stdout' -r -F
complete -c proxyconf -n "__fish_proxyconf_using_subcommand caddy" -l admin -d 'The admin API address Caddy listens on (the `admin` global option; Caddy\'s default is localhost:2019)' -r
complete -c proxyconf -n "__fish_proxyconf_using_subcommand caddy" -l allow-empty -d 'Accept an input (or a registry) that holds no project: by default that is an error (exit 2), so that a script whose stdin carries nothing never acts on nothing'
complete -c proxyconf -n "__fish_proxyconf_using_subcommand caddy" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c proxyconf -n "__fish_proxyconf_using_subcommand caddy" -s h -l help -d 'Print help'
complete -c proxyconf -n "__fish_proxyconf_using_subcommand traefik" -l tld -d 'The dev TLD (default: `tld` from config.yaml, else `test`)' -r
complete -c proxyconf -n "__fish_proxyconf_using_subcommand traefik" -l https-port -d 'The port HTTPS is served on' -r
complete -c proxyconf -n "__fish_proxyconf_using_subcommand traefik" -l http-port -d 'The port plain HTTP is served (and redirected) on' -r
complete -c proxyconf -n "__fish_proxyconf_using_subcommand traefik" -l certs-dir -d 'Take certificates from DIR/DOMAIN/{fullchain.pem,key.pem} instead of certgen\'s folder (e.g. a copy the proxy\'s user can read)' -r -F
complete -c proxyconf -n "__fish_proxyconf_using_subcommand traefik" -s o -l output -d 'Write to FILE (atomically; stderr says when it replaced one) instead of stdout' -r -F
complete -c proxyconf -n "__fish_proxyconf_using_subcommand traefik" -l web-entrypoint -d 'The plain-HTTP entry point\'s name in Traefik\'s static configuration' -r
complete -c proxyconf -n "__fish_proxyconf_using_subcommand traefik" -l websecure-entrypoint -d 'The HTTPS entry point\'s name in Traefik\'s static configuration' -r
complete -c proxyconf -n "__fish_proxyconf_using_subcommand traefik" -l allow-empty -d 'Accept an input (or a registry) that holds no project: by default that is an error (exit 2), so that a script whose stdin carries nothing never acts on nothing'
complete -c proxyconf -n "__fish_proxyconf_using_subcommand traefik" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c proxyconf -n "__fish_proxyconf_using_subcommand traefik" -s h -l help -d 'Print help'
complete -c proxyconf -n "__fish_proxyconf_using_subcommand reload" -l config -d 'The configuration file' -r -F
complete -c proxyconf -n "__fish_proxyconf_using_subcommand reload" -l adapter -d 'Its format, as a Caddy config adapter (`json` for Caddy\'s own JSON)' -r
complete -c proxyconf -n "__fish_proxyconf_using_subcommand reload" -l admin -d 'The running Caddy\'s admin API (default: the `admin` option of the file, else localhost:2019)' -r
complete -c proxyconf -n "__fish_proxyconf_using_subcommand reload" -l caddy -d 'The caddy program' -r -F
complete -c proxyconf -n "__fish_proxyconf_using_subcommand reload" -l dry-run -d 'Validate only; do not reload'
complete -c proxyconf -n "__fish_proxyconf_using_subcommand reload" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c proxyconf -n "__fish_proxyconf_using_subcommand reload" -s h -l help -d 'Print help (see more with \'--help\')'
