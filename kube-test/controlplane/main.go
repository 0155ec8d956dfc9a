// Command controlplane runs a real Kubernetes control plane in one process on
// loopback, for end-to-end tests and demos: embedded etcd, kube-apiserver
// (with the aggregator and apiextensions servers), and the controllers that
// a cluster without nodes still needs (garbage collector, namespace
// deletion, ServiceAccounts, token Secrets, root CA ConfigMaps).
//
// Once the apiserver answers /readyz it prints exactly one line on stdout,
//
//	export KUBECONFIG=<path>
//
// and runs until SIGINT/SIGTERM, or until stdin closes when started with
// --exit-on-stdin-close. Everything else goes to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

const (
	readyTimeout = 90 * time.Second
	// kube-apiserver's graceful stop waits for open watch connections for up
	// to its request timeout (a minute); clients of a test control plane keep
	// watches open, so waiting for them would make every restart slow. The
	// watches end when the process exits either way, and etcd survives an
	// unfinished stop as it survives a crash.
	apiserverStopTimeout  = 3 * time.Second
	etcdStopTimeout       = 3 * time.Second
	controllerStopTimeout = 10 * time.Second
	etcdBindAttempts      = 5
)

type cliOptions struct {
	stateDir         string
	port             int
	kubeconfig       string
	exitOnStdinClose bool
	verbosity        int
}

func parseFlags(args []string) (cliOptions, error) {
	var o cliOptions
	fs := flag.NewFlagSet("controlplane", flag.ContinueOnError)
	fs.StringVar(&o.stateDir, "state-dir", "", "directory for certificates, keys, etcd data and ports; kept and reused when given (default: a new temporary directory, removed on exit)")
	fs.IntVar(&o.port, "port", 0, "apiserver port on 127.0.0.1; 0 picks a free one (a reused state dir keeps its recorded port)")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "where to write the admin kubeconfig (default: STATE_DIR/kubeconfig)")
	fs.BoolVar(&o.exitOnStdinClose, "exit-on-stdin-close", false, "stop when stdin reaches end of file, so the control plane dies with the process that started it")
	fs.IntVar(&o.verbosity, "v", 0, "log verbosity of the Kubernetes components; above 0 every log line goes to stderr")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() != 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, nil
}

func main() {
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := configureLogging(opts.verbosity); err != nil {
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		os.Exit(2)
	}
	code := run(opts)
	klog.Flush()
	os.Exit(code)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "controlplane: "+format+"\n", args...)
}

func run(opts cliOptions) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// When the parent process is gone, so are the readers of stdout and
	// stderr. A Go program writing to such a pipe is killed by SIGPIPE,
	// which would skip the clean stop below; asking for the signal turns
	// those writes into plain errors instead.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	stop := make(chan string, 2)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-signals
		stop <- "received " + sig.String()
		// A second signal means: do not wait for a clean stop.
		sig = <-signals
		logf("received %s again, exiting at once", sig)
		os.Exit(1)
	}()
	if opts.exitOnStdinClose {
		go func() {
			// Whatever arrives on stdin is ignored; only its end matters.
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop <- "stdin closed"
		}()
	}

	dir, removeDir, err := prepareStateDir(opts.stateDir)
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer removeDir()

	cp, err := start(ctx, dir, opts, stop)
	if err != nil {
		klogErrors.failed()
		logf("%v", err)
		if cp != nil {
			cp.shutdown(cancel)
		}
		return 1
	}

	code := 0
	select {
	case reason := <-stop:
		logf("stopping: %s", reason)
	case err := <-cp.apiserverDone:
		logf("kube-apiserver stopped unexpectedly: %v", err)
		code = 1
	case err := <-cp.etcd.Err():
		logf("etcd failed: %v", err)
		code = 1
	}
	cp.shutdown(cancel)
	return code
}

// prepareStateDir returns the state directory to use, and what to do with
// it on exit: a directory we created is removed, a given one is kept.
func prepareStateDir(path string) (stateDir, func(), error) {
	if path == "" {
		tmp, err := os.MkdirTemp("", "kube-test-")
		if err != nil {
			return stateDir{}, nil, fmt.Errorf("creating a temporary state dir: %w", err)
		}
		return stateDir{path: tmp}, func() {
			if err := os.RemoveAll(tmp); err != nil {
				logf("removing %s: %v", tmp, err)
			}
		}, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return stateDir{}, nil, fmt.Errorf("resolving --state-dir %s: %w", path, err)
	}
	if err := os.MkdirAll(abs, stateDirPerm); err != nil {
		return stateDir{}, nil, fmt.Errorf("creating state dir %s: %w", abs, err)
	}
	return stateDir{path: abs}, func() {}, nil
}
