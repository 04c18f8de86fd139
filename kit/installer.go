package kit

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"text/template"
)

// InstallerName and HasherName are the two scripts a kit carries next to
// kit.json.
const (
	InstallerName = "install.cmd"
	HasherName    = "kbplan-sha256.js"
	ManifestName  = "kit.json"
)

//go:embed install.cmd.tmpl
var installTemplate string

//go:embed kbplan-sha256.js
var hasher []byte

// installCmd is parsed on first use, not when any kbplan command starts.
var installCmd = sync.OnceValue(func() *template.Template {
	return template.Must(template.New(InstallerName).Parse(installTemplate))
})

// Hasher returns kbplan-sha256.js, the SHA-256 for Windows Script Host
// that install.cmd falls back on (docs/kit.md), with CRLF line ends.
func Hasher() []byte { return crlf(hasher) }

// processorArch is %PROCESSOR_ARCHITECTURE% for a manifest architecture.
var processorArch = map[string]string{"x64": "AMD64", "x86": "x86", "ia64": "IA64"}

// Installer returns install.cmd for m: plain cmd for a stock 2008 SP2,
// with m's host, steps and SHA-256 written into it (cmd cannot read JSON),
// CRLF line ends. It refuses values cmd could not carry safely.
func Installer(m Manifest) ([]byte, error) {
	arch, ok := processorArch[m.Host.Architecture]
	if !ok {
		return nil, fmt.Errorf("install.cmd: the host's architecture %q is not x86, x64 or ia64", m.Host.Architecture)
	}
	if err := cmdSafe("host name", m.Host.Hostname, false); err != nil {
		return nil, err
	}
	if m.Host.Build <= 0 {
		return nil, fmt.Errorf("install.cmd: the host's build is unknown; it is what install.cmd checks before it starts: use an inventory that names it (systeminfo, ver or a collector bundle)")
	}
	type step struct {
		Step
		WinFile string
	}
	data := struct {
		Manifest
		Arch     string
		MaxBoots int
		Steps    []step
	}{Manifest: m, Arch: arch, MaxBoots: 2*len(m.Steps) + 2}
	for _, s := range m.Steps {
		if err := cmdSafe("file name", s.File, true); err != nil {
			return nil, err
		}
		if err := cmdSafe("KB", s.KB, false); err != nil {
			return nil, err
		}
		if len(s.SHA256) != 64 || strings.Trim(s.SHA256, "0123456789abcdef") != "" {
			return nil, fmt.Errorf("install.cmd: step %d (%s): SHA-256 %q is not 64 lower-case hex digits", s.Order, s.KB, s.SHA256)
		}
		if s.Installer != "wusa" && s.Installer != "pkgmgr" {
			return nil, fmt.Errorf("install.cmd: step %d (%s): installer %q is not wusa or pkgmgr", s.Order, s.KB, s.Installer)
		}
		data.Steps = append(data.Steps, step{Step: s, WinFile: strings.ReplaceAll(s.File, "/", `\`)})
	}
	// Product and Created only go into comments, but a line break there
	// would end the comment.
	data.Host.Product = strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, data.Host.Product)
	var b bytes.Buffer
	if err := installCmd().Execute(&b, data); err != nil {
		return nil, err
	}
	return crlf(b.Bytes()), nil
}

// cmdSafe accepts what cmd can carry inside quotes and compare literally:
// letters, digits, '-', '_', '.', and with path also '/'. Host names,
// KB numbers and the kit's own file names (see kitName) all fit.
func cmdSafe(what, v string, path bool) error {
	if v == "" {
		return fmt.Errorf("install.cmd: the %s is empty", what)
	}
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		case path && r == '/':
		default:
			return fmt.Errorf("install.cmd: the %s %q holds %q, which cmd cannot compare safely", what, v, r)
		}
	}
	for _, part := range strings.Split(v, "/") {
		if reservedName(part) {
			return fmt.Errorf("install.cmd: the %s %q is a reserved device name on Windows (%s): a file of that name cannot be made, and opening it opens the device", what, v, part)
		}
		if part == "" || strings.Trim(part, ".") == "" || strings.HasSuffix(part, ".") {
			return fmt.Errorf("install.cmd: the %s %q has an empty, dot-only or dot-ended part, which Windows strips or refuses", what, v)
		}
	}
	return nil
}

// reservedName reports whether a file name is a DOS device name, with any
// extension (CON, CON.msu, nul.txt, COM1, LPT9, CONIN$...): Microsoft,
// "Naming Files, Paths, and Namespaces".
func reservedName(name string) bool {
	base, _, _ := strings.Cut(strings.ToUpper(name), ".")
	base = strings.TrimRight(base, " ")
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) && base[3] >= '0' && base[3] <= '9' {
		return true
	}
	return false
}

// crlf gives b Windows line ends (cmd's label jumps misbehave on LF-only
// files).
func crlf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}
