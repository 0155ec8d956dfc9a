package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// controlPlane is the set of running components.
type controlPlane struct {
	etcd          *embed.Etcd
	apiserverDone <-chan error
	controllers   *controllers
}

// start brings up etcd, kube-apiserver and the controllers on dir, writes
// the kubeconfig, waits for /readyz and prints the export line. On error the
// returned controlPlane (possibly nil) holds whatever already runs.
func start(ctx context.Context, dir stateDir, opts cliOptions, stop <-chan string) (*controlPlane, error) {
	started := time.Now()
	if err := dir.lock(); err != nil {
		return nil, err
	}
	if err := ensurePKI(dir); err != nil {
		return nil, fmt.Errorf("preparing certificates in %s: %w", dir.path, err)
	}
	recorded, err := dir.loadPorts()
	if err != nil {
		return nil, err
	}

	apiserverPort := opts.port
	if recorded != nil {
		apiserverPort = recorded.APIServer
	}
	listener, err := listenLoopback(apiserverPort)
	if err != nil {
		return nil, fmt.Errorf("binding the apiserver port (state dir %s): %w", dir.path, err)
	}
	tcpAddr, ok := listener.Addr().(*net.TCPAddr)
	if !ok {
		listener.Close()
		return nil, fmt.Errorf("unexpected listener address %v", listener.Addr())
	}

	etcd, etcdPorts, err := startEtcdOnFreePorts(dir, recorded)
	if err != nil {
		listener.Close()
		return nil, err
	}
	cp := &controlPlane{etcd: etcd}

	if err := dir.savePorts(ports{APIServer: tcpAddr.Port, EtcdClient: etcdPorts[0], EtcdPeer: etcdPorts[1]}); err != nil {
		listener.Close()
		return cp, err
	}

	server := "https://" + net.JoinHostPort(loopbackHost, strconv.Itoa(tcpAddr.Port))
	id, err := loadAdminIdentity(dir, server)
	if err != nil {
		listener.Close()
		return cp, err
	}
	kubeconfig := opts.kubeconfig
	if kubeconfig == "" {
		kubeconfig = dir.file(kubeconfigFile)
	}
	if kubeconfig, err = filepath.Abs(kubeconfig); err != nil {
		listener.Close()
		return cp, fmt.Errorf("resolving --kubeconfig: %w", err)
	}
	if err := writeKubeconfig(kubeconfig, id); err != nil {
		listener.Close()
		return cp, err
	}

	etcdURL := "http://" + net.JoinHostPort(loopbackHost, strconv.Itoa(etcdPorts[0]))
	if err := raiseRevisionFloor(ctx, etcdURL); err != nil {
		listener.Close()
		return cp, err
	}
	apiserverDone, err := startAPIServer(ctx, dir, etcdURL, listener)
	if err != nil {
		listener.Close()
		return cp, err
	}
	cp.apiserverDone = apiserverDone

	if err := waitReady(ctx, id, apiserverDone, stop); err != nil {
		return cp, err
	}
	if err := compactHistory(ctx, etcdURL); err != nil {
		// Only old resource versions stay readable longer; not worth failing.
		logf("%v", err)
	}
	if cp.controllers, err = startControllers(ctx, dir, id); err != nil {
		return cp, err
	}

	klogErrors.started()
	logf("ready in %.1fs at %s (state dir %s)", time.Since(started).Seconds(), server, dir.path)
	if _, err := fmt.Fprintf(os.Stdout, "export KUBECONFIG=%s\n", kubeconfig); err != nil {
		return cp, fmt.Errorf("writing the export line to stdout: %w", err)
	}
	return cp, nil
}

// startEtcdOnFreePorts starts etcd on the recorded ports, or on fresh ones
// when there are none or they have been taken since.
func startEtcdOnFreePorts(dir stateDir, recorded *ports) (*embed.Etcd, [2]int, error) {
	var lastErr error
	for attempt := 0; attempt < etcdBindAttempts; attempt++ {
		var p [2]int
		if attempt == 0 && recorded != nil {
			p = [2]int{recorded.EtcdClient, recorded.EtcdPeer}
		} else {
			var err error
			if p[0], err = freePort(); err != nil {
				return nil, p, err
			}
			if p[1], err = freePort(); err != nil {
				return nil, p, err
			}
		}
		e, err := startEtcd(dir.file(etcdDir), p[0], p[1])
		if err == nil {
			return e, p, nil
		}
		lastErr = err
	}
	return nil, [2]int{}, lastErr
}

// waitReady polls /readyz as the admin until it answers 200.
func waitReady(ctx context.Context, id adminIdentity, apiserverDone <-chan error, stop <-chan string) error {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(id.caPEM) {
		return fmt.Errorf("no certificate found in the serving CA")
	}
	clientCert, err := tls.X509KeyPair(id.crtPEM, id.keyPEM)
	if err != nil {
		return fmt.Errorf("loading the admin client certificate: %w", err)
	}
	client := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs:      roots,
			Certificates: []tls.Certificate{clientCert},
			MinVersion:   tls.VersionTLS12,
		}},
	}
	defer client.CloseIdleConnections()

	deadline := time.After(readyTimeout)
	lastStatus := "no answer yet"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, id.server+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			lastStatus = fmt.Sprintf("status %d: %s", resp.StatusCode, body)
		} else {
			lastStatus = err.Error()
		}
		select {
		case err, ok := <-apiserverDone:
			if !ok {
				return fmt.Errorf("kube-apiserver stopped before it was ready")
			}
			return fmt.Errorf("kube-apiserver failed before it was ready: %w", err)
		case reason := <-stop:
			return fmt.Errorf("stopped before ready: %s", reason)
		case <-deadline:
			return fmt.Errorf("kube-apiserver not ready within %s; last /readyz: %s", readyTimeout, lastStatus)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// shutdown stops the controllers, then the apiserver, then etcd, each with
// a bound on how long it may take.
func (cp *controlPlane) shutdown(cancel context.CancelFunc) {
	stopping.Store(true)
	cancel()
	if cp.controllers != nil && !cp.controllers.wait(controllerStopTimeout) {
		logf("controllers did not stop within %s", controllerStopTimeout)
	}
	if cp.apiserverDone != nil {
		select {
		case err, ok := <-cp.apiserverDone:
			if ok && err != nil {
				logf("kube-apiserver: %v", err)
			}
		case <-time.After(apiserverStopTimeout):
			logf("kube-apiserver still had open requests after %s; stopping etcd", apiserverStopTimeout)
		}
	}
	if cp.etcd != nil {
		closed := make(chan struct{})
		go func() {
			cp.etcd.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(etcdStopTimeout):
			logf("etcd did not stop within %s; exiting anyway", etcdStopTimeout)
		}
	}
}
