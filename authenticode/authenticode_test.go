package authenticode

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sassoftware/relic/v7/lib/cabfile"

	"github.com/kbplan/kbplan/internal/pkgtest"
)

func sh(t testing.TB, dir string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(pkgtest.Tool(t, name), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// fixtureSet is a throwaway CA, a code-signing certificate, a timestamp
// authority, and cabinets signed with them by osslsigncode.
type fixtureSet struct {
	dir     string
	roots   []*x509.Certificate
	tsaTime int64 // the timestamp osslsigncode's built-in TSA writes
}

var (
	fixOnce sync.Once
	fix     fixtureSet
	fixErr  string
)

// fixtures builds the signed cabinets once (openssl, gcab, osslsigncode).
func fixtures(t *testing.T) fixtureSet {
	t.Helper()
	for _, n := range []string{"openssl", "gcab", "osslsigncode"} {
		pkgtest.Tool(t, n)
	}
	fixOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kbplan-authenticode-")
		if err != nil {
			fixErr = err.Error()
			return
		}
		fix.dir = dir
		// Within the fresh certificates' validity.
		fix.tsaTime = time.Now().Unix() + 60
		w := func(name, body string) { os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644) }
		w("ca.cnf", "[req]\ndistinguished_name=dn\n[dn]\n[v3_ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"+
			"[leaf]\nbasicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"+
			"[tsa]\nbasicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
		steps := [][]string{
			{"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
				"-subj", "/CN=kbplan Test Root CA", "-config", "ca.cnf", "-extensions", "v3_ca"},
			{"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=kbplan Test Code Signing"},
			{"openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem",
				"-days", "3650", "-extfile", "ca.cnf", "-extensions", "leaf"},
			{"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=kbplan Test Timestamp Authority"},
			{"openssl", "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "tsa.pem",
				"-days", "3650", "-extfile", "ca.cnf", "-extensions", "tsa"},
		}
		w("update.mum", strings.Repeat("<assembly>kbplan test package</assembly>\r\n", 2000))
		w("payload.bin", strings.Repeat("\x00\x01\x02kbplan", 50000))
		steps = append(steps,
			[]string{"gcab", "-c", "-z", "plain.cab", "update.mum", "payload.bin"},
			[]string{"osslsigncode", "sign", "-certs", "leaf.pem", "-key", "leaf.key", "-h", "sha1", "-in", "plain.cab", "-out", "sha1.cab"},
			[]string{"osslsigncode", "sign", "-certs", "leaf.pem", "-key", "leaf.key", "-h", "sha256", "-in", "plain.cab", "-out", "sha256.cab"},
			[]string{"osslsigncode", "sign", "-certs", "leaf.pem", "-key", "leaf.key", "-h", "sha256", "-nest", "-in", "sha1.cab", "-out", "dual.cab"},
			[]string{"osslsigncode", "sign", "-certs", "leaf.pem", "-key", "leaf.key", "-h", "sha256", "-in", "plain.cab", "-out", "stamped.cab",
				"-TSA-certs", "tsa.pem", "-TSA-key", "tsa.key", "-TSA-time", strconv.FormatInt(fix.tsaTime, 10)},
		)
		for _, s := range steps {
			cmd := exec.Command(s[0], s[1:]...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				fixErr = strings.Join(s, " ") + ": " + err.Error() + "\n" + string(out)
				return
			}
		}
		b, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
		fix.roots, _ = ParseRoots(b)
	})
	if fixErr != "" {
		t.Fatal(fixErr)
	}
	return fix
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fix.dir != "" {
		os.RemoveAll(fix.dir)
	}
	os.Exit(code)
}

func verifyFile(t *testing.T, path string, opt Options) ([]Signature, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return VerifyCab(bytes.NewReader(b), int64(len(b)), opt)
}

func TestVerify(t *testing.T) {
	f := fixtures(t)
	type want struct {
		alg       string
		nested    bool
		valid     bool
		timestamp bool
	}
	tests := []struct {
		file  string
		roots []*x509.Certificate
		want  []want
	}{
		{"sha1.cab", f.roots, []want{{"sha1", false, true, false}}},
		{"sha256.cab", f.roots, []want{{"sha256", false, true, false}}},
		{"dual.cab", f.roots, []want{{"sha1", false, true, false}, {"sha256", true, true, false}}},
		{"stamped.cab", f.roots, []want{{"sha256", false, true, true}}},
		// Not chained to a Microsoft root: signed, but not genuine.
		{"sha256.cab", nil, []want{{"sha256", false, false, false}}},
	}
	for _, tc := range tests {
		name := tc.file
		if tc.roots == nil {
			name += "-microsoft-roots"
		}
		t.Run(name, func(t *testing.T) {
			sigs, err := verifyFile(t, filepath.Join(f.dir, tc.file), Options{Roots: tc.roots})
			if err != nil {
				t.Fatal(err)
			}
			if len(sigs) != len(tc.want) {
				t.Fatalf("%d signatures, want %d: %+v", len(sigs), len(tc.want), sigs)
			}
			for i, w := range tc.want {
				s := sigs[i]
				if s.DigestAlgorithm != w.alg || s.Nested != w.nested || s.Valid != w.valid || (s.Timestamp != nil) != w.timestamp {
					t.Errorf("signature %d: %s", i, s.Summary())
				}
				if s.Signer != "kbplan Test Code Signing" || !s.DigestMatches || !s.SignatureValid {
					t.Errorf("signature %d: %+v", i, s)
				}
				if w.valid && (len(s.Chain) != 2 || s.Chain[1] != "kbplan Test Root CA") {
					t.Errorf("chain %v", s.Chain)
				}
				if !w.valid && !strings.Contains(strings.Join(s.Problems, " "), "chain") {
					t.Errorf("problems %v should name the chain", s.Problems)
				}
			}
			if tc.file == "stamped.cab" {
				if got := sigs[0].Timestamp.Unix(); got != f.tsaTime || sigs[0].TimestampKind != "rfc3161" {
					t.Errorf("timestamp %v (%s), want %d (rfc3161)", sigs[0].Timestamp, sigs[0].TimestampKind, f.tsaTime)
				}
			}
		})
	}
}

// TestAgreesWithOsslsigncode: osslsigncode verify, the peer, gives the same
// verdict on every fixture.
func TestAgreesWithOsslsigncode(t *testing.T) {
	f := fixtures(t)
	for _, file := range []string{"sha1.cab", "sha256.cab", "dual.cab", "stamped.cab", "plain.cab"} {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join(f.dir, file)
			peer := exec.Command("osslsigncode", "verify", "-CAfile", filepath.Join(f.dir, "ca.pem"), "-TSA-CAfile", filepath.Join(f.dir, "ca.pem"), "-in", path)
			out, perr := peer.CombinedOutput()
			sigs, err := verifyFile(t, path, Options{Roots: f.roots})
			ours := err == nil
			for _, s := range sigs {
				ours = ours && s.Valid
			}
			if ours != (perr == nil) {
				t.Errorf("kbplan says valid=%v (%v), osslsigncode says %v:\n%s", ours, err, perr, out)
			}
		})
	}
}

// TestTamper flips bytes all over signed cabinets: every change must make
// verification fail, and say what no longer matches.
func TestTamper(t *testing.T) {
	f := fixtures(t)
	for _, file := range []string{"sha256.cab", "dual.cab"} {
		orig, _ := os.ReadFile(filepath.Join(f.dir, file))
		step := len(orig) / 150
		for at := 0; at < len(orig); at += step {
			bad := bytes.Clone(orig)
			bad[at] ^= 0x01
			sigs, err := VerifyCab(bytes.NewReader(bad), int64(len(bad)), Options{Roots: f.roots})
			if err != nil {
				continue // refused outright, with its reason
			}
			ok := len(sigs) > 0
			for _, s := range sigs {
				ok = ok && s.Valid
			}
			if ok {
				t.Errorf("%s: byte %d altered but every signature still verifies", file, at)
				continue
			}
			for _, s := range sigs {
				if !s.Valid && len(s.Problems) == 0 {
					t.Errorf("%s byte %d: invalid without a reason", file, at)
				}
			}
		}
	}
	// A digest mismatch names itself.
	orig, _ := os.ReadFile(filepath.Join(f.dir, "sha256.cab"))
	bad := bytes.Clone(orig)
	bad[len(bad)/3] ^= 0xff
	sigs, err := VerifyCab(bytes.NewReader(bad), int64(len(bad)), Options{Roots: f.roots})
	if err != nil || len(sigs) != 1 || !strings.Contains(strings.Join(sigs[0].Problems, " "), "altered after signing") {
		t.Errorf("digest mismatch not reported: %v %+v", err, sigs)
	}
}

func TestErrors(t *testing.T) {
	f := fixtures(t)
	plain, _ := os.ReadFile(filepath.Join(f.dir, "plain.cab"))
	signed, _ := os.ReadFile(filepath.Join(f.dir, "sha256.cab"))
	tests := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"unsigned", plain, ErrNotSigned, ""},
		{"not a cabinet", []byte("MZ this is not a cabinet at all, not even close....................."), nil, "not a cabinet"},
		{"truncated", signed[:len(signed)-10], nil, "truncated"},
		{"trailing bytes", append(bytes.Clone(signed), "junk"...), nil, "follow the signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyCab(bytes.NewReader(tc.data), int64(len(tc.data)), Options{Roots: f.roots})
			switch {
			case err == nil:
				t.Fatal("no error")
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("got %v, want %v", err, tc.want)
			case tc.msg != "" && !strings.Contains(err.Error(), tc.msg):
				t.Errorf("got %v, want %q", err, tc.msg)
			}
		})
	}
}

// TestBundledRoots: each bundled root is the certificate ROOTS.md names.
func TestBundledRoots(t *testing.T) {
	want := map[string]string{
		"Microsoft Root Certificate Authority 2010": "3b1efd3a66ea28b16697394703a72ca340a05bd5",
		"Microsoft Root Certificate Authority 2011": "8f43288ad272f3103b6fb1428485ea3014c0bcfe",
		"Microsoft Root Certificate Authority":      "cdd4eeae6000ac7f40c3802c171e30148030c072",
	}
	rest := microsoftRoots
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(c.Raw)
		if got := hex.EncodeToString(sum[:]); want[c.Subject.CommonName] != got {
			t.Errorf("%s: thumbprint %s, want %s", c.Subject.CommonName, got, want[c.Subject.CommonName])
		}
		if _, err := checkSignature(c, c); err != nil {
			t.Errorf("%s: self-signature: %v", c.Subject.CommonName, err)
		}
		n++
	}
	if n != len(want) {
		t.Errorf("%d roots, want %d", n, len(want))
	}
}

func FuzzVerifyCab(f *testing.F) {
	for _, p := range []string{"sha1.cab", "dual.cab", "stamped.cab"} {
		if fix.dir == "" {
			break
		}
		if b, err := os.ReadFile(filepath.Join(fix.dir, p)); err == nil {
			f.Add(b)
		}
	}
	if b, err := os.ReadFile("testdata/seed-dual.cab"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sigs, err := VerifyCab(bytes.NewReader(data), int64(len(data)), Options{})
		if err == nil {
			for _, s := range sigs {
				if s.Valid {
					t.Fatalf("a fuzzed cabinet verified against the Microsoft roots: %s", s.Summary())
				}
			}
		}
	})
}

// TestTamperEveryByte flips each byte of a small dual-signed cabinet (made
// once with gcab and osslsigncode, checked in with its test CA): no change
// may leave it verifying.
func TestTamperEveryByte(t *testing.T) {
	orig, err := os.ReadFile("testdata/seed-dual.cab")
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := os.ReadFile("testdata/seed-ca.pem")
	roots, err := ParseRoots(ca)
	if err != nil {
		t.Fatal(err)
	}
	// The seed's CA expires in 2036; verify as of a fixed date before that.
	opt := Options{Roots: roots, Now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	sigs, err := VerifyCab(bytes.NewReader(orig), int64(len(orig)), opt)
	if err != nil || len(sigs) != 2 || !sigs[0].Valid || !sigs[1].Valid {
		t.Fatalf("the untouched seed does not verify: %v %+v", err, sigs)
	}
	for at := range orig {
		bad := bytes.Clone(orig)
		bad[at] ^= 0x01
		sigs, err := VerifyCab(bytes.NewReader(bad), int64(len(bad)), opt)
		if err != nil {
			continue
		}
		ok := true
		reason := false
		for _, s := range sigs {
			ok = ok && s.Valid
			reason = reason || len(s.Problems) > 0
		}
		if ok || !reason {
			t.Errorf("byte %d altered: still valid=%v, reasons given=%v", at, ok, reason)
		}
	}
}

// TestDigestsMatchRelic: the one-pass digests equal relic's cabfile.Digest,
// hash by hash, on every signed fixture, and the file's own digests read in
// the same pass equal crypto/sha256 and crypto/sha1 of the whole file.
// inMemory is a ReaderAt whose bytes are in place, as a mapped file's are.
type inMemory struct {
	*bytes.Reader
	b []byte
}

func (m inMemory) Bytes() []byte { return m.b }

// TestDigestsMatchRelic: the digests from one read, through read calls or
// in place (a mapped file), are relic's and the file's own.
func TestDigestsMatchRelic(t *testing.T) {
	f := fixtures(t)
	files := []string{filepath.Join(f.dir, "sha1.cab"), filepath.Join(f.dir, "dual.cab"), filepath.Join(f.dir, "stamped.cab"), "testdata/seed-dual.cab"}
	readers := []struct {
		name string
		of   func([]byte) io.ReaderAt
	}{
		{"read", func(b []byte) io.ReaderAt { return bytes.NewReader(b) }},
		{"in place", func(b []byte) io.ReaderAt { return inMemory{bytes.NewReader(b), b} }},
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, rd := range readers {
			name := filepath.Base(file) + " " + rd.name
			hs := []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384}
			prefix, from, to, err := cabLayout(rd.of(b), int64(len(b)))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			auth, _ := newStreams(hs, prefix, from, to)
			whole, _ := newStreams([]crypto.Hash{crypto.SHA256, crypto.SHA1}, nil, 0, int64(len(b)))
			if err := hashRanges(rd.of(b), append(auth, whole...)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got := sums(hs, auth)
			file256, file1 := sha256.Sum256(b), sha1.Sum(b)
			if w := sums([]crypto.Hash{crypto.SHA256, crypto.SHA1}, whole); !bytes.Equal(w[crypto.SHA256], file256[:]) || !bytes.Equal(w[crypto.SHA1], file1[:]) {
				t.Errorf("%s: the file's digests %x %x, want %x %x", name, w[crypto.SHA256], w[crypto.SHA1], file256, file1)
			}
			_, fileSums, _ := VerifyCabAndHash(rd.of(b), int64(len(b)), Options{}, crypto.SHA256)
			if !bytes.Equal(fileSums[crypto.SHA256], file256[:]) {
				t.Errorf("%s: VerifyCabAndHash's file SHA-256 %x, want %x", name, fileSums[crypto.SHA256], file256)
			}
			for _, h := range hs {
				want, err := cabfile.Digest(bytes.NewReader(b), h)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got[h], want.Imprint) {
					t.Errorf("%s %v: %x, relic %x", name, h, got[h], want.Imprint)
				}
			}
		}
	}
}
