package assess

import (
	"testing"

	"github.com/kbplan/kbplan/inventory"
)

// TestJudgePackage: wusa.exe's checks in its order, on the frozen catalog.
func TestJudgePackage(t *testing.T) {
	c := frozen(t)
	bare := testHost(server, "Standard", "x64", 6002)
	withSHA2 := testHost(server, "Standard", "x64", 6003, "KB4493730", "KB4474419")
	sha2Inactive := withSHA2
	off := false
	sha2Inactive.Facts = &inventory.Facts{SHA2Active: &off}
	old := testHost(server, "Standard", "x64", 6003, "KB4474419")
	old.Facts = &inventory.Facts{CBSVersions: map[string]string{"KB4474419": "6.0.1.0"}}
	same := old
	same.Facts = &inventory.Facts{CBSVersions: map[string]string{"KB4474419": "6.0.4.1"}}
	vista := testHost("Windows Vista", "Business", "x64", 6002)
	sha2 := PackageFacts{KB: "KB4474419", Architecture: "x64", IsUpdate: true, Genuine: true, SHA1Signed: true, SHA2Signed: true, Version: "6.0.4.1"}
	rollup := PackageFacts{KB: "KB4534303", Architecture: "x64", IsUpdate: true, Genuine: true, SHA2Signed: true}
	tests := []struct {
		name string
		host inventory.Host
		p    PackageFacts
		want string
	}{
		{"not an update package", bare, PackageFacts{Genuine: true}, VerdictUnknown},
		{"not genuine", bare, PackageFacts{IsUpdate: true, KB: "KB4474419"}, NotGenuine},
		{"x86 package on x64", bare, PackageFacts{KB: "KB4474419", Architecture: "x86", IsUpdate: true, Genuine: true}, NotApplicable},
		{"for Server 2008 only, on Vista", vista, PackageFacts{KB: "KB4474419", IsUpdate: true, Genuine: true, Applicability: []string{"Windows Server 2008 SP2"}}, NotApplicable},
		{"installed", withSHA2, sha2, InstalledOrSuperseded},
		{"superseded by an installed update", testHost(server, "Standard", "x64", 6003, "KB4536953"), PackageFacts{KB: "KB4493730", IsUpdate: true, Genuine: true}, InstalledOrSuperseded},
		{"SHA-2 only without SHA-2 support", bare, rollup, FailsSHA2},
		{"SHA-2 only, support installed but not active", sha2Inactive, rollup, FailsSHA2},
		{"SHA-2 only with SHA-2 support", withSHA2, rollup, WillInstall},
		{"re-released: the host has an older package version", old, sha2, WillInstall},
		{"re-released: the host has this version", same, sha2, InstalledOrSuperseded},
		{"installed, no package version in the file", old, PackageFacts{KB: "KB4474419", Architecture: "x64", IsUpdate: true, Genuine: true}, InstalledOrSuperseded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := JudgePackage(tc.host, c, tc.p)
			if v.Verdict != tc.want {
				t.Errorf("verdict %s (%s), want %s", v.Verdict, v.Message, tc.want)
			}
			if v.Message == "" || v.Fact == "" {
				t.Errorf("no message or fact: %+v", v)
			}
		})
	}
}
