package ver

import (
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

func TestSamples(t *testing.T) {
	h := inventorytest.ReadFile(t, Format{}, inventorytest.Hosts("ver-ru-cp866.txt"))
	inventorytest.Expect(t, h, inventorytest.Want{Format: "ver", SP: 2, Build: 6003, Revision: -1, Hotfixes: -1, InScope: true})
	inventorytest.Golden(t, "ver-ru-cp866", h)
}

// TestBanners: one banner shape a case (any language's word for Version,
// Wine's banner without brackets, a revision).
func TestBanners(t *testing.T) {
	tests := []struct {
		in         string
		build, rev int
		wantErr    bool
	}{
		{"Microsoft Windows [Version 6.0.6002]\r\n", 6002, -1, false},
		{"Microsoft Windows [Versión 6.0.6003]\r\n", 6003, -1, false},
		{"Microsoft Windows [Version 6.0.6003.20489]\r\n", 6003, 20489, false},
		{"Microsoft Windows 6.0.6002\r\n", 6002, -1, false},
		{"\r\nC:\\>ver\r\n\r\nMicrosoft Windows [Version 6.0.6001]\r\n", 6001, -1, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			h, err := inventorytest.ParseBytes(Format{}, "ver", []byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if h.OS.Version == nil || h.OS.Version.Build != tc.build || h.OS.Version.Revision != tc.rev {
				t.Errorf("version %v, want build %d revision %d", h.OS.Version, tc.build, tc.rev)
			}
		})
	}
}
