package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Names of the files kept in a state directory. Tests read some of them
// (kubeconfig, client CA) to mint identities of their own.
const (
	stateFile        = "state.json"
	lockFile         = "lock"
	etcdDir          = "etcd"
	kubeconfigFile   = "kubeconfig"
	servingCACert    = "ca.crt"
	servingCAKey     = "ca.key"
	servingCert      = "apiserver.crt"
	servingKey       = "apiserver.key"
	clientCACert     = "client-ca.crt"
	clientCAKey      = "client-ca.key"
	adminCert        = "admin.crt"
	adminKey         = "admin.key"
	saSigningKey     = "sa.key"
	saVerifyingKey   = "sa.pub"
	pkiCompleteFlag  = "pki.done"
	stateFilePerm    = 0o600
	stateDirPerm     = 0o700
	loopbackHost     = "127.0.0.1"
	stateFileVersion = 1
)

// ports records the TCP ports a state directory was first served on, so a
// restart on the same directory comes back on the same addresses.
type ports struct {
	Version    int `json:"version"`
	APIServer  int `json:"apiserverPort"`
	EtcdClient int `json:"etcdClientPort"`
	EtcdPeer   int `json:"etcdPeerPort"`
}

// stateDir is a directory holding everything one control plane needs to be
// stopped and started again: certificates, keys, etcd data and ports.
type stateDir struct {
	path string
}

func (s stateDir) file(name string) string {
	return filepath.Join(s.path, name)
}

// lock takes an exclusive lock on the directory for as long as this
// process runs, so a second control plane on it fails at once instead of
// waiting on etcd's own locks.
func (s stateDir) lock() error {
	f, err := os.OpenFile(s.file(lockFile), os.O_CREATE|os.O_RDWR, stateFilePerm)
	if err != nil {
		return fmt.Errorf("opening %s: %w", s.file(lockFile), err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("state dir %s is in use by another control plane: %w", s.path, err)
	}
	// The descriptor stays open, holding the lock, until the process exits.
	heldLocks = append(heldLocks, f)
	return nil
}

var heldLocks []*os.File

// loadPorts returns the ports recorded by an earlier start, or nil for a
// directory that has never served.
func (s stateDir) loadPorts() (*ports, error) {
	data, err := os.ReadFile(s.file(stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.file(stateFile), err)
	}
	var p ports
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", s.file(stateFile), err)
	}
	if p.Version != stateFileVersion {
		return nil, fmt.Errorf("%s has version %d, this binary understands %d", s.file(stateFile), p.Version, stateFileVersion)
	}
	return &p, nil
}

func (s stateDir) savePorts(p ports) error {
	p.Version = stateFileVersion
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.file(stateFile), data, stateFilePerm)
}

// writeFileAtomic writes data so that readers see either the old file or the
// complete new one, never a torn write.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating a temporary file next to %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", tmpName, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("setting permissions of %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmpName, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmpName, path, err)
	}
	return nil
}

// listenLoopback binds a TCP listener on the loopback address; port 0 asks
// the kernel for a free one.
func listenLoopback(port int) (net.Listener, error) {
	addr := net.JoinHostPort(loopbackHost, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return l, nil
}

// freePort asks the kernel for a port that is free right now. Another process
// may take it before it is bound again, so callers retry on a bind failure.
func freePort() (int, error) {
	l, err := listenLoopback(0)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("unexpected listener address %v", l.Addr())
	}
	return addr.Port, nil
}
