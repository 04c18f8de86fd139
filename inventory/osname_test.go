package inventory

import "testing"

// TestMangledNames: product names as they arrive after a console, a code
// page or a hand-made paste mangled them. Sources: the ® forms wesng
// handles (PR #78: "Microsoftr", "Serverr"), issue 17's pastes (U+FFFD, "?",
// "r", a cp437 "«" for the byte 0xAE), and the blank losses the issue names.
func TestMangledNames(t *testing.T) {
	tests := []struct{ in, product, edition string }{
		{"Microsoft® Windows Server® 2008 Datacenter", "Windows Server 2008", "Datacenter"},
		{"Microsoft\ufffd Windows Server\ufffd 2008 Datacenter", "Windows Server 2008", "Datacenter"},
		{"Microsoft? Windows Server? 2008 Standard", "Windows Server 2008", "Standard"},
		{"Microsoftr Windows Serverr 2008 Enterprise", "Windows Server 2008", "Enterprise"},
		{"MicrosoftR Windows ServerR 2008 Enterprise", "Windows Server 2008", "Enterprise"},
		{"Microsoft« Windows Server« 2008 Standard", "Windows Server 2008", "Standard"},
		{"Microsoft Windows   Server    2008  Standard ", "Windows Server 2008", "Standard"},
		{"Microsoft Windows Server2008 Standard", "Windows Server 2008", "Standard"},
		{"Microsoft WindowsServer 2008 Web", "Windows Server 2008", "Web"},
		{"Microsoft Windows Server 2008R2 Standard", "Windows Server 2008 R2", "Standard"},
		{"Windows Vista\ufffd Business", "Windows Vista", "Business"},
		{"Windows VistaT Ultimate", "Windows Vista", "Ultimate"},
		{"Microsoft Windows Vista™ Home Premium", "Windows Vista", "Home Premium"},
		{"Microsoft\u00ae Windows Server\u00ae 2008 Standard without Hyper-V", "Windows Server 2008", "Standard"},
	}
	for _, tc := range tests {
		var h Host
		h.ApplyOSName(tc.in)
		if h.OS.Product != tc.product || h.OS.Edition != tc.edition {
			t.Errorf("%q: product %q edition %q, want %q %q (cleaned %q)", tc.in, h.OS.Product, h.OS.Edition, tc.product, tc.edition, CleanOSName(tc.in))
		}
	}
}
