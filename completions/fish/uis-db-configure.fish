complete -c uis-db-configure -l database -d 'Database name (default: APP with \'-\' as \'_\', then `_db`)' -r
complete -c uis-db-configure -l owner -d 'Owner role name (default: APP with \'-\' as \'_\')' -r
complete -c uis-db-configure -l schemas -d 'Schemas to create, owned by the owner' -r
complete -c uis-db-configure -l extensions -d 'Extensions to create (by the superuser)' -r
complete -c uis-db-configure -l with-roles -d 'Roles to create too: postgrest, readonly (or read-only), or FILE.sql, a role spec run as the admin' -r
complete -c uis-db-configure -l authenticator -d 'The login role PostgREST connects as (default: the app\'s, else APP_authenticator)' -r
complete -c uis-db-configure -l anon-role -d 'The role for requests without a token (default: the app\'s, else APP_web_anon)' -r
complete -c uis-db-configure -l authenticated-role -d 'The role for requests with a token (default: the app\'s, else APP_authenticated)' -r
complete -c uis-db-configure -l namespace -d 'Also write Secret PREFIX-db with DATABASE_URL in this namespace, created when missing (UIS compatibility)' -r
complete -c uis-db-configure -l secret-name-prefix -d 'Prefix of that Secret\'s name' -r
complete -c uis-db-configure -l init-file -d 'SQL applied as the owner after creation, on every run (`-`: stdin); on a failure a database and roles this run created are removed' -r
complete -c uis-db-configure -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis-db-configure -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis-db-configure -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis-db-configure -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis-db-configure -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis-db-configure -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis-db-configure -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis-db-configure -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis-db-configure -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis-db-configure -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis-db-configure -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis-db-configure -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis-db-configure -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis-db-configure -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis-db-configure -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis-db-configure -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis-db-configure -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis-db-configure -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis-db-configure -l owner-createrole -d 'Give the owner CREATEROLE, so role DDL (db/01-roles.sql) runs as the owner; PostgreSQL 16+ only'
complete -c uis-db-configure -l no-owner-createrole -d 'Remove the owner\'s CREATEROLE (given by --owner-createrole)'
complete -c uis-db-configure -l rotate -d 'Issue a new owner password and update every Secret that holds it'
complete -c uis-db-configure -l purge -d 'Drop the database, the roles the suite created and the stored credentials'
complete -c uis-db-configure -l yes -d 'Confirm --purge'
complete -c uis-db-configure -l dry-run -d 'Print the SQL that would run; change nothing'
complete -c uis-db-configure -l json -d 'Print JSON even on a terminal'
complete -c uis-db-configure -s h -l help -d 'Print help (see more with \'--help\')'
complete -c uis-db-configure -s V -l version -d 'Print version'
