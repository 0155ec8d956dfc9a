package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/util/keyutil"
	"k8s.io/controller-manager/pkg/informerfactory"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/certificates/rootcacertpublisher"
	"k8s.io/kubernetes/pkg/controller/garbagecollector"
	namespacecontroller "k8s.io/kubernetes/pkg/controller/namespace"
	serviceaccountcontroller "k8s.io/kubernetes/pkg/controller/serviceaccount"
	"k8s.io/kubernetes/pkg/serviceaccount"
)

const (
	// How often the garbage collector looks for new resource types (CRDs).
	// kube-controller-manager uses 30 s; tests install CRDs and expect
	// cascading deletion of their objects right away, so look often.
	gcDiscoveryPeriod = 2 * time.Second
	gcWorkers         = 20
	namespaceWorkers  = 10
	// Informers resync rarely: every controller here is driven by watch events.
	informerResync    = 12 * time.Hour
	namespaceResync   = 5 * time.Minute
	serviceAccountJob = 1
	tokenWorkers      = 5
	rootCAWorkers     = 1
)

// controllers are the parts of kube-controller-manager that make an
// apiserver without nodes behave like a cluster: garbage collection of
// owned objects, namespace deletion, `default` ServiceAccounts, legacy
// ServiceAccount token Secrets and the `kube-root-ca.crt` ConfigMaps.
type controllers struct {
	wg sync.WaitGroup
}

// startControllers starts every controller; they run until ctx is done.
func startControllers(ctx context.Context, dir stateDir, id adminIdentity) (*controllers, error) {
	cfg := id.restConfig("kube-test-controllers")
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the controllers' client: %w", err)
	}
	metadataClient, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the controllers' metadata client: %w", err)
	}
	discoveryClient, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the controllers' discovery client: %w", err)
	}

	// Managed fields are never read by these controllers; dropping them
	// keeps the caches small.
	trimManagedFields := func(obj any) (any, error) {
		if accessor, err := meta.Accessor(obj); err == nil {
			accessor.SetManagedFields(nil)
		}
		return obj, nil
	}
	sharedInformers := informers.NewSharedInformerFactoryWithOptions(client, informerResync, informers.WithTransform(trimManagedFields))
	metadataInformers := metadatainformer.NewSharedInformerFactoryWithOptions(metadataClient, informerResync, metadatainformer.WithTransform(trimManagedFields))
	informersStarted := make(chan struct{})
	logger := klog.FromContext(ctx)

	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discoveryClient))
	gc, err := garbagecollector.NewGarbageCollector(
		ctx,
		client,
		metadataClient,
		mapper,
		garbagecollector.DefaultIgnoredResources(),
		informerfactory.NewInformerFactory(sharedInformers, metadataInformers),
		informersStarted,
	)
	if err != nil {
		return nil, fmt.Errorf("creating the garbage collector: %w", err)
	}

	namespaces := namespacecontroller.NewNamespaceController(
		ctx,
		client,
		metadataClient,
		client.Discovery().ServerPreferredNamespacedResources,
		sharedInformers.Core().V1().Namespaces(),
		namespaceResync,
		v1.FinalizerKubernetes,
	)

	serviceAccounts, err := serviceaccountcontroller.NewServiceAccountsController(
		logger,
		sharedInformers.Core().V1().ServiceAccounts(),
		sharedInformers.Core().V1().Namespaces(),
		client,
		serviceaccountcontroller.DefaultServiceAccountsControllerOptions(),
	)
	if err != nil {
		return nil, fmt.Errorf("creating the ServiceAccount controller: %w", err)
	}

	signingKey, err := keyutil.PrivateKeyFromFile(dir.file(saSigningKey))
	if err != nil {
		return nil, fmt.Errorf("reading the service-account signing key %s: %w", dir.file(saSigningKey), err)
	}
	tokenGenerator, err := serviceaccount.JWTTokenGenerator(serviceaccount.LegacyIssuer, signingKey)
	if err != nil {
		return nil, fmt.Errorf("creating the legacy token generator: %w", err)
	}
	tokens, err := serviceaccountcontroller.NewTokensController(
		logger,
		sharedInformers.Core().V1().ServiceAccounts(),
		sharedInformers.Core().V1().Secrets(),
		client,
		serviceaccountcontroller.TokensControllerOptions{TokenGenerator: tokenGenerator, RootCA: id.caPEM},
	)
	if err != nil {
		return nil, fmt.Errorf("creating the ServiceAccount tokens controller: %w", err)
	}

	rootCA, err := os.ReadFile(dir.file(servingCACert))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir.file(servingCACert), err)
	}
	publisher, err := rootcacertpublisher.NewPublisher(
		sharedInformers.Core().V1().ConfigMaps(),
		sharedInformers.Core().V1().Namespaces(),
		client,
		rootCA,
	)
	if err != nil {
		return nil, fmt.Errorf("creating the root CA publisher: %w", err)
	}

	c := &controllers{}
	run := func(f func(context.Context)) {
		c.wg.Go(func() { f(ctx) })
	}
	run(func(ctx context.Context) { gc.Run(ctx, gcWorkers, time.Minute) })
	run(func(ctx context.Context) { gc.Sync(ctx, discoveryClient, gcDiscoveryPeriod) })
	run(func(ctx context.Context) { namespaces.Run(ctx, namespaceWorkers) })
	run(func(ctx context.Context) { serviceAccounts.Run(ctx, serviceAccountJob) })
	run(func(ctx context.Context) { tokens.Run(ctx, tokenWorkers) })
	run(func(ctx context.Context) { publisher.Run(ctx, rootCAWorkers) })

	sharedInformers.Start(ctx.Done())
	metadataInformers.Start(ctx.Done())
	close(informersStarted)
	c.wg.Go(func() {
		<-ctx.Done()
		sharedInformers.Shutdown()
		metadataInformers.Shutdown()
	})
	return c, nil
}

// wait blocks until every controller has returned, or the timeout passes.
func (c *controllers) wait(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}
