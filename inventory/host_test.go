package inventory

import (
	"slices"
	"strconv"
	"testing"
)

// TestFinishOrdersHotfixes: Finish sorts the hotfixes by KB number (not as
// text: KB999 before KB1000) and drops repeats, however they were listed.
func TestFinishOrdersHotfixes(t *testing.T) {
	tests := []struct {
		name   string
		listed []string
		want   []string
	}{
		{"by number, not text", []string{"KB1000", "KB999", "KB4012598", "KB955430"}, []string{"KB999", "KB1000", "KB955430", "KB4012598"}},
		{"repeats in other spellings", []string{"kb955430", "KB0955430", "Q955430", "955430", "KB955430-v2"}, []string{"KB955430"}},
		{"equal length", []string{"KB4012598", "KB4012212", "KB4012215"}, []string{"KB4012212", "KB4012215", "KB4012598"}},
		{"none listed, list read", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Host
			h.HotfixesKnown = true
			for _, id := range tt.listed {
				if !h.AddHotfix(id) {
					t.Fatalf("AddHotfix(%q) refused", id)
				}
			}
			h.Finish()
			if !slices.Equal(h.Hotfixes, tt.want) || h.Hotfixes == nil {
				t.Errorf("hotfixes %q, want %q", h.Hotfixes, tt.want)
			}
		})
	}
}

// TestHotfixBound: a hostile input listing more distinct hotfixes than
// MaxHotfixes keeps MaxHotfixes of them, with a warning, and repeats do
// not grow the list past twice the bound while it is read.
func TestHotfixBound(t *testing.T) {
	var h Host
	for i := range 3 * MaxHotfixes {
		h.AddHotfix("KB" + strconv.Itoa(1000000+i%(MaxHotfixes+10)))
		if len(h.Hotfixes) >= 2*MaxHotfixes {
			t.Fatalf("after %d ids the list holds %d", i+1, len(h.Hotfixes))
		}
	}
	h.Finish()
	if len(h.Hotfixes) != MaxHotfixes || h.Hotfixes[0] != "KB1000000" || len(h.Warnings) != 1 {
		t.Errorf("%d hotfixes from %s, warnings %q", len(h.Hotfixes), h.Hotfixes[0], h.Warnings)
	}
	var few Host
	for range 3 * MaxHotfixes {
		few.AddHotfix("KB955430")
	}
	few.Finish()
	if len(few.Hotfixes) != 1 || len(few.Warnings) != 0 {
		t.Errorf("one hotfix repeated: %d hotfixes, warnings %q", len(few.Hotfixes), few.Warnings)
	}
}
