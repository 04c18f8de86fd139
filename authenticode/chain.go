package authenticode

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"
)

// verifyChain builds a chain from leaf through intermediates to one of
// roots, valid at time at, for code signing (or timestamping).
//
// crypto/x509 refuses SHA-1 certificate signatures, but every Microsoft
// update package signed before 2016 chains through SHA-1 certificates
// (Microsoft Root Certificate Authority 2001, Microsoft Windows Verification
// PCA), and Windows Server 2008 SP2 still trusts them; so kbplan checks
// chains itself, accepting SHA-1 RSA signatures only on certificates, and
// says in the result when a chain relies on them.
func verifyChain(leaf *x509.Certificate, intermediates []*x509.Certificate, roots []*x509.Certificate, at time.Time, usage x509.ExtKeyUsage) ([]*x509.Certificate, bool, error) {
	if at.IsZero() {
		at = time.Now()
	}
	if err := validAt(leaf, at); err != nil {
		return nil, false, err
	}
	if !hasUsage(leaf, usage) {
		return nil, false, fmt.Errorf("%q is not a certificate for %s", leaf.Subject.CommonName, usageName(usage))
	}
	chain := []*x509.Certificate{leaf}
	usedSHA1 := false
	cur := leaf
	var lastErr error
	for depth := 0; depth < 8; depth++ {
		for _, r := range roots {
			if bytes.Equal(r.Raw, cur.Raw) {
				return chain, usedSHA1, nil
			}
		}
		next, sha1Used, err := findIssuer(cur, intermediates, roots, at, usage)
		if err != nil {
			lastErr = err
			break
		}
		usedSHA1 = usedSHA1 || sha1Used
		chain = append(chain, next)
		if slices.ContainsFunc(roots, func(r *x509.Certificate) bool { return bytes.Equal(r.Raw, next.Raw) }) {
			return chain, usedSHA1, nil
		}
		cur = next
	}
	if lastErr == nil {
		lastErr = errors.New("the chain is longer than 8 certificates")
	}
	return nil, false, lastErr
}

func findIssuer(c *x509.Certificate, intermediates, roots []*x509.Certificate, at time.Time, usage x509.ExtKeyUsage) (*x509.Certificate, bool, error) {
	var problem error
	for _, set := range [][]*x509.Certificate{roots, intermediates} {
		for _, p := range set {
			if !bytes.Equal(p.RawSubject, c.RawIssuer) || bytes.Equal(p.Raw, c.Raw) {
				continue
			}
			sha1Used, err := checkSignature(p, c)
			if err != nil {
				problem = err
				continue
			}
			if err := validAt(p, at); err != nil {
				problem = err
				continue
			}
			if !p.IsCA && p.BasicConstraintsValid {
				problem = fmt.Errorf("%q is not a certificate authority", p.Subject.CommonName)
				continue
			}
			if len(p.ExtKeyUsage) > 0 && !hasUsage(p, usage) {
				problem = fmt.Errorf("%q may not issue certificates for %s", p.Subject.CommonName, usageName(usage))
				continue
			}
			return p, sha1Used, nil
		}
	}
	if problem != nil {
		return nil, false, problem
	}
	return nil, false, fmt.Errorf("no trusted root or included certificate issued %q (issuer %q): the signer is not trusted; add its root with --roots if you trust it", c.Subject.CommonName, c.Issuer.CommonName)
}

// checkSignature verifies that parent signed c, accepting SHA-1 RSA.
func checkSignature(parent, c *x509.Certificate) (bool, error) {
	if c.SignatureAlgorithm == x509.SHA1WithRSA {
		pub, ok := parent.PublicKey.(*rsa.PublicKey)
		if !ok {
			return true, errors.New("SHA-1 RSA signature by a non-RSA key")
		}
		sum := sha1.Sum(c.RawTBSCertificate)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], c.Signature); err != nil {
			return true, fmt.Errorf("%q's signature on %q does not verify", parent.Subject.CommonName, c.Subject.CommonName)
		}
		return true, nil
	}
	if err := c.CheckSignatureFrom(parent); err != nil {
		return false, fmt.Errorf("%q's signature on %q does not verify: %v", parent.Subject.CommonName, c.Subject.CommonName, err)
	}
	return false, nil
}

func validAt(c *x509.Certificate, at time.Time) error {
	if at.Before(c.NotBefore) || at.After(c.NotAfter) {
		return fmt.Errorf("%q is valid from %s to %s, not at %s", c.Subject.CommonName,
			c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), at.UTC().Format(time.DateOnly))
	}
	return nil
}

func hasUsage(c *x509.Certificate, usage x509.ExtKeyUsage) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, usage) || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny)
}

func usageName(u x509.ExtKeyUsage) string {
	if u == x509.ExtKeyUsageTimeStamping {
		return "timestamping"
	}
	return "code signing"
}
