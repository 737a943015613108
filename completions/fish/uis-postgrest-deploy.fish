complete -c uis-postgrest-deploy -l database -d 'The database (default: the app\'s, from the credential store)' -r
complete -c uis-postgrest-deploy -l schemas -d 'Schemas PostgREST exposes (default: the recorded ones, else the app\'s schemas, else public)' -r
complete -c uis-postgrest-deploy -l authenticator -d 'The login role PostgREST connects as (default: the app\'s, else APP_authenticator)' -r
complete -c uis-postgrest-deploy -l anon-role -d 'The role for requests without a token (default: the app\'s, else APP_web_anon)' -r
complete -c uis-postgrest-deploy -l authenticated-role -d 'The role for requests with a token (default: the app\'s, else APP_authenticated)' -r
complete -c uis-postgrest-deploy -l grants -d 'Grants for the anon role: USAGE and SELECT on the schemas (UIS parity), or none (your DDL grants) [default: the recorded choice, else anon-select]' -r -f -a "anon-select\t'USAGE on the schemas, SELECT on their tables, default privileges for new tables'
none\t'Nothing: the customer\'s DDL grants what it wants'"
complete -c uis-postgrest-deploy -l url-prefix -d 'Host prefix of the public URL http://PREFIX.localhost (default: the recorded one, else api-APP)' -r
complete -c uis-postgrest-deploy -l image -d 'PostgREST image (default: the recorded one, else the suite\'s)' -r
complete -c uis-postgrest-deploy -l replicas -d 'Number of PostgREST pods (default: the recorded number, else 2)' -r
complete -c uis-postgrest-deploy -l jwt-aud -d 'The audience tokens must carry (PGRST_JWT_AUD): a string, or an RFC 3986 URI when it has \':\' (default: the recorded one)' -r
complete -c uis-postgrest-deploy -l cors-origins -d 'Only these browser origins may call the API (PGRST_SERVER_CORS_ALLOWED_ORIGINS, e.g. https://app.example.com); default: any origin' -r
complete -c uis-postgrest-deploy -l timeout -d 'Seconds to wait for Available' -r
complete -c uis-postgrest-deploy -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis-postgrest-deploy -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis-postgrest-deploy -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis-postgrest-deploy -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis-postgrest-deploy -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis-postgrest-deploy -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis-postgrest-deploy -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis-postgrest-deploy -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis-postgrest-deploy -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis-postgrest-deploy -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis-postgrest-deploy -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis-postgrest-deploy -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis-postgrest-deploy -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis-postgrest-deploy -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis-postgrest-deploy -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis-postgrest-deploy -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis-postgrest-deploy -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis-postgrest-deploy -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis-postgrest-deploy -l dry-run -d 'Print the SQL and manifests; change nothing'
complete -c uis-postgrest-deploy -l no-wait -d 'Do not wait for the Deployment to become Available'
complete -c uis-postgrest-deploy -l rotate-jwt-secret -d 'Issue a new JWT secret (every token minted before stops working)'
complete -c uis-postgrest-deploy -l rotate-password -d 'Issue a new authenticator password'
complete -c uis-postgrest-deploy -l status -d 'Only wait for the existing Deployment and report its state; change nothing'
complete -c uis-postgrest-deploy -l undeploy -d 'Remove Deployment, Service and IngressRoute (keep the Secret and the roles)'
complete -c uis-postgrest-deploy -l secret-only -d 'Roles, JWT secret and Secret only: no Deployment, Service or IngressRoute (`./uis configure postgrest`)'
complete -c uis-postgrest-deploy -l purge -d 'Also drop the roles this tool created and delete the Secret'
complete -c uis-postgrest-deploy -l yes -d 'Confirm --purge'
complete -c uis-postgrest-deploy -l json -d 'Print JSON even on a terminal'
complete -c uis-postgrest-deploy -s h -l help -d 'Print help (see more with \'--help\')'
complete -c uis-postgrest-deploy -s V -l version -d 'Print version'
