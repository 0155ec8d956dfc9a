package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"k8s.io/apiserver/pkg/storage/etcd3"
)

const (
	historyTimeout = 10 * time.Second
	// revisionFloor is the etcd revision a new cluster starts from, so that
	// small resource versions such as "1" are never valid: the apiserver's
	// watch caches then answer a watch from one with 410 Gone, as on a
	// cluster that has run a while. On a brand-new etcd they would replay
	// everything since the first write instead.
	revisionFloor = 100
	// floorKey lies outside the apiserver's /registry prefix.
	floorKey = "/kube-test/revision-floor"
)

func etcdClient(etcdURL string) (*clientv3.Client, error) {
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{etcdURL},
		DialTimeout: historyTimeout,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd at %s: %w", etcdURL, err)
	}
	return client, nil
}

// raiseRevisionFloor writes to etcd until its revision reaches
// revisionFloor; on an etcd that has served before it does nothing.
func raiseRevisionFloor(ctx context.Context, etcdURL string) error {
	ctx, cancel := context.WithTimeout(ctx, historyTimeout)
	defer cancel()
	client, err := etcdClient(etcdURL)
	if err != nil {
		return err
	}
	defer client.Close()
	resp, err := client.Get(ctx, floorKey)
	if err != nil {
		return fmt.Errorf("reading the etcd revision: %w", err)
	}
	for revision := resp.Header.Revision; revision < revisionFloor; {
		put, err := client.Put(ctx, floorKey, strconv.FormatInt(revision, 10))
		if err != nil {
			return fmt.Errorf("raising the etcd revision: %w", err)
		}
		revision = put.Header.Revision
	}
	return nil
}

// compactHistory compacts etcd up to its current revision, the way
// kube-apiserver's own compactor does every five minutes, so that resource
// versions from before this start are gone at once: a watch from an old
// resource version gets 410 Gone, as on any cluster that has run a while,
// instead of replaying history a fresh etcd still holds.
//
// It goes through the apiserver's compaction protocol (a revision key that
// every compactor compares and swaps), so the apiserver learns the new
// compacted revision and its own compactor carries on undisturbed.
func compactHistory(ctx context.Context, etcdURL string) error {
	ctx, cancel := context.WithTimeout(ctx, historyTimeout)
	defer cancel()
	client, err := etcdClient(etcdURL)
	if err != nil {
		return err
	}
	defer client.Close()

	// The first round learns the compaction key's version (creating the key
	// on a new cluster) and the current revision; the second compacts.
	version, revision, _, err := etcd3.Compact(ctx, client, 0, 0)
	if err != nil {
		return fmt.Errorf("reading the compaction revision: %w", err)
	}
	if _, _, _, err := etcd3.Compact(ctx, client, version, revision); err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return fmt.Errorf("compacting etcd at revision %d: %w", revision, err)
	}
	return nil
}
