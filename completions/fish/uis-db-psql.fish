complete -c uis-db-psql -l as -d 'Who to connect as: owner, admin (the superuser), or a role stored for the app' -r
complete -c uis-db-psql -s d -l database -d 'Database (default: the app\'s; `postgres` for --as admin without APP)' -r
complete -c uis-db-psql -s f -l file -d 'Run this file (repeatable; `-` is stdin); runs with the -c commands in the order given' -r
complete -c uis-db-psql -s c -l command -d 'Run this SQL (repeatable)' -r
complete -c uis-db-psql -s v -l set -d 'Set a psql variable (`-v schema=app`, used as :schema, :\'schema\', :"schema")' -r
complete -c uis-db-psql -l format -d 'How results are printed' -r -f -a "table\t'psql\'s aligned table'
json\t'One JSON object per row per line (NDJSON)'
csv\t'CSV with a header line'"
complete -c uis-db-psql -l jwt -d 'Run as PostgREST would for this token (`-` reads it from the first line of stdin)' -r
complete -c uis-db-psql -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis-db-psql -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis-db-psql -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis-db-psql -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis-db-psql -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis-db-psql -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis-db-psql -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis-db-psql -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis-db-psql -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis-db-psql -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis-db-psql -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis-db-psql -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis-db-psql -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis-db-psql -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis-db-psql -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis-db-psql -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis-db-psql -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis-db-psql -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis-db-psql -s 1 -l single-transaction -d 'Run everything in one transaction (BEGIN first, COMMIT last, ROLLBACK on error)'
complete -c uis-db-psql -l continue-on-error -d 'Report errors and go on (psql\'s default without ON_ERROR_STOP)'
complete -c uis-db-psql -s e -l echo -d 'Print each statement to stderr before running it'
complete -c uis-db-psql -l verbose -d 'Print a command tag per statement to stderr'
complete -c uis-db-psql -l commit -d 'With --jwt: commit instead of rolling back at the end'
complete -c uis-db-psql -s h -l help -d 'Print help (see more with \'--help\')'
complete -c uis-db-psql -s V -l version -d 'Print version'
