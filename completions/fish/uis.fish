# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_uis_global_optspecs
    string join \n h/help V/version
end

function __fish_uis_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_uis_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_uis_using_subcommand
    set -l cmd (__fish_uis_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c uis -n "__fish_uis_needs_command" -s h -l help -d 'List the commands found, with their descriptions'
complete -c uis -n "__fish_uis_needs_command" -s V -l version -d 'Print version'
complete -c uis -n "__fish_uis_needs_command" -f -a "help" -d 'List the commands found, or run a command\'s --help (`uis help db creds`)'
complete -c uis -n "__fish_uis_needs_command" -f -a "db" -d 'The uis-db-* commands'
complete -c uis -n "__fish_uis_needs_command" -f -a "jwt" -d 'The uis-jwt-* commands'
complete -c uis -n "__fish_uis_needs_command" -f -a "onboard" -d 'Converge an app declared in uis.yaml: database, roles, DDL, seeds, PostgREST, tokens, .env'
complete -c uis -n "__fish_uis_needs_command" -f -a "postgrest" -d 'The uis-postgrest-* commands'
complete -c uis -n "__fish_uis_using_subcommand db; and not __fish_seen_subcommand_from configure creds doctor psql seed tunnel" -f -a "configure" -d 'Create an app\'s database, owner role, schemas and extensions, with stored credentials'
complete -c uis -n "__fish_uis_using_subcommand db; and not __fish_seen_subcommand_from configure creds doctor psql seed tunnel" -f -a "creds" -d 'Print the credentials of an app\'s role, or of the PostgreSQL superuser'
complete -c uis -n "__fish_uis_using_subcommand db; and not __fish_seen_subcommand_from configure creds doctor psql seed tunnel" -f -a "doctor" -d 'Check an app\'s database and PostgREST wiring; say how to fix what is wrong'
complete -c uis -n "__fish_uis_using_subcommand db; and not __fish_seen_subcommand_from configure creds doctor psql seed tunnel" -f -a "psql" -d 'Run SQL files, commands or stdin on an app\'s database, psql-compatible'
complete -c uis -n "__fish_uis_using_subcommand db; and not __fish_seen_subcommand_from configure creds doctor psql seed tunnel" -f -a "seed" -d 'Apply DIR/*.sql in name order, each exactly once, with a ledger'
complete -c uis -n "__fish_uis_using_subcommand db; and not __fish_seen_subcommand_from configure creds doctor psql seed tunnel" -f -a "tunnel" -d 'Open a local port to the shared PostgreSQL and keep it open until interrupted'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l database -d 'Database name (default: APP with \'-\' as \'_\', then `_db`)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l owner -d 'Owner role name (default: APP with \'-\' as \'_\')' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l schemas -d 'Schemas to create, owned by the owner' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l extensions -d 'Extensions to create (by the superuser)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l with-roles -d 'Roles to create too: postgrest, readonly (or read-only), or FILE.sql, a role spec run as the admin' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l authenticator -d 'The login role PostgREST connects as (default: the app\'s, else APP_authenticator)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l anon-role -d 'The role for requests without a token (default: the app\'s, else APP_web_anon)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l authenticated-role -d 'The role for requests with a token (default: the app\'s, else APP_authenticated)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l namespace -d 'Also write Secret PREFIX-db with DATABASE_URL in this namespace, created when missing (UIS compatibility)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l secret-name-prefix -d 'Prefix of that Secret\'s name' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l init-file -d 'SQL applied as the owner after creation, on every run (`-`: stdin); on a failure a database and roles this run created are removed' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l owner-createrole -d 'Give the owner CREATEROLE, so role DDL (db/01-roles.sql) runs as the owner; PostgreSQL 16+ only'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l no-owner-createrole -d 'Remove the owner\'s CREATEROLE (given by --owner-createrole)'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l rotate -d 'Issue a new owner password and update every Secret that holds it'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l purge -d 'Drop the database, the roles the suite created and the stored credentials'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l yes -d 'Confirm --purge'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l dry-run -d 'Print the SQL that would run; change nothing'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -l json -d 'Print JSON even on a terminal'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -s h -l help -d 'Print help'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from configure" -s V -l version -d 'Print version'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l role -d 'The role: owner (default), authenticator, readonly, or a role name in the app\'s store' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l format -d 'Output format (default: json)' -r -f -a "json\t''
env\t''
url\t''
libpq\t''
pgpass\t''
jdbc\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l admin -d 'The PostgreSQL superuser instead of an app role'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l cluster -d 'Use the in-cluster address (SERVICE.NAMESPACE.svc.cluster.local:5432) in url, env, libpq, pgpass and jdbc output'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l list -d 'List the configured apps instead'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -l json -d 'Print JSON even on a terminal'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -s h -l help -d 'Print help'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from creds" -s V -l version -d 'Print version'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l json -d 'Print JSON even on a terminal'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -l server -d 'Check the server only, no app: the cluster, the superuser\'s Secret and login (`uis postgresql verify`)'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -s h -l help -d 'Print help'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from doctor" -s V -l version -d 'Print version'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l as -d 'Who to connect as: owner, admin (the superuser), or a role stored for the app' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -s d -l database -d 'Database (default: the app\'s; `postgres` for --as admin without APP)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -s f -l file -d 'Run this file (repeatable; `-` is stdin); runs with the -c commands in the order given' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -s c -l command -d 'Run this SQL (repeatable)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -s v -l set -d 'Set a psql variable (`-v schema=app`, used as :schema, :\'schema\', :"schema")' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l format -d 'How results are printed' -r -f -a "table\t'psql\'s aligned table'
json\t'One JSON object per row per line (NDJSON)'
csv\t'CSV with a header line'"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l jwt -d 'Run as PostgREST would for this token (`-` reads it from the first line of stdin)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -s 1 -l single-transaction -d 'Run everything in one transaction (BEGIN first, COMMIT last, ROLLBACK on error)'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l continue-on-error -d 'Report errors and go on (psql\'s default without ON_ERROR_STOP)'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -s e -l echo -d 'Print each statement to stderr before running it'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l verbose -d 'Print a command tag per statement to stderr'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -l commit -d 'With --jwt: commit instead of rolling back at the end'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -s h -l help -d 'Print help'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from psql" -s V -l version -d 'Print version'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l as -d 'Who runs the files: owner (default), admin (the superuser), or a stored role' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l reapply -d 'Apply this file again even if applied or changed (repeatable)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l dry-run -d 'Print what would be applied; change nothing'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l status -d 'Print what is applied, pending and changed; change nothing'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l no-wait -d 'Fail at once when another seed run of the app holds the lock'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -l json -d 'Print JSON even on a terminal'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -s h -l help -d 'Print help'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from seed" -s V -l version -d 'Print version'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l role -d 'The role whose URL is printed: owner (default), authenticator, readonly or a stored role name' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l port -d 'Local port to listen on, on 127.0.0.1 (default: any free port)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -l admin -d 'Print the superuser\'s URL'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -s h -l help -d 'Print help'
complete -c uis -n "__fish_uis_using_subcommand db; and __fish_seen_subcommand_from tunnel" -s V -l version -d 'Print version'
complete -c uis -n "__fish_uis_using_subcommand jwt; and not __fish_seen_subcommand_from mint" -f -a "mint" -d 'Mint a PostgREST JWT for an app\'s role, verify one, or write an app\'s .env'
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l role -d 'The role claim: anon, authenticated, or a role name' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l capabilities -d 'Only these capabilities (checked against the capabilities table)' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l capabilities-from -d 'Where capabilities live: SCHEMA.TABLE or SCHEMA.TABLE.COLUMN' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l claim -d 'An extra claim, its value as JSON (`--claim \'tenant="acme"\'`, `--claim level=3`)' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l exp -d 'Lifetime: 15m, 12h, 30d, 10y or never (default: 10y for anon, 1d for other roles, 30d for the staff token of --write-env)' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l aud -d 'The aud claim (default: the deployment\'s PGRST_JWT_AUD, when set)' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l sub -d 'The sub claim' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l format -d 'Output: the token alone, JSON with token and claims, or NAME=token' -r -f -a "token\t''
json\t''
env\t''"
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l env-name -d 'Variable name for --format env (default: POSTGREST_ANON_JWT, POSTGREST_STAFF_JWT, POSTGREST_<ROLE>_JWT); not with --write-env, whose names are fixed' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l secret-file -d 'Sign with the secret in this file instead of the cluster\'s (offline; no role checks)' -r -F
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l key-file -d 'Sign with this private key (PEM or JWK): needed when the secret is a JWK or JWK set of public keys' -r -F
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l write-env -d 'Set POSTGREST_URL, JWT_SECRET, POSTGREST_ANON_JWT and POSTGREST_STAFF_JWT in this .env file, keeping every other line' -r -F
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l verify -d 'Verify a token (argument, or - / nothing for stdin) as PostgREST would; print its claims' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l no-capabilities -d 'No capabilities claim, even for the authenticated role'
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -l secret-is-base64 -d 'The --secret-file holds base64, as PGRST_JWT_SECRET_IS_BASE64=true (the decoded bytes are the key)'
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -s h -l help -d 'Print help'
complete -c uis -n "__fish_uis_using_subcommand jwt; and __fish_seen_subcommand_from mint" -s V -l version -d 'Print version'
complete -c uis -n "__fish_uis_using_subcommand onboard" -s f -l file -d 'The declaration to converge' -r -F
complete -c uis -n "__fish_uis_using_subcommand onboard" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis -n "__fish_uis_using_subcommand onboard" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis -n "__fish_uis_using_subcommand onboard" -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis -n "__fish_uis_using_subcommand onboard" -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis -n "__fish_uis_using_subcommand onboard" -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis -n "__fish_uis_using_subcommand onboard" -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis -n "__fish_uis_using_subcommand onboard" -l init -d 'Write a commented uis.yaml (-f FILE: that file) from the db/ files beside it and the defaults (never overwrites)'
complete -c uis -n "__fish_uis_using_subcommand onboard" -l dry-run -d 'Print the plan: what each step would change; change nothing'
complete -c uis -n "__fish_uis_using_subcommand onboard" -l down -d 'Remove the app\'s PostgREST (Deployment, Service, IngressRoute); keep the database, roles, Secret'
complete -c uis -n "__fish_uis_using_subcommand onboard" -l purge -d 'Also drop PostgREST\'s roles and Secret, the database, the roles the suite created and the stored credentials'
complete -c uis -n "__fish_uis_using_subcommand onboard" -l yes -d 'Confirm --purge'
complete -c uis -n "__fish_uis_using_subcommand onboard" -l json -d 'Print JSON even on a terminal'
complete -c uis -n "__fish_uis_using_subcommand onboard" -s h -l help -d 'Print help'
complete -c uis -n "__fish_uis_using_subcommand onboard" -s V -l version -d 'Print version'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and not __fish_seen_subcommand_from deploy" -f -a "deploy" -d 'Deploy PostgREST for an app: roles, JWT secret, Secret, Deployment, Service, IngressRoute'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l database -d 'The database (default: the app\'s, from the credential store)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l schemas -d 'Schemas PostgREST exposes (default: the recorded ones, else the app\'s schemas, else public)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l authenticator -d 'The login role PostgREST connects as (default: the app\'s, else APP_authenticator)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l anon-role -d 'The role for requests without a token (default: the app\'s, else APP_web_anon)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l authenticated-role -d 'The role for requests with a token (default: the app\'s, else APP_authenticated)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l grants -d 'Grants for the anon role: USAGE and SELECT on the schemas (UIS parity), or none (your DDL grants) [default: the recorded choice, else anon-select]' -r -f -a "anon-select\t'USAGE on the schemas, SELECT on their tables, default privileges for new tables'
none\t'Nothing: the customer\'s DDL grants what it wants'"
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l url-prefix -d 'Host prefix of the public URL http://PREFIX.localhost (default: the recorded one, else api-APP)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l image -d 'PostgREST image (default: the recorded one, else the suite\'s)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l replicas -d 'Number of PostgREST pods (default: the recorded number, else 2)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l jwt-aud -d 'The audience tokens must carry (PGRST_JWT_AUD): a string, or an RFC 3986 URI when it has \':\' (default: the recorded one)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l cors-origins -d 'Only these browser origins may call the API (PGRST_SERVER_CORS_ALLOWED_ORIGINS, e.g. https://app.example.com); default: any origin' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l timeout -d 'Seconds to wait for Available' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l dry-run -d 'Print the SQL and manifests; change nothing'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l no-wait -d 'Do not wait for the Deployment to become Available'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l rotate-jwt-secret -d 'Issue a new JWT secret (every token minted before stops working)'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l rotate-password -d 'Issue a new authenticator password'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l status -d 'Only wait for the existing Deployment and report its state; change nothing'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l undeploy -d 'Remove Deployment, Service and IngressRoute (keep the Secret and the roles)'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l secret-only -d 'Roles, JWT secret and Secret only: no Deployment, Service or IngressRoute (`./uis configure postgrest`)'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l purge -d 'Also drop the roles this tool created and delete the Secret'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l yes -d 'Confirm --purge'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -l json -d 'Print JSON even on a terminal'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -s h -l help -d 'Print help'
complete -c uis -n "__fish_uis_using_subcommand postgrest; and __fish_seen_subcommand_from deploy" -s V -l version -d 'Print version'
