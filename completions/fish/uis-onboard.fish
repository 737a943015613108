complete -c uis-onboard -s f -l file -d 'The declaration to converge' -r -F
complete -c uis-onboard -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis-onboard -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis-onboard -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis-onboard -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis-onboard -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis-onboard -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis-onboard -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis-onboard -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis-onboard -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis-onboard -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis-onboard -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis-onboard -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis-onboard -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis-onboard -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis-onboard -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis-onboard -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis-onboard -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis-onboard -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis-onboard -l init -d 'Write a commented uis.yaml (-f FILE: that file) from the db/ files beside it and the defaults (never overwrites)'
complete -c uis-onboard -l dry-run -d 'Print the plan: what each step would change; change nothing'
complete -c uis-onboard -l down -d 'Remove the app\'s PostgREST (Deployment, Service, IngressRoute); keep the database, roles, Secret'
complete -c uis-onboard -l purge -d 'Also drop PostgREST\'s roles and Secret, the database, the roles the suite created and the stored credentials'
complete -c uis-onboard -l yes -d 'Confirm --purge'
complete -c uis-onboard -l json -d 'Print JSON even on a terminal'
complete -c uis-onboard -s h -l help -d 'Print help (see more with \'--help\')'
complete -c uis-onboard -s V -l version -d 'Print version'
