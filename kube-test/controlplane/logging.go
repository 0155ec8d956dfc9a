package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"
)

// stopping is set once shutdown begins: components then report their
// listeners closing as errors, which is expected and not worth showing.
var stopping atomic.Bool

// expectedErrors are klog error messages that say nothing is wrong in this
// setup.
var expectedErrors = [][]byte{
	// Logged on every start when the endpoint reconciler is disabled.
	[]byte("Found stale data, removed previous endpoints on kubernetes service"),
	// Logged on every start when no metric label allow-list is configured.
	[]byte("The manifest file is empty, ignoring."),
}

// maxStartupErrors bounds the errors held back while starting.
const maxStartupErrors = 200

// klogErrors receives every klog error line when verbosity is 0.
var klogErrors = &errorLog{out: os.Stderr, holding: true}

// configureLogging keeps stderr to errors by default: a test run should
// show what went wrong, not the components' startup chatter. With
// verbosity above 0 every klog line goes to stderr.
func configureLogging(verbosity int) error {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	settings := map[string]string{"v": strconv.Itoa(verbosity)}
	if verbosity == 0 {
		settings["logtostderr"] = "false"
		settings["alsologtostderr"] = "false"
		// Nothing goes to stderr directly; errors go through errorFilter.
		settings["stderrthreshold"] = "FATAL"
	}
	for name, value := range settings {
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("setting klog flag %s: %w", name, err)
		}
	}
	if verbosity == 0 {
		// Without outputs of its own klog would create log files in $TMPDIR.
		// Each line is written to the output of its severity and of every
		// severity below it, so errors and fatals both reach the ERROR one.
		klog.SetOutput(io.Discard)
		klog.SetOutputBySeverity("ERROR", klogErrors)
	}
	return nil
}

// errorLog passes klog error lines to out, except expected ones and those
// written while stopping. While the control plane starts, components race
// each other and log errors that resolve themselves (a namespace that does
// not exist yet): those lines are held back, and shown only if the start
// fails.
type errorLog struct {
	mu      sync.Mutex
	out     io.Writer
	holding bool
	held    [][]byte
}

func (l *errorLog) Write(line []byte) (int, error) {
	if stopping.Load() {
		return len(line), nil
	}
	for _, expected := range expectedErrors {
		if bytes.Contains(line, expected) {
			return len(line), nil
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holding {
		if len(l.held) == maxStartupErrors {
			l.held = l.held[1:]
		}
		l.held = append(l.held, bytes.Clone(line))
		return len(line), nil
	}
	return l.out.Write(line)
}

// started drops the errors held back during a successful start.
func (l *errorLog) started() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holding = false
	l.held = nil
}

// failed writes out the errors held back during a failed start.
func (l *errorLog) failed() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holding = false
	for _, line := range l.held {
		_, _ = l.out.Write(line)
	}
	l.held = nil
}

// etcdLogger writes etcd's errors to stderr in plain text, and nothing once
// shutdown has begun.
func etcdLogger() *zap.Logger {
	encoder := zapcore.NewConsoleEncoder(zapcore.EncoderConfig{
		MessageKey:  "msg",
		LevelKey:    "level",
		NameKey:     "logger",
		EncodeLevel: zapcore.CapitalLevelEncoder,
	})
	core := zapcore.NewCore(encoder, zapcore.Lock(os.Stderr), zapcore.ErrorLevel)
	return zap.New(quietWhileStopping{core}).Named("etcd")
}

type quietWhileStopping struct {
	zapcore.Core
}

func (q quietWhileStopping) Enabled(level zapcore.Level) bool {
	return !stopping.Load() && q.Core.Enabled(level)
}

func (q quietWhileStopping) With(fields []zapcore.Field) zapcore.Core {
	return quietWhileStopping{q.Core.With(fields)}
}

func (q quietWhileStopping) Check(entry zapcore.Entry, checked *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if stopping.Load() {
		return checked
	}
	return q.Core.Check(entry, checked)
}
