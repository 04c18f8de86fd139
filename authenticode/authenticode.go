// Package authenticode verifies the Authenticode signatures embedded in a
// cabinet's reserved header area (.msu files and the update cabinets inside
// them): every signature, nested ones included (dual SHA-1/SHA-256
// signing), its digest over the cabinet, the signer's chain to a trusted
// root, and the timestamp (RFC 3161 token or legacy countersignature).
//
// The PKCS#7, timestamp and cabinet-digest work is done by
// github.com/sassoftware/relic (lib/pkcs7, lib/pkcs9, lib/cabfile), which
// knows cabinet Authenticode; this package adds the bounds checks, nested
// signatures, chain policy and the verdicts kbplan reports.
package authenticode

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"
	"github.com/sassoftware/relic/v7/lib/x509tools"
)

// The Authenticode content a signature signs (Microsoft, "Windows
// Authenticode Portable Executable Signature Format", SpcIndirectDataContent;
// a cabinet's carries an SpcLink where a PE's carries SpcPeImageData, so the
// value is kept raw). Declared here rather than imported from relic's
// lib/authenticode, whose signing half pulls a key ring and D-Bus into the
// binary.
var oidSpcIndirectDataContent = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}

type spcIndirectDataContent struct {
	Data struct {
		Type  asn1.ObjectIdentifier
		Value asn1.RawValue `asn1:"optional"`
	}
	MessageDigest struct {
		DigestAlgorithm pkix.AlgorithmIdentifier
		Digest          []byte
	}
}

//go:embed microsoft-roots.pem
var microsoftRoots []byte

// MicrosoftRoots returns the bundled Microsoft code-signing roots
// (ROOTS.md).
func MicrosoftRoots() []*x509.Certificate {
	roots, _ := ParseRoots(microsoftRoots)
	return roots
}

// ParseRoots reads PEM certificates (text between them is ignored).
func ParseRoots(pemData []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for n := 1; ; n++ {
		var b *pem.Block
		b, pemData = pem.Decode(pemData)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return out, nil
}

// oidNestedSignature is SPC_NESTED_SIGNATURE_OBJID: a further signature
// kept in the unauthenticated attributes of the first (dual signing).
var oidNestedSignature = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 4, 1}

// ErrNotSigned is returned for a cabinet without a signature.
var ErrNotSigned = errors.New("the cabinet carries no Authenticode signature")

// Signature is one verified (or failed) signature.
type Signature struct {
	DigestAlgorithm string     `json:"digestAlgorithm"` // "sha1", "sha256", ...
	Signer          string     `json:"signer"`          // the signing certificate's subject common name
	Issuer          string     `json:"issuer"`
	Serial          string     `json:"serial"`
	Timestamp       *time.Time `json:"timestamp"`      // when a timestamp authority vouched for the signature
	TimestampKind   string     `json:"timestampKind"`  // "rfc3161", "countersignature", or "" without one
	Nested          bool       `json:"nested"`         // a nested signature (the second of a dual signature)
	DigestMatches   bool       `json:"digestMatches"`  // the cabinet's content hashes to the signed digest
	SignatureValid  bool       `json:"signatureValid"` // the signer's key signed the digest
	SHA1Chain       bool       `json:"sha1Chain"`      // the chain relies on SHA-1 certificate signatures
	ChainValid      bool       `json:"chainValid"`     // the signer chains to a trusted root, for code signing
	Chain           []string   `json:"chain"`          // subject common names, signer first, root last
	Valid           bool       `json:"valid"`          // all of the above
	Problems        []string   `json:"problems"`       // why it is not valid
}

// Options tune verification.
type Options struct {
	// Roots are the trusted roots; nil means MicrosoftRoots.
	Roots []*x509.Certificate
	// Now is the time to check certificates at when a signature has no
	// timestamp; zero means time.Now.
	Now time.Time
}

// signatureHeader is the cabinet's 20-byte header reserve when signed:
// the signature follows the cabinet at CabinetSize, SignatureSize long.
type signatureHeader struct {
	Unknown1, CabinetSize, SignatureSize, Unknown2, Unknown3 uint32
}

// VerifyCab verifies every signature of the cabinet in r (size bytes). It
// returns ErrNotSigned for an unsigned cabinet, an error for a cabinet or
// signature it cannot parse, and otherwise one Signature per signature,
// each with its own verdict.
func VerifyCab(r io.ReaderAt, size int64, opt Options) ([]Signature, error) {
	sigs, _, err := VerifyCabAndHash(r, size, opt)
	return sigs, err
}

// VerifyCabAndHash is VerifyCab that also hashes the whole file with each
// of files (the file's SHA-256 that identifies it, its SHA-1 that a
// Windows Update name carries), in the same single read of the file as
// the signatures' digests. The file's digests are returned whatever the
// signatures' verdict, also with ErrNotSigned; nil only when the file
// could not be read.
func VerifyCabAndHash(r io.ReaderAt, size int64, opt Options, files ...crypto.Hash) ([]Signature, map[crypto.Hash][]byte, error) {
	fileStreams, err := newStreams(files, nil, 0, size)
	if err != nil {
		return nil, nil, err
	}
	// fileOnly hashes the file alone, for a cabinet whose signature is not
	// there to verify.
	fileOnly := func(verr error) ([]Signature, map[crypto.Hash][]byte, error) {
		if err := hashRanges(r, fileStreams); err != nil {
			return nil, nil, err
		}
		return nil, sums(files, fileStreams), verr
	}
	blob, err := signatureBlob(r, size)
	if err != nil {
		return fileOnly(err)
	}
	if opt.Roots == nil {
		opt.Roots = MicrosoftRoots()
	}
	psd, err := pkcs7.Unmarshal(blob)
	if err != nil {
		return fileOnly(fmt.Errorf("the signature is not valid PKCS#7: %w", err))
	}
	// The signature must be exactly the DER of what was parsed, followed by
	// at most 7 zero bytes of padding: no byte of it can change unnoticed.
	if der, err := psd.Marshal(); err != nil || !bytes.Equal(der, blob[:min(len(der), len(blob))]) || len(blob)-len(der) > 7 {
		return fileOnly(errors.New("the signature's encoding is not canonical DER with zero padding: it was altered"))
	}
	// Every digest the signatures name and the file's own, from one read.
	hashes := digestHashes(psd)
	var digests map[crypto.Hash][]byte
	prefix, from, to, sumErr := cabLayout(r, size)
	var authStreams []stream
	if sumErr == nil {
		authStreams, sumErr = newStreams(hashes, prefix, from, to)
	}
	if err := hashRanges(r, append(slices.Clip(authStreams), fileStreams...)); err != nil {
		return nil, nil, err
	}
	if sumErr == nil {
		digests = sums(hashes, authStreams)
	}
	var out []Signature
	var walk func(psd *pkcs7.ContentInfoSignedData, nested bool, depth int) error
	walk = func(psd *pkcs7.ContentInfoSignedData, nested bool, depth int) error {
		if depth > 4 {
			return errors.New("signatures nested more than 4 deep")
		}
		s, sig := verifyOne(psd, digests, sumErr, opt)
		s.Nested = nested
		out = append(out, s)
		if sig == nil {
			return nil
		}
		more, err := nestedSignatures(sig.SignerInfo)
		if err != nil {
			last := &out[len(out)-1]
			last.Problems = append(last.Problems, err.Error())
			last.Valid = false
		}
		for _, n := range more {
			if err := walk(n, true, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(psd, false, 0); err != nil {
		return nil, sums(files, fileStreams), err
	}
	return out, sums(files, fileStreams), nil
}

// signatureBlob reads the signature from the header reserve, with bounds
// checked against the file before anything is allocated.
func signatureBlob(r io.ReaderAt, size int64) ([]byte, error) {
	var h [36 + 4 + 20]byte
	n, err := r.ReadAt(h[:], 0)
	if n < 36 || string(h[:4]) != "MSCF" {
		return nil, fmt.Errorf("not a cabinet (%v)", err)
	}
	const flagReserve = 4
	if binary.LittleEndian.Uint16(h[30:])&flagReserve == 0 || n < len(h) {
		return nil, ErrNotSigned
	}
	if hres := binary.LittleEndian.Uint16(h[36:]); hres != 20 {
		if hres == 0 {
			return nil, ErrNotSigned
		}
		return nil, fmt.Errorf("cabinet byte 36: a header reserve of %d bytes is not an Authenticode signature header (20 bytes)", hres)
	}
	var sh signatureHeader
	binary.Read(bytes.NewReader(h[40:]), binary.LittleEndian, &sh)
	if sh.SignatureSize == 0 {
		return nil, ErrNotSigned
	}
	// The bytes Authenticode leaves out of its digest must hold the values
	// signing tools write (reserved1 0, cabinet index 0, the signature
	// header's first word 0x00100000 and fourth 0): otherwise they could
	// change unnoticed.
	le := binary.LittleEndian
	switch {
	case le.Uint32(h[4:]) != 0:
		return nil, errors.New("cabinet bytes 4-7 (reserved) are not zero: the file was altered")
	case le.Uint16(h[34:]) != 0:
		return nil, errors.New("cabinet bytes 34-35 (cabinet index) are not zero: the file was altered")
	case sh.Unknown1 != 0x00100000 || sh.Unknown2 != 0:
		return nil, errors.New("cabinet bytes 40-43 or 52-55 (signature header) do not hold the values signing tools write: the file was altered")
	}
	cabSize := int64(binary.LittleEndian.Uint32(h[8:]))
	end := int64(sh.CabinetSize) + int64(sh.SignatureSize)
	switch {
	case int64(sh.CabinetSize) != cabSize:
		return nil, fmt.Errorf("cabinet byte 44: the signature header says the cabinet has %d bytes, the cabinet header %d: the file was altered", sh.CabinetSize, cabSize)
	case end > size:
		return nil, fmt.Errorf("cabinet byte 48: the signature (%d bytes at %d) runs past the end of the %d-byte file: it is truncated", sh.SignatureSize, sh.CabinetSize, size)
	case end < size:
		return nil, fmt.Errorf("cabinet byte %d: %d bytes follow the signature: the file was altered", end, size-end)
	}
	blob := make([]byte, sh.SignatureSize)
	if _, err := r.ReadAt(blob, int64(sh.CabinetSize)); err != nil {
		return nil, fmt.Errorf("reading the signature: %w", err)
	}
	return blob, nil
}

var hashNames = map[crypto.Hash]string{crypto.MD5: "md5", crypto.SHA1: "sha1", crypto.SHA256: "sha256", crypto.SHA384: "sha384", crypto.SHA512: "sha512"}

// verifyOne checks one SignedData against the cabinet digests.
func verifyOne(psd *pkcs7.ContentInfoSignedData, sums map[crypto.Hash][]byte, sumErr error, opt Options) (Signature, *pkcs7.Signature) {
	s := Signature{Chain: []string{}, Problems: []string{}}
	fail := func(format string, args ...any) {
		s.Problems = append(s.Problems, fmt.Sprintf(format, args...))
	}
	if !psd.Content.ContentInfo.ContentType.Equal(oidSpcIndirectDataContent) {
		fail("the signed content is not Authenticode (SpcIndirectDataContent)")
		return s, nil
	}
	indirect := new(spcIndirectDataContent)
	if err := psd.Content.ContentInfo.Unmarshal(indirect); err != nil {
		fail("the signed content cannot be read: %v", err)
		return s, nil
	}
	hash, err := x509tools.PkixDigestToHashE(indirect.MessageDigest.DigestAlgorithm)
	if err != nil {
		fail("unknown digest algorithm: %v", err)
		return s, nil
	}
	s.DigestAlgorithm = hashNames[hash]
	sig, err := psd.Content.Verify(nil, false)
	if sig.Certificate != nil {
		s.Signer, s.Issuer = sig.Certificate.Subject.CommonName, sig.Certificate.Issuer.CommonName
		s.Serial = fmt.Sprintf("%x", sig.Certificate.SerialNumber)
	}
	if err != nil {
		fail("the signer's signature does not verify: %v", err)
		return s, nil
	}
	s.SignatureValid = true
	for _, p := range strictness(psd, &sig, indirect) {
		fail("%s", p)
	}

	want := sums[hash]
	switch {
	case sumErr != nil:
		fail("the cabinet cannot be digested: %v", sumErr)
	case want == nil:
		fail("the cabinet cannot be digested with %v: the hash is not available", hash)
	}
	if want != nil {
		if hmac.Equal(want, indirect.MessageDigest.Digest) {
			s.DigestMatches = true
		} else {
			fail("the cabinet's %s digest %x does not match the signed digest %x: the file was altered after signing", s.DigestAlgorithm, want, indirect.MessageDigest.Digest)
		}
	}

	ts, err := pkcs9.VerifyOptionalTimestamp(sig)
	if err != nil {
		fail("the timestamp does not verify: %v", err)
	}
	at := opt.Now
	if cs := ts.CounterSignature; cs != nil && err == nil {
		t := cs.SigningTime
		s.Timestamp = &t
		s.TimestampKind = "countersignature"
		if sig.SignerInfo.UnauthenticatedAttributes.Exists(pkcs9.OidAttributeTimeStampToken) || sig.SignerInfo.UnauthenticatedAttributes.Exists(pkcs9.OidSpcTimeStampToken) {
			s.TimestampKind = "rfc3161"
		}
		if _, _, err := verifyChain(cs.Certificate, append(cs.Intermediates, sig.Intermediates...), opt.Roots, t, x509.ExtKeyUsageTimeStamping); err != nil {
			fail("the timestamp's certificate chain does not verify: %v", err)
		} else {
			at = t
		}
	}
	chain, sha1Chain, err := verifyChain(sig.Certificate, sig.Intermediates, opt.Roots, at, x509.ExtKeyUsageCodeSigning)
	if err != nil {
		fail("the signer's certificate chain does not verify: %v", err)
	} else {
		s.ChainValid, s.SHA1Chain = true, sha1Chain
		for _, c := range chain {
			s.Chain = append(s.Chain, c.Subject.CommonName)
		}
	}
	s.Valid = s.SignatureValid && s.DigestMatches && s.ChainValid && len(s.Problems) == 0
	return s, &sig
}

// Summary is one line per signature for people.
func (s Signature) Summary() string {
	var b strings.Builder
	kind := "signature"
	if s.Nested {
		kind = "nested signature"
	}
	verdict := "VALID"
	if !s.Valid {
		verdict = "INVALID"
	}
	fmt.Fprintf(&b, "%s %s (%s) by %q", verdict, kind, s.DigestAlgorithm, s.Signer)
	if s.Timestamp != nil {
		fmt.Fprintf(&b, ", timestamped %s (%s)", s.Timestamp.UTC().Format(time.RFC3339), s.TimestampKind)
	} else {
		b.WriteString(", no timestamp")
	}
	if len(s.Chain) > 0 {
		fmt.Fprintf(&b, ", chain %s", strings.Join(s.Chain, " > "))
	}
	for _, p := range s.Problems {
		fmt.Fprintf(&b, "\n    %s", p)
	}
	return b.String()
}

// The unauthenticated attributes a genuine signature carries: timestamps
// (RFC 3161 and Microsoft's), a legacy countersignature, nested signatures.
// Anything else, or a known one altered into an unknown one, is refused:
// those bytes are covered by no signature.
var knownUnsigned = []asn1.ObjectIdentifier{
	pkcs9.OidAttributeTimeStampToken, pkcs9.OidSpcTimeStampToken, pkcs9.OidAttributeCounterSign, oidNestedSignature,
}

// strictness checks the parts of a SignedData that no signature covers, so
// that a change to them is noticed.
func strictness(psd *pkcs7.ContentInfoSignedData, sig *pkcs7.Signature, indirect *spcIndirectDataContent) []string {
	var out []string
	sd := &psd.Content
	si := sig.SignerInfo
	if !psd.ContentType.Equal(pkcs7.OidSignedData) {
		out = append(out, fmt.Sprintf("the signature's content type is %v, not PKCS#7 signed data", psd.ContentType))
	}
	if sd.Version != 1 || si.Version != 1 || len(sd.SignerInfos) != 1 {
		out = append(out, fmt.Sprintf("signed data version %d, signer version %d, %d signers: Authenticode has version 1 and one signer", sd.Version, si.Version, len(sd.SignerInfos)))
	}
	alg := si.DigestAlgorithm.Algorithm
	if len(sd.DigestAlgorithmIdentifiers) != 1 || !sd.DigestAlgorithmIdentifiers[0].Algorithm.Equal(alg) || !indirect.MessageDigest.DigestAlgorithm.Algorithm.Equal(alg) {
		out = append(out, "the digest algorithms of the signed data, the signer and the signed content disagree")
	}
	for _, a := range append(slices.Clone(sd.DigestAlgorithmIdentifiers), si.DigestAlgorithm, si.DigestEncryptionAlgorithm, indirect.MessageDigest.DigestAlgorithm) {
		if !isNull(a.Parameters) {
			out = append(out, fmt.Sprintf("algorithm %v has parameters other than NULL", a.Algorithm))
			break
		}
	}
	// The signer's own encoding must re-encode to the same bytes (its
	// unsigned attributes are covered by no signature).
	plain := *si
	plain.RawContent = nil
	if der, err := asn1.Marshal(plain); err != nil || !bytes.Equal(der, si.RawContent) {
		out = append(out, "the signer information is not canonical DER: it was altered")
	}
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}
	if rest, err := asn1.Unmarshal(sd.ContentInfo.Raw, &ci); err != nil || len(rest) > 0 || ci.Content.Class != asn1.ClassContextSpecific || ci.Content.Tag != 0 || !ci.Content.IsCompound {
		out = append(out, "the signed content is not wrapped as [0] EXPLICIT: it was altered")
	}
	if c := sig.Certificate; c != nil {
		if !bytes.Equal(si.IssuerAndSerialNumber.IssuerName.FullBytes, c.RawIssuer) || si.IssuerAndSerialNumber.SerialNumber.Cmp(c.SerialNumber) != 0 {
			out = append(out, "the signer's issuer and serial number do not match its certificate")
		}
	}
	for _, a := range si.UnauthenticatedAttributes {
		known := false
		for _, k := range knownUnsigned {
			known = known || a.Type.Equal(k)
		}
		if !known {
			out = append(out, fmt.Sprintf("an unsigned attribute of unknown type %v: it is covered by no signature", a.Type))
		}
	}
	certs, err := sd.Certificates.Parse()
	if err != nil {
		out = append(out, fmt.Sprintf("an included certificate cannot be read: %v", err))
	}
	for _, c := range certs {
		if !signedByAny(c, certs) {
			out = append(out, fmt.Sprintf("the included certificate %q is not signed by any certificate the signature carries: it was altered", c.Subject.CommonName))
		}
	}
	return out
}

// signedByAny reports whether c is signed by a certificate in set (itself
// included, for a self-signed root), or names an issuer not in the set.
func signedByAny(c *x509.Certificate, set []*x509.Certificate) bool {
	seen := false
	for _, p := range set {
		if !bytes.Equal(p.RawSubject, c.RawIssuer) {
			continue
		}
		seen = true
		if _, err := checkSignature(p, c); err == nil {
			return true
		}
	}
	return !seen
}

// nestedSignatures reads the nested signatures of a signer, each required
// to be canonical DER: a nested signature that does not parse is an
// alteration, not an absence.
func nestedSignatures(si *pkcs7.SignerInfo) ([]*pkcs7.ContentInfoSignedData, error) {
	var out []*pkcs7.ContentInfoSignedData
	for _, a := range si.UnauthenticatedAttributes {
		if !a.Type.Equal(oidNestedSignature) {
			continue
		}
		if a.Values.Class != asn1.ClassUniversal || a.Values.Tag != asn1.TagSet {
			return out, errors.New("the nested signature attribute is not a SET: it was altered")
		}
		rest := a.Values.Bytes
		for len(rest) > 0 {
			var rv asn1.RawValue
			var err error
			if rest, err = asn1.Unmarshal(rest, &rv); err != nil {
				return out, fmt.Errorf("a nested signature cannot be read: it was altered (%v)", err)
			}
			n, err := pkcs7.Unmarshal(rv.FullBytes)
			if err != nil {
				return out, fmt.Errorf("a nested signature cannot be read: it was altered (%v)", err)
			}
			if der, err := n.Marshal(); err != nil || !bytes.Equal(der, rv.FullBytes) {
				return out, errors.New("a nested signature is not canonical DER: it was altered")
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// isNull reports whether algorithm parameters are absent or NULL.
func isNull(p asn1.RawValue) bool {
	return len(p.FullBytes) == 0 || bytes.Equal(p.FullBytes, []byte{asn1.TagNull, 0})
}

// digestHashes lists the hashes the signature and its nested signatures
// name (each once, available ones only).
func digestHashes(psd *pkcs7.ContentInfoSignedData) []crypto.Hash {
	var hs []crypto.Hash
	todo := []*pkcs7.ContentInfoSignedData{psd}
	for depth := 0; len(todo) > 0 && depth < 5; depth++ {
		var next []*pkcs7.ContentInfoSignedData
		for _, p := range todo {
			indirect := new(spcIndirectDataContent)
			if p.Content.ContentInfo.Unmarshal(indirect) == nil {
				if h, err := x509tools.PkixDigestToHashE(indirect.MessageDigest.DigestAlgorithm); err == nil && h.Available() && !slices.Contains(hs, h) {
					hs = append(hs, h)
				}
			}
			for i := range p.Content.SignerInfos {
				n, _ := nestedSignatures(&p.Content.SignerInfos[i])
				next = append(next, n...)
			}
		}
		todo = next
	}
	return hs
}

// Genuine reports whether a file's verification found it genuine: signed,
// and every signature valid and chained to a trusted root.
func Genuine(sigs []Signature, err error) bool {
	if len(sigs) == 0 || err != nil {
		return false
	}
	for _, s := range sigs {
		if !s.Valid {
			return false
		}
	}
	return true
}
