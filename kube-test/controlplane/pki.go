package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"time"
)

// Every certificate outlives any test run by far: a state directory may be
// kept and reused for a long time, and nothing here is exposed beyond loopback.
const certificateLifetime = 10 * 365 * 24 * time.Hour

// Names the apiserver answers to, in-cluster and on loopback.
var servingDNSNames = []string{
	"localhost",
	"kubernetes",
	"kubernetes.default",
	"kubernetes.default.svc",
	"kubernetes.default.svc.cluster.local",
}

// servingIPs lists loopback and the first address of the service range
// (the `kubernetes` Service's cluster IP).
var servingIPs = []net.IP{
	net.ParseIP("127.0.0.1"),
	net.ParseIP("::1"),
	net.ParseIP(kubernetesServiceIP),
}

// keyPair is a certificate with its private key.
type keyPair struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// ensurePKI creates, once per state directory, the certificate authorities,
// the apiserver's serving certificate, the admin client certificate and the
// service-account signing key. A directory whose set is complete is left as
// it is, so restarts keep every identity valid.
func ensurePKI(dir stateDir) error {
	if _, err := os.Stat(dir.file(pkiCompleteFlag)); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}

	servingCA, err := newCA("kube-test-ca")
	if err != nil {
		return err
	}
	clientCA, err := newCA("kube-test-client-ca")
	if err != nil {
		return err
	}
	serving, err := newLeaf(servingCA, pkix.Name{CommonName: "kube-apiserver"}, x509.ExtKeyUsageServerAuth, servingDNSNames, servingIPs)
	if err != nil {
		return err
	}
	admin, err := newLeaf(clientCA, pkix.Name{CommonName: "kube-test-admin", Organization: []string{"system:masters"}}, x509.ExtKeyUsageClientAuth, nil, nil)
	if err != nil {
		return err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generating the service-account signing key: %w", err)
	}

	writes := []struct {
		name string
		pem  func() ([]byte, error)
	}{
		{servingCACert, certPEM(servingCA)},
		{servingCAKey, keyPEM(servingCA.key)},
		{servingCert, certPEM(serving)},
		{servingKey, keyPEM(serving.key)},
		{clientCACert, certPEM(clientCA)},
		{clientCAKey, keyPEM(clientCA.key)},
		{adminCert, certPEM(admin)},
		{adminKey, keyPEM(admin.key)},
		{saSigningKey, keyPEM(saKey)},
		{saVerifyingKey, publicKeyPEM(saKey.Public())},
	}
	for _, w := range writes {
		data, err := w.pem()
		if err != nil {
			return fmt.Errorf("encoding %s: %w", w.name, err)
		}
		if err := writeFileAtomic(dir.file(w.name), data, stateFilePerm); err != nil {
			return err
		}
	}
	// Written last: its presence says every file above is in place.
	return writeFileAtomic(dir.file(pkiCompleteFlag), []byte("ok\n"), stateFilePerm)
}

func newCA(commonName string) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("generating the key of %s: %w", commonName, err)
	}
	serial, err := newSerial()
	if err != nil {
		return keyPair{}, err
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certificateLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return keyPair{}, fmt.Errorf("self-signing %s: %w", commonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{cert: cert, key: key}, nil
}

func newLeaf(ca keyPair, subject pkix.Name, usage x509.ExtKeyUsage, dnsNames []string, ips []net.IP) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("generating the key of %s: %w", subject.CommonName, err)
	}
	serial, err := newSerial()
	if err != nil {
		return keyPair{}, err
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certificateLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
		BasicConstraintsValid: true,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, key.Public(), ca.key)
	if err != nil {
		return keyPair{}, fmt.Errorf("signing %s: %w", subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{cert: cert, key: key}, nil
}

func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("drawing a certificate serial number: %w", err)
	}
	return serial, nil
}

func certPEM(kp keyPair) func() ([]byte, error) {
	return func() ([]byte, error) {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: kp.cert.Raw}), nil
	}
}

// keyPEM encodes private keys as PKCS#8, the form every TLS stack reads.
func keyPEM(key crypto.Signer) func() ([]byte, error) {
	return func() ([]byte, error) {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
}

func publicKeyPEM(key crypto.PublicKey) func() ([]byte, error) {
	return func() ([]byte, error) {
		der, err := x509.MarshalPKIXPublicKey(key)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
	}
}
