package main

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

const etcdReadyTimeout = 60 * time.Second

// startEtcd runs a single-member etcd inside this process, serving plain
// HTTP on loopback only.
func startEtcd(dataDir string, clientPort, peerPort int) (*embed.Etcd, error) {
	clientURL := url.URL{Scheme: "http", Host: loopbackHost + ":" + strconv.Itoa(clientPort)}
	peerURL := url.URL{Scheme: "http", Host: loopbackHost + ":" + strconv.Itoa(peerPort)}

	cfg := embed.NewConfig()
	cfg.Name = "kube-test"
	cfg.Dir = dataDir
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.ListenMetricsUrls = nil
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(etcdLogger())
	// The data only has to survive this process being stopped, not the
	// machine crashing: skipping fsync makes writes far cheaper.
	cfg.UnsafeNoFsync = true

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting etcd in %s on %s: %w", dataDir, clientURL.Host, err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcd failed while starting: %w", err)
	case <-time.After(etcdReadyTimeout):
		e.Server.Stop()
		e.Close()
		return nil, fmt.Errorf("etcd not ready within %s", etcdReadyTimeout)
	}
}
