package catalog

import (
	"fmt"
	"time"
)

// Date is a release date. Day is 0 when a source gives only the month.
type Date struct {
	Year, Month, Day int
}

// ParseDate reads "2019-03-19" or "2019-03".
func ParseDate(s string) (Date, error) {
	if s == "" {
		return Date{}, nil
	}
	layout := "2006-01-02"
	if len(s) == len("2006-01") {
		layout = "2006-01"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not YYYY-MM-DD or YYYY-MM", s)
	}
	d := Date{Year: t.Year(), Month: int(t.Month())}
	if layout == "2006-01-02" {
		d.Day = t.Day()
	}
	return d, nil
}

// DateOf converts a time to a Date.
func DateOf(t time.Time) Date { return Date{t.Year(), int(t.Month()), t.Day()} }

// IsZero reports whether the date is unknown.
func (d Date) IsZero() bool { return d.Year == 0 }

// String renders YYYY-MM-DD, YYYY-MM when only the month is known, or "".
func (d Date) String() string {
	switch {
	case d.IsZero():
		return ""
	case d.Day == 0:
		return fmt.Sprintf("%04d-%02d", d.Year, d.Month)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// YearMonth renders YYYY-MM, or "" for an unknown date.
func (d Date) YearMonth() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d", d.Year, d.Month)
}

// Compare orders dates; a month-only date sorts before every day of its
// month.
func (d Date) Compare(e Date) int {
	for _, x := range [3]int{d.Year - e.Year, d.Month - e.Month, d.Day - e.Day} {
		if x != 0 {
			if x < 0 {
				return -1
			}
			return 1
		}
	}
	return 0
}

// SameMonth reports whether both dates fall in one month.
func (d Date) SameMonth(e Date) bool { return d.Year == e.Year && d.Month == e.Month }
