package assess

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestFindingIDsDocumented: docs/json.md lists every finding id, and the
// list here is sorted and without repeats.
func TestFindingIDsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(FindingIDs) || len(slices.Compact(slices.Clone(FindingIDs))) != len(FindingIDs) {
		t.Error("FindingIDs is not sorted and unique")
	}
	for _, id := range FindingIDs {
		if !strings.Contains(string(doc), "`"+string(id)+"`") {
			t.Errorf("docs/json.md does not list the finding id %s", id)
		}
	}
}
