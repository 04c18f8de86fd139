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
		return d.YearMonth()
	}
	var b [10]byte
	d.put(b[:])
	b[7] = '-'
	b[8], b[9] = byte('0'+d.Day/10%10), byte('0'+d.Day%10)
	return string(b[:])
}

// put writes YYYY-MM into b.
func (d Date) put(b []byte) {
	y := d.Year
	for i := 3; i >= 0; i-- {
		b[i] = byte('0' + y%10)
		y /= 10
	}
	b[4] = '-'
	b[5], b[6] = byte('0'+d.Month/10%10), byte('0'+d.Month%10)
}

// YearMonth renders YYYY-MM, or "" for an unknown date.
func (d Date) YearMonth() string {
	if d.IsZero() {
		return ""
	}
	var b [7]byte
	d.put(b[:])
	return string(b[:])
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
