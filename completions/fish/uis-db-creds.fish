complete -c uis-db-creds -l role -d 'The role: owner (default), authenticator, readonly, or a role name in the app\'s store' -r
complete -c uis-db-creds -l format -d 'Output format (default: json)' -r -f -a "json\t''
env\t''
url\t''
libpq\t''
pgpass\t''
jdbc\t''"
complete -c uis-db-creds -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis-db-creds -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis-db-creds -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis-db-creds -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis-db-creds -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis-db-creds -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis-db-creds -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis-db-creds -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis-db-creds -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis-db-creds -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis-db-creds -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis-db-creds -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis-db-creds -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis-db-creds -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis-db-creds -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis-db-creds -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis-db-creds -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis-db-creds -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis-db-creds -l admin -d 'The PostgreSQL superuser instead of an app role'
complete -c uis-db-creds -l cluster -d 'Use the in-cluster address (SERVICE.NAMESPACE.svc.cluster.local:5432) in url, env, libpq, pgpass and jdbc output'
complete -c uis-db-creds -l list -d 'List the configured apps instead'
complete -c uis-db-creds -l json -d 'Print JSON even on a terminal'
complete -c uis-db-creds -s h -l help -d 'Print help (see more with \'--help\')'
complete -c uis-db-creds -s V -l version -d 'Print version'
