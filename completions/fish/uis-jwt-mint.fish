complete -c uis-jwt-mint -l role -d 'The role claim: anon, authenticated, or a role name' -r
complete -c uis-jwt-mint -l capabilities -d 'Only these capabilities (checked against the capabilities table)' -r
complete -c uis-jwt-mint -l capabilities-from -d 'Where capabilities live: SCHEMA.TABLE or SCHEMA.TABLE.COLUMN' -r
complete -c uis-jwt-mint -l claim -d 'An extra claim, its value as JSON (`--claim \'tenant="acme"\'`, `--claim level=3`)' -r
complete -c uis-jwt-mint -l exp -d 'Lifetime: 15m, 12h, 30d, 10y or never (default: 10y for anon, 1d for other roles, 30d for the staff token of --write-env)' -r
complete -c uis-jwt-mint -l aud -d 'The aud claim (default: the deployment\'s PGRST_JWT_AUD, when set)' -r
complete -c uis-jwt-mint -l sub -d 'The sub claim' -r
complete -c uis-jwt-mint -l format -d 'Output: the token alone, JSON with token and claims, or NAME=token' -r -f -a "token\t''
json\t''
env\t''"
complete -c uis-jwt-mint -l env-name -d 'Variable name for --format env (default: POSTGREST_ANON_JWT, POSTGREST_STAFF_JWT, POSTGREST_<ROLE>_JWT); not with --write-env, whose names are fixed' -r
complete -c uis-jwt-mint -l secret-file -d 'Sign with the secret in this file instead of the cluster\'s (offline; no role checks)' -r -F
complete -c uis-jwt-mint -l key-file -d 'Sign with this private key (PEM or JWK): needed when the secret is a JWK or JWK set of public keys' -r -F
complete -c uis-jwt-mint -l write-env -d 'Set POSTGREST_URL, JWT_SECRET, POSTGREST_ANON_JWT and POSTGREST_STAFF_JWT in this .env file, keeping every other line' -r -F
complete -c uis-jwt-mint -l verify -d 'Verify a token (argument, or - / nothing for stdin) as PostgREST would; print its claims' -r
complete -c uis-jwt-mint -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c uis-jwt-mint -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c uis-jwt-mint -l request-timeout -d 'Seconds to wait for any one Kubernetes API call' -r
complete -c uis-jwt-mint -l pg-namespace -d 'Namespace of the PostgreSQL pod, service, admin Secrets and the credential store' -r
complete -c uis-jwt-mint -l pg-selector -d 'Label selector of the PostgreSQL pod' -r
complete -c uis-jwt-mint -l pg-service -d 'Name of the PostgreSQL Service (for in-cluster URLs)' -r
complete -c uis-jwt-mint -l pg-port -d 'PostgreSQL port in the pod and on the Service' -r
complete -c uis-jwt-mint -l pg-superuser -d 'Name of the PostgreSQL superuser' -r
complete -c uis-jwt-mint -l admin-secrets -d 'Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]' -r
complete -c uis-jwt-mint -l local-address -d 'The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs' -r
complete -c uis-jwt-mint -l direct -d 'Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)' -r
complete -c uis-jwt-mint -l provider -d 'Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)' -r -f -a "auto\t''
bitnami\t''
uis-proxied\t''
cnpg\t''
zalando\t''
pgo\t''
stackgres\t''
external\t''"
complete -c uis-jwt-mint -l sslmode -d 'TLS to PostgreSQL as libpq\'s sslmode: disable, allow, prefer (default), require, verify-ca, verify-full' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c uis-jwt-mint -l sslrootcert -d 'PEM file of the CA certificate(s) that signed the server\'s, or `system` for the system\'s trusted roots (default: ~/.postgresql/root.crt if it exists)' -r
complete -c uis-jwt-mint -l sslrootcert-secret -d 'Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)' -r
complete -c uis-jwt-mint -l sslcert -d 'PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)' -r -F
complete -c uis-jwt-mint -l sslkey -d 'PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)' -r -F
complete -c uis-jwt-mint -l tls-server-name -d 'The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)' -r
complete -c uis-jwt-mint -l no-capabilities -d 'No capabilities claim, even for the authenticated role'
complete -c uis-jwt-mint -l secret-is-base64 -d 'The --secret-file holds base64, as PGRST_JWT_SECRET_IS_BASE64=true (the decoded bytes are the key)'
complete -c uis-jwt-mint -s h -l help -d 'Print help (see more with \'--help\')'
complete -c uis-jwt-mint -s V -l version -d 'Print version'
