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
complete -c uis-onboard -l init -d 'Write a commented uis.yaml from this directory\'s db/ files and the defaults (never overwrites)'
complete -c uis-onboard -l dry-run -d 'Print the plan: what each step would change; change nothing'
complete -c uis-onboard -l down -d 'Remove the app\'s PostgREST (Deployment, Service, IngressRoute); keep the database, roles, Secret'
complete -c uis-onboard -l purge -d 'Also drop PostgREST\'s roles and Secret, the database, the roles the suite created and the stored credentials'
complete -c uis-onboard -l yes -d 'Confirm --purge'
complete -c uis-onboard -l json -d 'Print JSON even on a terminal'
complete -c uis-onboard -s h -l help -d 'Print help (see more with \'--help\')'
complete -c uis-onboard -s V -l version -d 'Print version'
