package main

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/pflag"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

const (
	serviceClusterIPRange = "10.0.0.0/24"
	// kubernetesServiceIP is the first address of serviceClusterIPRange,
	// which the apiserver gives to the `default/kubernetes` Service.
	kubernetesServiceIP  = "10.0.0.1"
	serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local"
)

// apiserverFlags are the kube-apiserver command-line flags this control
// plane runs with; they read like a kube-apiserver invocation on purpose.
func apiserverFlags(dir stateDir, etcdURL string, port int) []string {
	return []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=" + loopbackHost,
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + dir.path,
		"--tls-cert-file=" + dir.file(servingCert),
		"--tls-private-key-file=" + dir.file(servingKey),
		"--client-ca-file=" + dir.file(clientCACert),
		"--authorization-mode=RBAC",
		"--service-account-issuer=" + serviceAccountIssuer,
		"--service-account-key-file=" + dir.file(saVerifyingKey),
		"--service-account-signing-key-file=" + dir.file(saSigningKey),
		"--service-cluster-ip-range=" + serviceClusterIPRange,
		// The advertised address is loopback, which Endpoints may not hold;
		// nothing outside this machine could reach it anyway.
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--profiling=false",
	}
}

// startAPIServer builds kube-apiserver (with its aggregator and
// apiextensions servers) from the same options the real binary parses, and
// serves it on listener until ctx is cancelled. The returned channel yields
// the server's exit error, or is closed after a clean stop.
func startAPIServer(ctx context.Context, dir stateDir, etcdURL string, listener net.Listener) (<-chan error, error) {
	tcpAddr, ok := listener.Addr().(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("unexpected listener address %v", listener.Addr())
	}

	s := options.NewServerRunOptions()
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	for _, set := range s.Flags().FlagSets {
		fs.AddFlagSet(set)
	}
	if err := fs.Parse(apiserverFlags(dir, etcdURL, tcpAddr.Port)); err != nil {
		return nil, fmt.Errorf("parsing kube-apiserver flags: %w", err)
	}
	// Serve on the listener bound earlier, so the port cannot be taken in
	// between, and advertise loopback.
	s.SecureServing.Listener = listener
	s.SecureServing.ExternalAddress = tcpAddr.IP

	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return nil, fmt.Errorf("applying feature gates and emulation version: %w", err)
	}
	// The apiserver's loopback clients would log warnings about themselves.
	rest.SetDefaultWarningHandler(rest.NoWarnings{})

	completed, err := s.Complete(ctx)
	if err != nil {
		return nil, fmt.Errorf("completing kube-apiserver options: %w", err)
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return nil, fmt.Errorf("invalid kube-apiserver options: %w", utilerrors.NewAggregate(errs))
	}
	if completed.InformerName == nil {
		name, err := cache.NewInformerName("kube-apiserver")
		if err != nil {
			return nil, err
		}
		completed.InformerName = name
	}

	config, err := app.NewConfig(completed)
	if err != nil {
		return nil, fmt.Errorf("configuring kube-apiserver: %w", err)
	}
	completedConfig, err := config.Complete()
	if err != nil {
		return nil, fmt.Errorf("completing kube-apiserver configuration: %w", err)
	}
	server, err := app.CreateServerChain(completedConfig)
	if err != nil {
		return nil, fmt.Errorf("creating the kube-apiserver server chain: %w", err)
	}
	prepared, err := server.PrepareRun()
	if err != nil {
		return nil, fmt.Errorf("preparing kube-apiserver: %w", err)
	}

	done := make(chan error, 1)
	go func() {
		defer close(done)
		if err := prepared.Run(ctx); err != nil {
			done <- err
		}
	}()
	return done, nil
}
