package main

import (
	"fmt"
	"os"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const contextName = "kube-test"

// adminIdentity is what the kubeconfig and the in-process controllers use:
// the server's URL, the CA that signed its certificate, and a client
// certificate in the system:masters group.
type adminIdentity struct {
	server string
	caPEM  []byte
	crtPEM []byte
	keyPEM []byte
}

func loadAdminIdentity(dir stateDir, server string) (adminIdentity, error) {
	id := adminIdentity{server: server}
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{
		{servingCACert, &id.caPEM},
		{adminCert, &id.crtPEM},
		{adminKey, &id.keyPEM},
	} {
		data, err := os.ReadFile(dir.file(f.name))
		if err != nil {
			return adminIdentity{}, fmt.Errorf("reading %s: %w", dir.file(f.name), err)
		}
		*f.dst = data
	}
	return id, nil
}

// writeKubeconfig writes a self-contained kubeconfig (all credentials
// inline) so it can be copied or read without the rest of the state dir.
func writeKubeconfig(path string, id adminIdentity) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[contextName] = &clientcmdapi.Cluster{
		Server:                   id.server,
		CertificateAuthorityData: id.caPEM,
	}
	cfg.AuthInfos[contextName] = &clientcmdapi.AuthInfo{
		ClientCertificateData: id.crtPEM,
		ClientKeyData:         id.keyPEM,
	}
	cfg.Contexts[contextName] = &clientcmdapi.Context{
		Cluster:   contextName,
		AuthInfo:  contextName,
		Namespace: "default",
	}
	cfg.CurrentContext = contextName
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("encoding the kubeconfig: %w", err)
	}
	return writeFileAtomic(path, data, stateFilePerm)
}

// restConfig is the client-go configuration of the admin identity, used by
// the controllers running in this process.
func (id adminIdentity) restConfig(userAgent string) *rest.Config {
	return &rest.Config{
		Host:      id.server,
		UserAgent: userAgent,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   id.caPEM,
			CertData: id.crtPEM,
			KeyData:  id.keyPEM,
		},
		QPS:   200,
		Burst: 400,
	}
}
