package budget

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestBudget(t *testing.T) {
	b := New(nil, "up.cab", 10)
	if err := b.Spend(6); err != nil {
		t.Fatal(err)
	}
	if b.Left() != 4 {
		t.Errorf("left %d", b.Left())
	}
	var ee *ExceededError
	if err := b.Spend(5); !errors.As(err, &ee) || ee.Name != "up.cab" || !strings.Contains(err.Error(), "up.cab inflates to more than 10 bytes") {
		t.Errorf("over budget: %v", err)
	}
	if err := b.Spend(0); err == nil {
		t.Error("a spent budget allowed more")
	}
	var none *Budget
	if none.Spend(1<<40) != nil || none.Left() != -1 || none.Reader(strings.NewReader("x")) == nil {
		t.Error("a nil budget is unlimited")
	}
}

func TestReaderAndContext(t *testing.T) {
	b := New(nil, "in", 5)
	if _, err := io.ReadAll(b.Reader(strings.NewReader("123456"))); err == nil {
		t.Error("6 bytes read on a budget of 5")
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := New(ctx, "in", 100)
	cancel()
	if err := c.Spend(1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
