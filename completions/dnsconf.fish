# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dnsconf_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_dnsconf_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dnsconf_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dnsconf_using_subcommand
    set -l cmd (__fish_dnsconf_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dnsconf -n "__fish_dnsconf_needs_command" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dnsconf -n "__fish_dnsconf_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dnsconf -n "__fish_dnsconf_needs_command" -s V -l version -d 'Print version'
complete -c dnsconf -n "__fish_dnsconf_needs_command" -f -a "print" -d 'Print a configuration on stdout (write nothing; `install` writes it)'
complete -c dnsconf -n "__fish_dnsconf_needs_command" -f -a "install" -d 'Write a configuration where the system reads it and reload the service'
complete -c dnsconf -n "__fish_dnsconf_needs_command" -f -a "uninstall" -d 'Remove an installed configuration (the hosts block only, never the rest of the file)'
complete -c dnsconf -n "__fish_dnsconf_needs_command" -f -a "test" -d 'Resolve NAME; exit 0 when every address is loopback, 1 when not or when it does not resolve'
complete -c dnsconf -n "__fish_dnsconf_needs_command" -f -a "status" -d 'Show which configurations are installed and whether test-probe.TLD resolves to loopback'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand print" -l tld -d 'The dev TLD (default: `tld` from config.yaml, else `test`)' -r
complete -c dnsconf -n "__fish_dnsconf_using_subcommand print" -l address -d 'Address the names resolve to (repeatable). For resolved, the local resolver\'s address. Default: 127.0.0.1 and `::1` for dnsmasq, 127.0.0.1 for hosts and resolved' -r
complete -c dnsconf -n "__fish_dnsconf_using_subcommand print" -l dns-port -d 'For resolved: the port the local resolver listens on' -r
complete -c dnsconf -n "__fish_dnsconf_using_subcommand print" -l listen -d 'For dnsmasq: listen only on this address (adds `listen-address` and `bind-interfaces`), so dnsmasq and systemd-resolved\'s stub (127.0.0.53) can both use port 53' -r
complete -c dnsconf -n "__fish_dnsconf_using_subcommand print" -l allow-empty -d 'Accept an input (or a registry) that holds no project: by default that is an error (exit 2), so that a script whose stdin carries nothing never acts on nothing'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand print" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand print" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand install" -l tld -d 'The dev TLD (default: `tld` from config.yaml, else `test`)' -r
complete -c dnsconf -n "__fish_dnsconf_using_subcommand install" -l address -d 'Address the names resolve to (repeatable). For resolved, the local resolver\'s address. Default: 127.0.0.1 and `::1` for dnsmasq, 127.0.0.1 for hosts and resolved' -r
complete -c dnsconf -n "__fish_dnsconf_using_subcommand install" -l dns-port -d 'For resolved: the port the local resolver listens on' -r
complete -c dnsconf -n "__fish_dnsconf_using_subcommand install" -l listen -d 'For dnsmasq: listen only on this address (adds `listen-address` and `bind-interfaces`), so dnsmasq and systemd-resolved\'s stub (127.0.0.53) can both use port 53' -r
complete -c dnsconf -n "__fish_dnsconf_using_subcommand install" -l root -d 'Write under this folder instead of / (for tests and packaging; no reload)' -r -F
complete -c dnsconf -n "__fish_dnsconf_using_subcommand install" -l allow-empty -d 'Accept an input (or a registry) that holds no project: by default that is an error (exit 2), so that a script whose stdin carries nothing never acts on nothing'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand install" -l dry-run -d 'Show the file that would be written (on stdout) and change nothing'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand install" -l no-reload -d 'Do not restart dnsmasq or systemd-resolved'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand install" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand uninstall" -l root -d 'Write under this folder instead of / (for tests and packaging; no reload)' -r -F
complete -c dnsconf -n "__fish_dnsconf_using_subcommand uninstall" -l dry-run -d 'Show the file that would be written (on stdout) and change nothing'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand uninstall" -l no-reload -d 'Do not restart dnsmasq or systemd-resolved'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand uninstall" -s y -l yes -d 'Do not ask before removing (needed when not on a terminal)'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand uninstall" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand uninstall" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand test" -l server -d 'Ask this DNS server (ADDR:PORT) instead of the system resolver' -r
complete -c dnsconf -n "__fish_dnsconf_using_subcommand test" -l timeout -d 'How long to wait for the server (e.g. 2s, 500ms; a bare number is seconds)' -r
complete -c dnsconf -n "__fish_dnsconf_using_subcommand test" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c dnsconf -n "__fish_dnsconf_using_subcommand test" -l json -d 'Print JSON instead of text'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand test" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand status" -l root -d 'Look for the files under this folder instead of /' -r -F
complete -c dnsconf -n "__fish_dnsconf_using_subcommand status" -l tld -d 'The dev TLD (default: `tld` from config.yaml, else `test`)' -r
complete -c dnsconf -n "__fish_dnsconf_using_subcommand status" -l server -d 'Probe through this DNS server (ADDR:PORT) instead of the system resolver' -r
complete -c dnsconf -n "__fish_dnsconf_using_subcommand status" -l format -d 'Deprecated: `--format json` is `--json`' -r -f -a "json\t''"
complete -c dnsconf -n "__fish_dnsconf_using_subcommand status" -l json -d 'Print JSON instead of text'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand status" -s q -l quiet -d 'Print no informational lines on stderr (errors and warnings still)'
complete -c dnsconf -n "__fish_dnsconf_using_subcommand status" -s h -l help -d 'Print help'
