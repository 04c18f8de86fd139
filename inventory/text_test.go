package inventory

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDetectEncoding encodes texts the way 2008 boxes write them and
// checks that the encoding is found and the text comes back intact.
func TestDetectEncoding(t *testing.T) {
	ru := "Имя узла:                         SRV-MED-01\r\nНазвание ОС:                      Microsoft Windows Server 2008 Standard\r\nВерсия ОС:                        6.0.6003 Service Pack 2 построение 6003\r\nЯзык системы:                     ru;Русский\r\n"
	de := "Hostname:                                      OLI7-PC\r\nBetriebssystemkonfiguration:                   Eigenständiger Server\r\nUrsprüngliches Installationsdatum:             15.06.2016\r\nVerfügbarer physikalischer Speicher:           12.840 MB\r\nSystemgebietsschema:                           de;Deutsch (Deutschland)\r\n"
	fr := "Nom de l'hôte:                              WIN-IDKKFN87EL8\r\nVersion du système:                         6.0.6002 Service Pack 2 version 6002\r\nPropriétaire enregistré:                    Utilisateur Windows\r\nOption régionale du système:                fr;Français (France)\r\n"
	cs := "Název hostitele:    PRAHA-01\r\nPoznámka:           Příliš žluťoučký kůň úpěl ďábelské ódy\r\nMístní nastavení:   cs;Čeština\r\n"
	zh := "主机名:           DESKTOP-0CQH3P2\r\nOS 名称:          Microsoft Windows Server 2008 标准版\r\n系统区域设置:     zh-cn;中文(中国)\r\n"
	tw := "主機名稱:         TPE-01\r\n作業系統名稱:     Microsoft Windows Server 2008 標準版\r\n系統地區設定:     zh-tw;中文(台灣)\r\n"
	ja := "ホスト名:         TOKYO-01\r\nOS 名:            Microsoft Windows Server 2008 Standard\r\nシステム ロケール: ja;日本語\r\n"
	ko := "호스트 이름:      SEOUL-01\r\nOS 이름:          Microsoft Windows Server 2008 Standard\r\n시스템 로캘:      ko;한국어\r\n"
	tests := []struct {
		name string
		text string
		enc  Encoding
		bom  []byte
	}{
		{"utf-8", ru, UTF8, nil},
		{"utf-8 BOM", ru, UTF8, []byte{0xEF, 0xBB, 0xBF}},
		{"utf-16le BOM", ru, UTF16LE, []byte{0xFF, 0xFE}},
		{"utf-16le no BOM", ru, UTF16LE, nil},
		{"utf-16be BOM", de, UTF16BE, []byte{0xFE, 0xFF}},
		{"utf-16be no BOM", de, UTF16BE, nil},
		{"cp866 Russian", ru, CP866, nil},
		{"cp1251 Russian", ru, CP1251, nil},
		{"cp850 German", de, CP850, nil},
		{"cp1252 German", de, CP1252, nil},
		{"cp850 French", fr, CP850, nil},
		{"cp1252 French", fr, CP1252, nil},
		{"cp852 Czech", cs, CP852, nil},
		{"cp1250 Czech", cs, CP1250, nil},
		{"cp437 English", "Host Name: A\r\nNote: caf\u00e9 \u00e9t\u00e9 \u00fcber\r\n", CP437, nil},
		{"cp936 Chinese", zh, CP936, nil},
		{"cp950 Chinese", tw, CP950, nil},
		{"cp932 Japanese", ja, CP932, nil},
		{"cp949 Korean", ko, CP949, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var raw []byte
			if c, ok := codecs[tc.enc]; ok {
				b, err := c.NewEncoder().Bytes([]byte(tc.text))
				if err != nil {
					t.Fatal(err)
				}
				raw = b
			} else {
				raw = []byte(tc.text)
			}
			raw = append(append([]byte{}, tc.bom...), raw...)
			enc, bom := DetectEncoding(raw)
			// cp437 and cp850 agree on these letters; either decodes the text.
			if enc != tc.enc && !(tc.enc == CP437 && enc == CP850) {
				t.Fatalf("detected %s, want %s", enc, tc.enc)
			}
			var b strings.Builder
			lines := NewLines(Decoder(strings.NewReader(string(raw[bom:])), enc))
			for {
				l, ok := lines.Next()
				if !ok {
					break
				}
				b.WriteString(l.Text + "\r\n")
			}
			want := strings.ReplaceAll(tc.text, "\r\n", "\n")
			got := strings.ReplaceAll(b.String(), "\r\n", "\n")
			if got != trimLines(want) {
				t.Errorf("decoded text differs:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func trimLines(s string) string {
	ls := strings.Split(s, "\n")
	for i := range ls {
		ls[i] = strings.TrimRight(ls[i], " ")
	}
	return strings.Join(ls, "\n")
}

func TestLinesCleaning(t *testing.T) {
	in := "> Host Name:    A   \r\n> OS Name:      B\u00a0\r\n>\r\n> Hotfix(s):    1\r\n"
	lines := NewLines(strings.NewReader(in))
	head := lines.Head(10)
	var got []string
	for _, l := range head {
		got = append(got, l.Text)
	}
	want := []string{"Host Name:    A", "OS Name:      B", "", "Hotfix(s):    1"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	if lines.Prefix() != "> " {
		t.Errorf("prefix %q", lines.Prefix())
	}
}

func TestLongLineIsCut(t *testing.T) {
	in := strings.Repeat("x", MaxLineLen*3) + "\nnext\n"
	lines := NewLines(strings.NewReader(in))
	l, _ := lines.Next()
	if len(l.Text) != MaxLineLen {
		t.Errorf("first line has %d bytes, want %d", len(l.Text), MaxLineLen)
	}
	l, _ = lines.Next()
	if l.Text != "next" || l.Num != 2 || lines.Cut != 1 {
		t.Errorf("after a cut line: %+v, cut %d", l, lines.Cut)
	}
}

func TestNormalizeKB(t *testing.T) {
	tests := map[string]string{"KB955430": "KB955430", "kb955430": "KB955430", "955430": "KB955430",
		" KB0123 ": "KB123", "Q147222": "KB147222", "File 1": "", "{7A068575-C5DB-43D9-BE20-3895D0C69B17}": "", "KB": "", "KB123456789": "",
		"KB925398_WMP64": "KB925398", "KB2894844-v2": "KB2894844", "KB123_": "", "KB12_3$": "", "7A068575-C5DB": "", "Q": "", "QFE": ""}
	for in, want := range tests {
		got, ok := NormalizeKB(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeKB(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestHotfixesAsListed: the forms that differ from the KB they name are
// kept as listed, once each; plain forms are not.
func TestHotfixesAsListed(t *testing.T) {
	var h Host
	for _, id := range []string{"KB925398_WMP64", "kb925398", "KB2894844-v2", "Q147222", "955430", "KB955430", "KB925398_WMP64"} {
		h.AddHotfix(id)
	}
	h.Finish()
	if got := strings.Join(h.Hotfixes, " "); got != "KB147222 KB925398 KB955430 KB2894844" {
		t.Errorf("hotfixes %s", got)
	}
	if got := strings.Join(h.HotfixesAsListed, " "); got != "KB925398_WMP64 KB2894844-v2 Q147222" {
		t.Errorf("as listed %s", got)
	}
	if kb, ok := FindKB("Update for Windows Media Player (KB925398_WMP64)"); !ok || kb != "KB925398" {
		t.Errorf("FindKB: %s %v", kb, ok)
	}
}

func TestCleanOSName(t *testing.T) {
	tests := []struct{ in, name, product, edition, arch string }{
		{"Microsoftr Windows Serverr 2008 Standard ", "Microsoft Windows Server 2008 Standard", "Windows Server 2008", "Standard", ""},
		{"Microsoft® Windows Server® 2008 Enterprise without Hyper-V", "Microsoft Windows Server 2008 Enterprise without Hyper-V", "Windows Server 2008", "Enterprise", ""},
		{"Microsoftr Windows VistaT Business", "Microsoft Windows Vista Business", "Windows Vista", "Business", ""},
		{"Microsoft Windows Vista™ Home Premium", "Microsoft Windows Vista Home Premium", "Windows Vista", "Home Premium", ""},
		{"Microsoftr Windows Web Serverr 2008 ", "Microsoft Windows Web Server 2008", "Windows Server 2008", "Web", ""},
		{"Microsoft Windows Server 2008 for Itanium-based Systems", "Microsoft Windows Server 2008 for Itanium-based Systems", "Windows Server 2008", "Itanium", "ia64"},
		{"Windows Server (R) 2008 Datacenter", "Windows Server 2008 Datacenter", "Windows Server 2008", "Datacenter", ""},
		{"Майкрософт Windows Server 2012 R2 Стандартная", "Microsoft Windows Server 2012 R2 Стандартная", "Windows Server 2012 R2", "", ""},
		{"Microsoft Windows Server 2008 R2 Standard ", "Microsoft Windows Server 2008 R2 Standard", "Windows Server 2008 R2", "Standard", ""},
		{"Microsoft Windows Small Business Server 2008 Premium", "Microsoft Windows Small Business Server 2008 Premium", "Windows Server 2008", "Small Business", ""},
	}
	for _, tc := range tests {
		var h Host
		h.ApplyOSName(tc.in)
		if h.OS.Name != tc.name || h.OS.Product != tc.product || h.OS.Edition != tc.edition || h.OS.Architecture != tc.arch {
			t.Errorf("ApplyOSName(%q) = %+v", tc.in, h.OS)
		}
	}
}

// TestKeepIsBounded: the lines kept for a second reading stop at their
// bounds, and say so, whatever the input's size.
func TestKeepIsBounded(t *testing.T) {
	in := strings.Repeat(strings.Repeat("x", 1000)+"\n", 100)
	ls := NewLines(strings.NewReader(in))
	ls.Keep(1000, 50_000)
	n := 0
	for _, ok := ls.Next(); ok; _, ok = ls.Next() {
		n++
	}
	if n != 100 || !ls.Overflow || ls.Kept != nil {
		t.Errorf("read %d lines, overflow %v, kept %d", n, ls.Overflow, len(ls.Kept))
	}
	ls = NewLines(strings.NewReader("a\nb\n"))
	ls.Keep(10, 100)
	for _, ok := ls.Next(); ok; _, ok = ls.Next() {
	}
	if ls.Overflow || len(ls.Kept) != 2 {
		t.Errorf("small input: overflow %v, kept %d", ls.Overflow, len(ls.Kept))
	}
}

// TestByteTablesAgreeWithDecoding: guessLegacy scores a single-byte code
// page from a table of each byte's character class; that must be what
// decoding the bytes and scoring the text gives, byte by byte and for
// whole samples (every legacy page, on text of each script).
func TestByteTablesAgreeWithDecoding(t *testing.T) {
	samples := [][]byte{[]byte("Имя узла: SRV\r\nЯзык системы: ru;Русский\r\n"), []byte("Ursprüngliches Installationsdatum: café ÉTÉ Příliš žluťoučký\r\n")}
	var all []byte
	for b := 0x80; b < 0x100; b++ {
		all = append(all, byte(b), 'a', byte(b), byte(b))
	}
	for _, enc := range legacy {
		table := byteTables[enc]
		if table == nil {
			continue
		}
		for b := range 256 {
			text, err := codecs[enc].NewDecoder().Bytes([]byte{byte(b)})
			if err != nil {
				t.Fatalf("%s: byte %#x: %v", enc, b, err)
			}
			r, _ := utf8.DecodeRune(text)
			if got, want := table()[b], classify(r); got != want {
				t.Errorf("%s: byte %#x (%U): class %b, decoding gives %b", enc, b, r, got, want)
			}
		}
		for _, s := range append(samples, all) {
			raw, err := codecs[enc].NewEncoder().Bytes(s)
			if err != nil {
				raw = s // not encodable in this page: score the bytes as they are
			}
			text, _ := codecs[enc].NewDecoder().Bytes(raw)
			if got, want := scoreBytes(raw, table()), wordScore(string(text)); got != want {
				t.Errorf("%s: %q scores %d from the table, %d decoded", enc, s, got, want)
			}
		}
	}
}
